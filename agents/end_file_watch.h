#pragma once
// EndFileWatch: notices a file appearing (the controller's "end this phase now", see
// Phase::open_ended), without ever blocking the phase loop.
//
// Why a thread: the file is in the work directory, on the storage under test, and a lookup
// there blocks while the storage holds I/O (a firmware upgrade). The watcher polls on its own
// thread; if the lookup hangs when the watch ends, the thread is left to finish on its own.
// Once seen, the file is removed (it is the controller's, and the work directory's cleanup
// keeps a directory with foreign files in it).
//
// Thread safety: Seen() may be called from any thread.

#include <memory>
#include <string>

namespace fwcanary {

class EndFileWatch {
 public:
  explicit EndFileWatch(std::string path);
  ~EndFileWatch();
  EndFileWatch(const EndFileWatch&) = delete;
  EndFileWatch& operator=(const EndFileWatch&) = delete;

  bool Seen() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace fwcanary
