#pragma once
// NodeState: what a simulated node remembers across flashes and restarts of fwsim (state.json
// in the node directory): the active and previous firmware, the boot id, how often it flashed.
// NodeSettings: the node's configured settings (settings.conf, "key = value" lines), the thing
// a drift check reads and an image's reset_settings silently puts back.
//
// Saves are atomic (write, fsync, rename) so a crash leaves the old or the new file.
// Thread safety: plain values and free functions.

#include <map>
#include <string>

#include "common/status.h"

namespace fwcanary::lab {

struct NodeState {
  std::string active;    // image version running
  std::string previous;  // image before the last flash ("" if never flashed)
  std::string boot_id;   // changes at every (simulated) boot
  int boots = 0;
  int flashes = 0;
};

// NotFound when the file does not exist (a new node).
Result<NodeState> LoadNodeState(const std::string& path);
Status SaveNodeState(const std::string& path, const NodeState& s);

using NodeSettings = std::map<std::string, std::string>;
Result<NodeSettings> LoadSettings(const std::string& path);
Status SaveSettings(const std::string& path, const NodeSettings& s);

// A fresh random id in the format of /proc/sys/kernel/random/boot_id.
std::string NewBootId();

// Writes `text` to `path` atomically (temp file, fsync, rename).
Status WriteFileAtomic(const std::string& path, const std::string& text);

}  // namespace fwcanary::lab
