#pragma once
// Rollout: one run of a scenario, stage by stage (docs/DESIGN.md, "The rollout"):
//   preflight -> baseline -> for each wave: upgrade under load ("during" window), activation,
//   health + drift, post-upgrade window, judge (canary vs its baseline and vs the targets not
//   yet upgraded) -> next wave, or halt and roll the wave back -> postflight.
// Everything lands in the run directory: run.log, samples/*.jsonl, verdict-wave<N>.json/.txt,
// drift snapshots, result.json.
//
// Not yet here (see the controller issue): the journal and `resume`, the lease lock, parallel
// preflight for large inventories, progress redraw on a terminal.
//
// Thread safety: Run() owns its threads.

#include <string>

#include "harness/scenario/scenario.h"

namespace fwcanary::rollout {

struct RunOptions {
  std::string agent_binary;  // deployed to nodes where `agent_path` does not run
  double during_s = 20;      // the "during upgrade" window: load while the canary flashes
};

// Returns the exit code: 0 pass, 1 regression (rolled back), 2 harness/infrastructure error,
// 3 inconclusive (halted, rolled back, the reason says how much longer to run). The run
// directory is printed on stderr.
int RunScenario(const scenario::Scenario& sc, const RunOptions& o);

}  // namespace fwcanary::rollout
