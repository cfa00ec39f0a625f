#include "agents/end_file_watch.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace fwcanary {

namespace {
constexpr auto kPoll = std::chrono::milliseconds(200);
}

struct EndFileWatch::State {
  std::string path;
  std::atomic<bool> seen{false};
  std::atomic<bool> done{false};
};

EndFileWatch::EndFileWatch(std::string path) : state_(std::make_shared<State>()) {
  state_->path = std::move(path);
  std::thread([s = state_] {
    while (!s->done.load()) {
      if (access(s->path.c_str(), F_OK) == 0) {
        unlink(s->path.c_str());
        s->seen = true;
        return;
      }
      std::this_thread::sleep_for(kPoll);
    }
  }).detach();
}

EndFileWatch::~EndFileWatch() { state_->done = true; }

bool EndFileWatch::Seen() const { return state_->seen.load(); }

}  // namespace fwcanary
