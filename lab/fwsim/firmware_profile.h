#pragma once
// FirmwareProfile: what one "firmware image" of a simulated storage node does to I/O.
//
// An image is a small YAML file in lab/firmware/ (see lab/firmware/README.md): per-operation
// service times, how many operations the node serves at once (its internal service slots, so
// latency grows with load), an optional load knee past which service slows down (the incident's
// surge-only collapse), space overhead per stored file and per byte (the incident's bigger
// internal mail-processing area), how flashing it behaves, and node settings it silently resets.
//
// Thread safety: a plain value.

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace fwcanary::lab {

// The operations whose cost an image sets. Metadata lookups (getattr, readdir, open) are free.
enum class FsOp { kRead, kWrite, kFsync, kCreate, kRename, kUnlink };
inline constexpr std::size_t kFsOpCount = 6;
const char* FsOpName(FsOp op);

struct FirmwareProfile {
  std::string version;      // what `fwsim-node version` prints; equals the image's file stem
  std::string description;  // one line: what this image does
  double flash_seconds = 3;  // how long a flash holds I/O (or keeps the node down)
  bool disruptive = false;   // true: flashing unmounts and reboots (no I/O hold)
  // Non-disruptive flashes as an HA pair does them: a takeover (the flash_seconds hold), the
  // partner serving while the node upgrades, then a giveback (a second, shorter hold). 0: none.
  double giveback_seconds = 0;
  double giveback_after_s = 10;  // normal service between the two holds
  // A takeover that fails I/O instead of holding it: for this long before the hold, the
  // operations in error_ops return EIO at once. 0: none.
  double error_seconds = 0;
  std::vector<FsOp> error_ops = {FsOp::kRead, FsOp::kWrite, FsOp::kFsync};
  bool management_returns = true;  // false: sshd never comes back after the flash (bricked
                                   // management plane; `labctl down` still cleans up)
  std::string reports_version;  // non-empty: what `version` prints instead of `version` (a
                                // flash that comes back on the wrong firmware)
  bool changes_boot_id = true;  // false: the flash keeps the boot id (the reboot did not happen)
  int service_slots = 8;     // operations served at once; more wait (queueing)
  std::array<double, kFsOpCount> base_us{};  // service time per op, by FsOp
  double read_us_per_kib = 0;                // plus this per KiB read
  double write_us_per_kib = 0;               // plus this per KiB written
  double knee_ops_per_s = 0;  // 0: no knee. Past it, service times grow (see ServiceModel)
  double knee_slowdown = 0;   // extra service-time factor per 100% over the knee
  int knee_only = -1;         // an FsOp: the knee slows only that operation; -1: every one
  // The incident's mechanism: service slows as the node's internal space fills. Past
  // fill_start (a share of its capacity in use), service times grow by fill_slowdown x how far
  // from fill_start to full it is. 0: none. Needs a node capacity (labctl up --capacity).
  double fill_start = 0;
  double fill_slowdown = 0;
  uint64_t space_per_file_bytes = 0;  // internal space each stored file costs on top of its data
  double space_bytes_factor = 1.0;    // allocated data bytes x this = space the node uses
  std::map<std::string, std::string> reset_settings;  // node settings this image resets on flash
};

// Loads and validates an image file. Errors name "path:line:col: field 'x'".
Result<FirmwareProfile> LoadFirmwareProfile(const std::string& path);

// The image file for `image`: a path (contains '/') as is, otherwise `dir`/IMAGE.yaml.
std::string ImagePath(const std::string& dir, const std::string& image);

// Help text of the image format (field table).
std::string DescribeFirmwareFormat();
// The same tables as a JSON Schema (lab/firmware/firmware.schema.json is this, written out; a
// test keeps them equal).
nlohmann::json FirmwareImageSchema();

}  // namespace fwcanary::lab
