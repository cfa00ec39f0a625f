#pragma once
// Filesystem space as the storage reports it (statvfs), for the space figures of the records.
//
// statvfs goes to the storage and blocks when the storage does (an array holding I/O during a
// non-disruptive upgrade). FsSpaceSampler calls it on its own thread, so a hung filesystem
// makes the space figures stale, never the interval records late or the phase loop stuck.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "agents/records/records.h"

namespace fwcanary {

// Sets s.fs_used_bytes and s.fs_free_bytes from statvfs(path); leaves them 0 on failure.
// Blocks while the filesystem does.
void FillFilesystemSpace(const std::string& path, SpaceSample& s);

class FsSpaceSampler {
 public:
  // Takes a first sample synchronously, then one every `period` on a background thread.
  FsSpaceSampler(std::string path, std::chrono::milliseconds period);
  // Stops the thread; if it is stuck in statvfs it is detached and exits when the call returns.
  ~FsSpaceSampler();
  FsSpaceSampler(const FsSpaceSampler&) = delete;
  FsSpaceSampler& operator=(const FsSpaceSampler&) = delete;

  // The latest figures (never blocks).
  void Fill(SpaceSample& s) const;
  uint64_t free_bytes() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace fwcanary
