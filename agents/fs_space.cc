#include "agents/fs_space.h"

#include <sys/statvfs.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace fwcanary {

void FillFilesystemSpace(const std::string& path, SpaceSample& s) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return;
  s.fs_used_bytes = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  s.fs_free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// Shared with the thread, so a detached thread never touches a destroyed sampler.
struct FsSpaceSampler::State {
  std::string path;
  std::chrono::milliseconds period;
  std::atomic<uint64_t> used{0}, free{0};
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // GUARDED_BY(mu)

  void Sample() {
    SpaceSample s;
    FillFilesystemSpace(path, s);
    if (s.fs_used_bytes == 0 && s.fs_free_bytes == 0) return;  // failed: keep the last figures
    used.store(s.fs_used_bytes);
    free.store(s.fs_free_bytes);
  }
};

FsSpaceSampler::FsSpaceSampler(std::string path, std::chrono::milliseconds period)
    : state_(std::make_shared<State>()) {
  state_->path = std::move(path);
  state_->period = period;
  state_->Sample();
  std::thread([st = state_] {
    std::unique_lock lock(st->mu);
    while (!st->cv.wait_for(lock, st->period, [&] { return st->stop; })) {
      lock.unlock();
      st->Sample();
      lock.lock();
    }
  }).detach();
}

FsSpaceSampler::~FsSpaceSampler() {
  std::lock_guard lock(state_->mu);
  state_->stop = true;
  state_->cv.notify_all();
}

void FsSpaceSampler::Fill(SpaceSample& s) const {
  s.fs_used_bytes = state_->used.load();
  s.fs_free_bytes = state_->free.load();
}

uint64_t FsSpaceSampler::free_bytes() const { return state_->free.load(); }

}  // namespace fwcanary
