#pragma once
// AgentWindow: the agents of every client node running one workload window at the same time
// (the baseline, a wave's "during upgrade" window, a wave's post-upgrade window), each over its
// own SSH session and thread, their records streamed into the run directory as they arrive
// (samples/<window>-<node>.jsonl), so a crash of the controller loses at most a line.
//
// The agent gets the workload spec on stdin; the node, its work directory (<workdir>/<window>,
// a fresh directory per window so one window's mailboxes do not slow the next) and the seed
// come from the command line. Every node uses the same seed in every window: the same arrivals
// and sizes before and after, which the judge's paired blocks turn into less noise.
//
// Thread safety: Run() starts and joins its own threads.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"

namespace fwcanary::rollout {

struct WindowResult {
  std::map<std::string, std::string> samples;  // node -> samples file
  std::vector<std::string> errors;             // per node: what went wrong (empty: all fine)
};

// Where a run keeps its fill_to filler on a client: a work directory of its own beside the
// windows' (which each window's agent removes), so every window sees the same bytes stored.
// The controller removes it when the run finishes.
std::string FillDir(const scenario::Node& node);

// Runs `spec` on `clients`; calls `during` (if set) on the calling thread `during_delay_s`
// after the agents started, while they run. `log` receives progress lines. When `keep_going`
// (if set) turns false, the agents' sessions are closed at their next record (the agent stops
// on the broken pipe) and the window ends early.
WindowResult RunAgentWindow(const scenario::Scenario& sc,
                            const std::vector<const scenario::Node*>& clients,
                            const std::string& window, const WorkloadSpec& spec,
                            const std::string& run_dir, const std::function<void()>& during,
                            double during_delay_s,
                            const std::function<void(const std::string&)>& log,
                            const std::function<bool()>& keep_going = {});

}  // namespace fwcanary::rollout
