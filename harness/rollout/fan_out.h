#pragma once
// FanOut: run one function per item on at most `limit` threads at once (ssh.concurrency), and
// return when every item is done. 200 nodes at a limit of 32 are 32 threads working through a
// shared queue, not 200 threads or 200 sequential round trips.
//
// Thread safety: `fn` runs concurrently for different items; it must only touch its own item's
// state (or lock).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fwcanary::rollout {

// An exception thrown by `fn` does not end the process (as it would, escaping a thread): the
// other items still run, and the first exception is rethrown here once every thread joined, for
// the caller's own handler (the controller's: journal it, roll the wave back).
template <typename T>
void FanOut(const std::vector<T>& items, int limit, const std::function<void(const T&)>& fn) {
  std::atomic<std::size_t> next{0};
  const std::size_t n = std::min<std::size_t>(items.size(), static_cast<std::size_t>(std::max(limit, 1)));
  std::mutex mu;
  std::exception_ptr first;
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < items.size(); i = next++) {
        try {
          fn(items[i]);
        } catch (...) {
          std::lock_guard lock(mu);
          if (!first) first = std::current_exception();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace fwcanary::rollout
