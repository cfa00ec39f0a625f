#pragma once
// The metrics the judge knows, as one table (name, what it is measured over, direction, scale,
// default tolerance, whether it is critical, and the run-to-run noise assumed when it cannot be
// measured). tolerances in a scenario override the defaults by metric name.
//
// Scales: kLog compares ratios (effects are reported as +x%), kLog1p compares (1 + value)
// ratios for counts that are often 0 (queue depth, drain seconds), kAbsolute compares
// differences (error rate, in fractions: 0.001 = 0.1 percentage points).
//
// Thread safety: the table is immutable.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agents/records/records.h"

namespace fwcanary::judge {

enum class Direction { kHigherIsWorse, kLowerIsWorse };
enum class Scale { kLog, kLog1p, kAbsolute };

using IntervalSpan = std::vector<const IntervalRecord*>;

struct MetricDef {
  std::string name;
  bool per_class;  // measured per operation class (deliver, retrieve, scan), else per node
  Direction direction;
  Scale scale;
  double tolerance;        // a regression beyond this matters (on the metric's scale, see above)
  bool critical;           // a FAIL fails the whole verdict (per-class: deliver/retrieve only)
  double prior_run_noise;  // assumed sd of run-to-run differences on the transformed scale
  std::string unit;        // for sentences: "ops/s", "us", "B", ...
  // The metric over a span of intervals; nullopt when the span holds no data for it. Null for
  // window-level metrics (drain_time), which have one value per window.
  std::function<std::optional<double>(const IntervalSpan&, const std::string& cls)> over;
  std::string help;
  double quantile = -1;  // latency quantiles: which one (the judge shares merged histograms)
  // Counts of completed operations per block (throughput, bytes/s). In an open loop with the
  // same arrivals on both sides, an operation that completes just after a block boundary in one
  // run and just before it in the other moves one count between neighbouring blocks: the paired
  // block differences are negatively correlated and largely cancel over the window.
  bool completion_counts = false;
  // Not measured per window: judged from the stalls found in every window (harness/judge/
  // stalls.h); the value is the canary's stall rate against the other windows' (a ratio).
  bool events = false;
};

const std::vector<MetricDef>& Metrics();
// How far a latency quantile moves between two runs of the same storage per unit of difference
// in CpuDelayShift (the agent's own wait for a CPU, IntervalRecord::cpu_run_delay_us): the sd
// on the metric's scale; 0 for metrics a busy client does not move (throughput in an open
// loop, errors, space). The judge adds it to the run-to-run noise it has to assume (one run
// per side, no controls).
double CpuDelayNoise(const MetricDef& m);
// ln(1 + delay per operation / the latency): how much a wait for a CPU of `delay_us` per
// operation could move a latency of `latency_us`, on the log scale.
double CpuDelayShift(double delay_us, double latency_us);
const MetricDef* FindMetric(const std::string& name);

// value -> the metric's comparison scale, and back.
double ToScale(Scale s, double v);
double FromScale(Scale s, double x);

// The classes judged per class, and which of them are critical.
bool IsCriticalClass(const std::string& cls);
bool IsOperationClass(const std::string& cls);  // deliver, retrieve, scan

}  // namespace fwcanary::judge
