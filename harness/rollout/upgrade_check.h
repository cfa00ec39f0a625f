#pragma once
// UpgradeCheck: a wave's upgrade window judged from its run directory files: who is a client of
// a target being flashed and who a control, their "during" samples, and each client's baseline
// throughput (what "back to baseline" means after a stall). The judging is
// harness/judge/upgrade_window.h; this only gathers its inputs.
//
// Thread safety: a pure function of the files.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness/judge/upgrade_window.h"

namespace fwcanary::rollout {

struct UpgradeCheckInput {
  std::set<std::string> targets;                              // flashed in this wave
  std::vector<std::pair<std::string, std::string>> clients;   // (client, the target it writes to)
  std::map<std::string, std::string> during;                  // client -> during samples
  std::map<std::string, std::string> baseline;                // client -> baseline samples
  std::set<std::string> ended_with_reboot;                    // clients whose agent the reboot ended
  judge::UpgradeLimits limits;
};

judge::UpgradeJudgment CheckUpgradeWindow(const UpgradeCheckInput& in);

}  // namespace fwcanary::rollout
