#pragma once
// Comparison: one metric, candidate windows against reference windows, as an effect with a
// confidence interval, a one-sided p-value and a provisional verdict.
//
// Runs and nodes are the replicates. With two or more windows per side the spread between
// windows is measured (Welch, floored by the windows' own within-run noise). With one window on
// a side the run-to-run part cannot be measured: the metric's assumed run-to-run noise (or a
// calibrated one) is added and the comparison says so, which usually makes a single run
// INCONCLUSIVE unless the effect is large: what one run can show, and no more.
// In prediction mode (a canary against k control nodes in the same time window) the canary is
// one more draw from the controls' distribution: variance S^2 (1 + 1/k).
//
// Verdict rule (non-inferiority): PASS when the one-sided upper confidence bound of the
// worsening is below the tolerance; FAIL candidate when the estimated worsening is beyond the
// tolerance (the judge then requires it to be significant after Benjamini-Hochberg);
// INCONCLUSIVE otherwise.
//
// Thread safety: pure functions.

#include <string>
#include <vector>

#include "harness/judge/metrics.h"
#include "harness/judge/window_stat.h"

namespace fwcanary::judge {

enum class Verdict { kPass, kFail, kInconclusive };
const char* VerdictName(Verdict v);
// Folds one finding into an overall verdict: the worst wins (FAIL over INCONCLUSIVE over PASS),
// and the first finding of the worst gives the reason (an earlier one of the same kind keeps it).
void FoldVerdict(Verdict v, const std::string& why, Verdict* overall, std::string* reason);

struct CompareOptions {
  double tolerance = 0;         // on the metric's scale (log(1 + t) for log scales)
  double confidence = 0.95;     // one-sided, for the PASS bound and the reported interval
  double alpha = 0.01;          // for the detectable effect (the judge applies it after BH)
  double prior_run_noise = 0;   // sd of run-to-run differences assumed when not measurable
  // Run-to-run variance of one window difference beyond its within-window noise, measured on
  // control nodes (their candidate minus baseline windows); < 0 when not measured.
  double run_var = -1;
  double run_var_df = 0;
  bool prediction = false;      // cand is one node judged against a group of control nodes
  // When the run-to-run noise is assumed: its sd grows by this much per unit of difference in
  // CpuDelayShift between the sides (CpuDelayNoise), when both were measured.
  double cpu_delay_noise = 0;
};

// What control nodes that ran both windows say: their candidate-minus-baseline differences.
struct ControlDiffs {
  std::vector<std::string> nodes;  // which control node each difference is from
  std::vector<double> d;       // per control node, on the metric's scale
  std::vector<double> within;  // per control node: within-window variance of its difference
  // Run-to-run variance pooled over the metric's phases and classes (more degrees of freedom
  // than one group of k controls gives); < 0: estimate from this group alone.
  double pooled_run_var = -1;
  double pooled_run_df = 0;
};
// The run-to-run variance of one node's window difference beyond the shift every node saw,
// pooled over the groups (phases x classes) of one metric, with honest degrees of freedom.
// Most of a run's offset is host-wide (a node's run is slower in every class and phase at
// once), so the groups are not independent: pooling their k - 1 degrees of freedom each as if
// they were claimed 6 where there were 1-2, and a variance that came out small by chance
// false-FAILed good firmware (issue 19: 2-9% of A/A judgments). Two-way variance components
// instead: a node part shared by the node's groups (k - 1 df) and a residual part
// ((k - 1)(G - 1) df); the df of their sum by Satterthwaite, between k - 1 (all host-wide)
// and (k - 1) G (all per group).
struct RunVariance {
  double var = -1;        // < 0: not measured (fewer than two controls in every group)
  double df = 0;
  double node_share = 0;  // share of the run-to-run variance that is node-wide
};
RunVariance PoolRunVariance(const std::vector<ControlDiffs>& groups);

// Two independent estimates of one variance, weighted by their degrees of freedom.
RunVariance CombineRunVariance(const RunVariance& a, const RunVariance& b);

// Run-to-run variance of a difference beyond within noise (method of moments), and its df.
// REQUIRES: at least two controls, or a pooled_run_var.
void RunVarianceFromControls(const ControlDiffs& k, double* var, double* df);

struct Comparison {
  bool available = false;
  double effect = 0;  // candidate - reference on the metric's scale
  double se = 0;
  double df = 0;
  double lo = 0, hi = 0;  // one-sided `confidence` bounds each (a two-sided 2c-1 interval)
  double p = 1;           // one-sided, H1: the candidate is worse
  double mde = 0;         // worsening detectable at alpha with 80% power, on the scale
  bool noise_assumed = false;
  // The sides' wait for a CPU per operation (us), when the assumed noise was widened by it.
  bool noise_widened = false;
  double cpu_delay_ref_us = -1, cpu_delay_cand_us = -1;
  // Share of the variance that is run-to-run noise: a longer run does not shrink it, only more
  // runs or more control nodes do (what an INCONCLUSIVE's advice must say).
  double run_share = 0;
  int n_ref = 0, n_cand = 0;
  Verdict provisional = Verdict::kInconclusive;
};

Comparison Compare(const MetricDef& m, const std::vector<WindowStat>& ref,
                   const std::vector<WindowStat>& cand, const CompareOptions& o);

// Difference in differences: (cand - ref) of the canary against the controls' mean difference,
// which removes both the canary node's own offset and any shift all nodes saw (time of day, a
// noisy neighbour). REQUIRES: one window on each side, and k.d.size() >= 2 or (one control)
// k.pooled_run_var >= 0.
Comparison CompareDiD(const MetricDef& m, const WindowStat& ref, const WindowStat& cand,
                      const ControlDiffs& k, const CompareOptions& o);

// The tolerance given as a user sees it (0.10 = +10%, or absolute) on the metric's scale.
double ToleranceOnScale(const MetricDef& m, double tolerance);

}  // namespace fwcanary::judge
