#pragma once
// Absolute service levels: limits a window must meet whatever the firmware before it did (the
// relative judge passes an upgrade of a baseline that was already too slow). Storage
// validation for mail (Exchange Jetstress is the best known) gates on absolute latencies.
//
// Each limit names a metric (p50, p99, p999, error_rate, throughput), a class and optionally a
// phase; it is judged per client on that client's window with the judge's statistics: the
// window's value and its within-window variance (batch means, the block autocorrelation pooled
// over the runs; harness/judge/window_stat.h) give a one-sided bound at 1 - alpha/checks
// (Bonferroni over every check of the judgment, so that many limits on many clients do not
// FAIL good storage by chance):
//   FAIL          the bound on the good side is still beyond the limit (clearly breaks it);
//   PASS          the bound on the bad side is within the limit (clearly meets it);
//   INCONCLUSIVE  neither: the window is too short or too noisy to tell, or too few blocks.
// Units are the ones people write SLOs in: milliseconds for latencies, percent for the error
// rate, operations per second for throughput (a lower limit: "at least").
//
// Thread safety: pure functions.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/judge/comparison.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct SloLimit {
  std::string metric;  // p50 | p99 | p999 | error_rate | throughput
  std::string cls;     // deliver | retrieve | scan
  std::string phase;   // "" = every phase of the window
  double limit = 0;    // in the SLO's unit (SloUnit)
  bool baseline = false;  // also checked on the baseline, before anything is flashed
};

// The metrics an SLO may name, and its unit ("ms", "%", "ops/s").
bool SloMetric(const std::string& metric);
std::string SloUnit(const std::string& metric);

struct SloCheck {
  std::string node, metric, cls, phase;
  double limit = 0;                     // in the SLO's unit
  double value = 0, good = 0, bad = 0;  // the window's value and its one-sided bounds, SLO unit
  bool bounded = false;                 // false: the window's variance is unknown
  Verdict verdict = Verdict::kInconclusive;
  std::string sentence;
};

struct SloJudgment {
  std::string window;  // "baseline", "wave1", ...: what was judged
  double alpha = 0.01;
  std::vector<SloCheck> checks;
  std::vector<std::string> missing;  // a limit no window of a client had data for
  Verdict overall = Verdict::kPass;
  std::string reason;  // the first FAIL's sentence, else the first INCONCLUSIVE's; "" on PASS
};

// Judges `limits` on every run's windows. `baseline_only`: only the limits with baseline set.
SloJudgment JudgeSlos(const std::vector<SloLimit>& limits, const std::vector<Run>& runs,
                      const std::string& window, double alpha, bool baseline_only = false);

// The relative verdict held to the service levels: a breach FAILs it whatever the baseline did;
// a level that could not be shown holds a PASS at INCONCLUSIVE. `reason` follows the verdict.
void HoldToServiceLevels(const SloJudgment& slo, Verdict* overall, std::string* reason);

nlohmann::json ToJson(const SloJudgment& s);
std::string RenderSloTable(const SloJudgment& s);

}  // namespace fwcanary::judge
