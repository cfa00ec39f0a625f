#pragma once
// The upgrade window: what the clients saw while a wave flashed (issue 21). Judged on its own,
// in absolute terms, because an upgrade's damage is not a shift of a distribution but an event:
// I/O held for 45 s, errors for a few seconds, a message lost. The after window's relative
// judge never sees it.
//
// Per client, from its agent's open-loop records of the "during" window:
//   longest stall  the longest run of intervals in which operations were due (arrivals, or a
//                  backlog) and none completed, errors included. Its resolution is the agent's
//                  interval (an interval with one completion is not stalled): stated with it.
//   errors         operations that completed with an error, and deliveries refused (452).
//   integrity      lost and corrupt messages (the agent's final sweep) and verify failures.
//   peak backlog   the largest delivery queue depth.
//   recovery       from the end of the longest stall until the throughput (a 3-interval mean)
//                  is back within `recovery_tolerance` of the baseline's, when it is.
// A client of an upgraded target FAILs on a stall beyond the limit, errors beyond theirs, or
// any lost or corrupt message. A stall every control saw too (a control stalled beyond the
// limit, overlapping in time) is the lab's, not the firmware's: INCONCLUSIVE. A client whose
// agent ended with its node's reboot (a disruptive upgrade) is judged on what it recorded
// before; its stall is not judged (a reboot is expected to stop it).
//
// Thread safety: pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/judge/comparison.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct UpgradeLimits {
  double max_stall_s = 15;
  uint64_t max_errors = 0;          // errors + refusals on one client during the window
  double recovery_tolerance = 0.2;  // throughput within this share of the baseline's
};

struct UpgradeClientInput {
  std::string node;
  bool upgraded = false;      // writes to a target of this wave (else: a control)
  const Run* run = nullptr;   // its during-window records; null when none could be read
  std::string load_error;     // why there are none
  bool ended_with_reboot = false;
  double baseline_rate = 0;   // the baseline's median achieved ops/s (0: use the intended rate)
};

struct Stall {
  double seconds = 0;         // intervals with work due and nothing completed, summed
  double t_begin = 0, t_end = 0;
  bool open = false;          // still stalled when the window ended
};

struct UpgradeClient {
  std::string node;
  std::string role;           // "upgraded" | "control"
  bool has_data = false;
  bool ended_with_reboot = false;
  double resolution_s = 0;    // the agent's interval
  Stall longest;
  int stalls = 0;             // stalls of 2 intervals or more
  uint64_t errors = 0, refused = 0, integrity_failures = 0;
  std::map<std::string, uint64_t> failed_by_class;  // errors + refusals per operation class
  std::size_t lost = 0, corrupt = 0;
  uint64_t peak_backlog = 0;
  std::optional<double> recovery_s;  // unset: no stall, or not back by the window's end
  bool recovered = true;             // false: a stall and no recovery within the window
  Verdict verdict = Verdict::kPass;
  std::string finding;               // one sentence, "" when nothing to say
};

struct UpgradeJudgment {
  UpgradeLimits limits;
  std::vector<UpgradeClient> clients;
  Verdict overall = Verdict::kPass;
  std::string reason;  // the first FAIL's (else INCONCLUSIVE's) finding; "" on PASS
};

// The longest stall in `w` (the window's intervals, in time order).
Stall LongestStall(const Window& w, int* count = nullptr);

UpgradeJudgment JudgeUpgradeWindow(const std::vector<UpgradeClientInput>& in,
                                   const UpgradeLimits& limits);

nlohmann::json ToJson(const UpgradeJudgment& u);
// One line per client: "node-1 upgraded  stall 45.0 s (limit 15 s)  errors 0 ..." and the verdict.
std::string RenderUpgradeTable(const UpgradeJudgment& u);

}  // namespace fwcanary::judge
