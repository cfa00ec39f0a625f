#pragma once
// Headroom: the load at which a node stops keeping up, before and after the upgrade (issue 22).
// The incident's firmware was fine at weekend load and its capacity had quietly shrunk; the
// first post-holiday surge (about 3x) found it. A relative judge at one load answers "is 3x
// still fine?"; a storage team asks "how much surge can this firmware take, and how much less
// is that than before?".
//
// Each client's ramp (a workload phase with `steps`) gives its knee (agents/records/ramp_knee.h):
// the highest step it kept up with, known to a step. Measured the same way on the baseline and
// after the upgrade, the knees give the headroom before and after. Two rules:
//   - absolute: the candidate's knee must reach the expected surge x (1 + margin), else FAIL
//     ("node-1 keeps up to 2x the steady rate after the upgrade (4x before); the expected surge
//     is 3x"). A ramp whose last step is below that and kept up at every step cannot tell:
//     INCONCLUSIVE;
//   - relative: the candidate's knee divided by its knee before, over the same ratio of the
//     controls (their change in the same windows: a host that got slower for everyone), may
//     fall by at most `tolerance`. A knee is known to a step only, so the default (0.35) lets a
//     one-step move on the usual 1, 1.5, 2, 3, 4, 6 grid pass and a two-step fall FAIL. A
//     censored knee (no knee within the ramp) is a lower bound: a fall from it is at least the
//     ratio to it; no fall is shown when both are censored. The relative rule FAILs only
//     when headroom is critical; otherwise the fall is reported.
//
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/records/ramp_knee.h"
#include "harness/judge/comparison.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct HeadroomConfig {
  double expected_surge = 3;  // multiples of the steady rate the candidate must keep up with
  double margin = 0;          // ... times (1 + margin)
  double tolerance = 0.35;    // the relative fall beyond the controls' that FAILs
  bool critical = true;       // false: the relative fall is reported, not failed
  KneeRule rule;              // the ramp phase's keep_up and latency_factor, the SLOs' p99s
};

struct NodeHeadroom {
  std::string node;
  std::string role;  // "candidate" | "control"
  std::optional<RampKnees> before, after;  // unset: that window had no ramp for this node
  double change = 0;       // after knee / before knee (a bound when censored); 0 = unknown
  Verdict verdict = Verdict::kPass;
  std::string sentence;
};

struct HeadroomJudgment {
  std::string window;  // the after window ("wave1", ...)
  double required = 3;  // expected_surge x (1 + margin)
  double control_change = 1;  // median change of the controls' knees; 1 when none
  std::vector<NodeHeadroom> nodes;
  Verdict overall = Verdict::kPass;
  std::string reason;  // the first FAIL's sentence, else the first INCONCLUSIVE's
};

// The knee as written ("2x", "beyond 6x", "below 1x").
std::string KneeText(const Knee& k, double last_step);

// Judges the candidates' ramps against their baseline ramps, with the controls' change.
// Runs are paired by node name; a node whose window had no ramp is not judged.
HeadroomJudgment JudgeHeadroom(const std::vector<Run>& baseline, const std::vector<Run>& candidate,
                               const std::vector<Run>& control, const HeadroomConfig& cfg, const std::string& window);

// The baseline's knees alone (before anything is flashed): what the report shows for it.
HeadroomJudgment BaselineHeadroom(const std::vector<Run>& baseline, const HeadroomConfig& cfg);

nlohmann::json ToJson(const HeadroomJudgment& h);
std::string RenderHeadroomTable(const HeadroomJudgment& h);

}  // namespace fwcanary::judge
