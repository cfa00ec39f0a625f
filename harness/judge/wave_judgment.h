#pragma once
// WaveJudgment: what a rollout wave is judged against, decided from what the run knows, with
// no lab, no files and no clock: which clients are the candidates, which are the controls,
// which window is the reference, the judge's configuration, and the noise carried to the next
// wave. The controller (harness/rollout/rollout.cc) loads the files it names and calls Judge.
//
// The rules (harness/judge/README.md, "Control nodes"):
//   - candidates: the clients of this wave's targets, their post-upgrade window;
//   - controls: the clients of targets still on the old firmware, the same time window;
//   - reference: the first baseline, except for a wave that leaves no node on the old firmware
//     (a rollout's last): it is judged against the previous wave's post-upgrade window, where
//     its targets still ran the old firmware, with the nodes upgraded before it as controls
//     (their firmware did not change between the two windows: their difference is the shift
//     every node saw). Judged against the first baseline alone, a shift of the shared host
//     since then (on the lab, 2x in surge latency) is blamed on the firmware or drowns it;
//   - noise: the run-to-run variance the controls of a wave measured is carried to the next,
//     unless the wave was judged against the previous wave's window (its controls are nodes on
//     the new firmware, measured once already).
//
// Thread safety: pure functions.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness/judge/judge.h"

namespace fwcanary::judge {

// The noise one wave hands the next (journaled with the wave's verdict, so a resumed run
// carries it too).
struct CarriedNoise {
  std::map<std::string, double> run_noise;                           // by metric, one-vs-one
  std::map<std::string, std::pair<double, double>> control_run_var;  // by metric: (var, df)
};

struct WaveContext {
  std::set<std::string> targets;          // this wave's targets
  std::set<std::string> upgraded_before;  // targets of earlier waves, now on the new firmware
  std::set<std::string> all_targets;      // every target of the inventory
  // Every client, in inventory order, and the target it writes to.
  std::vector<std::pair<std::string, std::string>> clients;
  std::map<std::string, std::string> baseline;        // client -> baseline samples file
  std::map<std::string, std::string> after;           // client -> this wave's after window
  std::map<std::string, std::string> previous_after;  // client -> the previous wave's, or {}
  std::string previous_window;                        // "wave1", or "" before any
  CarriedNoise carried;
  // The scenario's gate.
  std::map<std::string, double> tolerances;
  std::vector<std::string> critical;
  double alpha = 0.01;
  double pass_score = 95, fail_below_score = 75;
};

struct WaveJudgment {
  std::vector<std::string> baseline_files, candidate_files, control_files;
  std::set<std::string> controls;      // target names
  std::string reference = "baseline";  // or the previous wave's name
  bool rolling = false;                // judged against the previous wave's window
  JudgeConfig config;
  // Every client's role in this wave's windows, as judged: "canary" (a candidate), "control",
  // or "upgraded" (on the new firmware since an earlier wave, not a control here). The report
  // draws its series by these, so it shows what the judge compared.
  std::map<std::string, std::string> roles;
  std::vector<std::string> errors;  // a candidate or control client with no window recorded
};

WaveJudgment PlanWaveJudgment(const WaveContext& ctx);

// What the next wave carries after this one was judged: the control variance it measured
// (unless it was a rolling judgment), and the one-vs-one noise from its controls' baseline and
// candidate windows paired by node.
CarriedNoise CarryNoise(const WaveJudgment& plan, const JudgeInput& in, const JudgeResult& result,
                        const CarriedNoise& before);

}  // namespace fwcanary::judge
