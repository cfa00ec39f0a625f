#pragma once
// Judge: from samples to verdicts. The one function the controller and `fwcanary compare` call.
//
// For every node of the candidate, every phase, every operation class and every metric of the
// table (harness/judge/metrics.h), the candidate is compared with its own baseline and, when
// control nodes ran in the same time window, with them. A metric FAILs only when every
// available comparison finds it worse beyond the tolerance and the worsening is significant
// after Benjamini-Hochberg across all metrics x nodes x phases (so a noisy neighbour or a
// time-of-day shift that also moved the baseline or the controls is not blamed on the
// firmware). It PASSes when the best-controlled comparison shows it within tolerance with
// confidence: the difference in differences against control nodes that ran both windows
// (their spread also measures the run-to-run noise), else every available comparison.
// Lost or corrupt messages FAIL at once; a critical metric with no data in the candidate FAILs.
// Short I/O stalls (harness/judge/stalls.h) are listed, left out of the latency metrics, and
// judged on their own: the canary stalling more often than every other window is a FAIL.
//
// Overall: FAIL if an integrity check or a critical metric fails, or if the score (100 x
// (PASS + INCONCLUSIVE/2) / judged, weighted 2 for critical metrics) is below fail_below_score;
// INCONCLUSIVE if a critical metric is inconclusive or the score is below pass_score; PASS
// otherwise. Deterministic: no random numbers, the same input gives the same bytes.
//
// Thread safety: pure function.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/judge/comparison.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

// The run length the judge's error rates are measured and promised at (harness/judge/README.md
// "Measured", bench/judge): a 900 s steady phase and a 600 s surge. On the judge's model of a
// noisy rack an A/A run is INCONCLUSIVE overall at most ~10% of the time there, and ~17% at
// 600 s + 300 s; shorter phases are as safe (a regression at the tolerance passes ~5-7% of
// the time at any length) but say "run longer" more often. `fwcanary plan` notes a scenario whose
// timed phases are shorter.
inline constexpr double kDefaultSteadyS = 900;
inline constexpr double kDefaultSurgeS = 600;

struct JudgeConfig {
  // By metric name ("p99"), or narrower: "deliver.p99" (one class), "p99.surge" (one phase),
  // "deliver.p99.surge"; the narrowest given applies (ToleranceFor), else the table's default.
  std::map<std::string, double> tolerances;
  std::map<std::string, double> run_noise;    // by metric name: calibrated run-to-run noise
  // By metric name: the run-to-run variance of one node's window difference beyond the shift
  // every node saw, and its degrees of freedom, measured on the control nodes of an earlier
  // judgment (JudgeResult::control_run_var). With it a single control node is enough for the
  // difference in differences: a rollout's last wave has only the nodes upgraded before it.
  std::map<std::string, std::pair<double, double>> control_run_var;
  // Which metrics are critical (for deliver and retrieve, or per node); empty: the table's.
  std::vector<std::string> critical;
  // What the baseline side is called in the sentences: a rollout's last wave is judged against
  // the previous wave's window ("wave1's window"), and saying "vs baseline" there would mislead.
  std::string baseline_name = "baseline";
  double alpha = 0.01;        // false-discovery rate for FAILs (Benjamini-Hochberg)
  double confidence = 0.95;   // one-sided, for PASS and the reported intervals
  double pass_score = 95;
  double fail_below_score = 75;
};

// The tolerance of metric `m` for class `cls` ("" for per-node metrics) in `phase`, as given,
// on the metric's own scale (0.10 = +10%): "cls.metric.phase", "cls.metric", "metric.phase",
// "metric", else the table's default.
double ToleranceFor(const JudgeConfig& cfg, const MetricDef& m, const std::string& cls, const std::string& phase);

struct MetricVerdict {
  std::string node, phase, cls, metric;  // cls "" for per-node metrics
  bool critical = false;
  Verdict verdict = Verdict::kInconclusive;
  Comparison vs_baseline, vs_control;
  bool vs_control_is_did = false;  // vs_control is a difference in differences
  double p_adjusted = 1;
  std::string window;    // the time span that drove it ("t=40-46s")
  // Latency metrics of a node whose windows had short stalls left out: the effect vs baseline
  // with them in (the verdict is judged without them).
  std::optional<double> with_stalls;
  std::string sentence;  // one plain sentence of evidence
};

struct JudgeResult {
  Verdict overall = Verdict::kInconclusive;
  double score = 0;
  std::string reason;  // the sentence behind the overall verdict
  std::vector<MetricVerdict> metrics;
  std::vector<std::string> integrity;  // one line per run with lost or corrupt messages
  std::vector<std::string> notes;      // honesty: assumed noise, missing data, agent errors
  // One line per short stall found in any window ("candidate node-1: I/O stalled 2 s at
  // t=475 s (latency x23) in the surge window; latency judged without it").
  std::vector<std::string> stalls;
  // What two or more control nodes measured: per metric, the run-to-run variance of a
  // difference beyond the common shift, pooled over phases and classes, and its df.
  std::map<std::string, std::pair<double, double>> control_run_var;
};

struct JudgeInput {
  std::vector<Run> baseline;
  std::vector<Run> candidate;
  std::vector<Run> control;  // other nodes, same time window as the candidate
};

JudgeResult Judge(const JudgeInput& in, const JudgeConfig& cfg);

// Exit code for an overall verdict: 0 PASS, 1 FAIL, 3 INCONCLUSIVE.
int ExitCodeFor(Verdict v);

}  // namespace fwcanary::judge
