#pragma once
// Rollout: one run of a scenario, stage by stage (DESIGN.md, "The rollout"):
//   leases -> preflight -> baseline -> for each wave: upgrade under load ("during" window),
//   activation, health + drift, post-upgrade window, judge (canary vs its baseline and vs the
//   targets not yet upgraded) -> next wave, or halt and roll the wave back -> postflight.
// Every state change goes to the journal (journal.h) before it is acted on, so a run killed at
// any point is continued by ResumeRun: finished steps are not repeated, a window that was cut
// short is run again under a new name, and a node is never flashed twice (its journal state
// and its version are read first). Everything lands in the run directory: journal.db, run.log,
// samples/*.jsonl, verdict-wave<N>.json/.txt, drift snapshots, result.json.
//
// Thread safety: RunScenario/ResumeRun own their threads. RequestStop is async-signal-safe.

#include <string>

#include "harness/scenario/scenario.h"

namespace fwcanary::rollout {

struct RunOptions {
  std::string agent_binary;  // deployed to nodes where `agent_path` does not run
  double during_s = 20;      // the "during upgrade" window: load while a wave flashes
  bool tty = false;          // redraw a status line (stderr is a terminal)
};

// What the run was started from, kept in the journal so that `resume` loads the same thing.
struct RunSource {
  std::string scenario_path;
  scenario::LoadOverrides overrides;
  std::string reports_dir;  // --runs; empty: the scenario's reports.dir
};

// Returns the exit code: 0 pass, 1 regression (rolled back), 2 harness/infrastructure error or
// stopped (resume it), 3 inconclusive (halted, rolled back, the reason says how much longer to
// run). The run directory is printed on stderr.
int RunScenario(const scenario::Scenario& sc, const RunSource& src, const RunOptions& o);

// Continues the run in `run_dir` (after the controller was killed or stopped). Refuses when
// the scenario or inventory now resolve to a different plan. A finished run is not repeated:
// its recorded result is returned.
int ResumeRun(const std::string& run_dir, const RunOptions& o);

// Asks a running rollout to stop at the next safe point: agents stopped, no new flash started,
// journal consistent. Called from a SIGINT/SIGTERM handler.
void RequestStop();
bool StopRequested();

}  // namespace fwcanary::rollout
