#pragma once
// WorkDir: the one directory an agent may write in, and the proof that it may.
//
// Safety rule: the agent writes only under a work directory that it created (and marked with
// kMarkerName) or that already carries that marker; an existing empty directory (a fresh mount
// point) is adopted and marked. Any other non-empty directory is refused, so a typo in a path
// can never make the agent scribble over, or clean up, somebody's data.
//
// Cleanup() removes only entries whose names match what agents write (queue files, Maildir
// files, fio's files, the fill_to filler, the manifest), then the agent's directories if they are empty, the
// marker, and the directory itself if this agent created it. Anything else is left in place
// and listed, so a foreign file found inside is never deleted.

#include <string>
#include <vector>

#include "common/status.h"

namespace fwcanary {

class WorkDir {
 public:
  static constexpr const char* kMarkerName = ".fwcanary-workdir";

  // Creates `path` (one level; the parent must exist) or opens an empty or marked one.
  // Refused if it is non-empty without the marker, is a symlink, or is not a directory.
  static Result<WorkDir> Open(const std::string& path);

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }
  // Creates `rel` (and its parents below path()) as real directories; refuses symlinks.
  Status MakeDirs(const std::string& rel) const;

  // See the class comment. `left` receives paths that were not removed (foreign files).
  Status Cleanup(std::vector<std::string>* left) const;

 private:
  std::string path_;
  bool created_dir_ = false;  // recorded in the marker: this agent family made the directory
};

// True for a file name that an agent writes (for Cleanup and for adopting stored mail).
bool IsAgentQueueFileName(const std::string& name);
bool IsAgentMaildirFileName(const std::string& name);
bool IsAgentFioFileName(const std::string& name);
bool IsAgentFillFileName(const std::string& name);  // agents/workdir_fill.h

}  // namespace fwcanary
