#pragma once
// WindowStat: one window's value of one metric, and how precisely the window knows it.
//
// Interval samples within a run are autocorrelated (a slow spell lasts several seconds), so
// they are not independent draws. The window is cut into consecutive blocks (batch means); the
// block values' spread, inflated by their lag-1 autocorrelation, estimates the variance of the
// window's value. Ten blocks say little about their own autocorrelation (its estimate has an sd
// of ~0.3, and the inflation (1+r)/(1-r) ranges from 1x to 9x), so the judge pools it over
// every window of the same metric, class and phase (PooledWindowStats): the storage and the
// workload are the same, and the pooled estimate is steady. Tails are computed from the merged
// histograms of a block, never by averaging per-interval percentiles.
//
// Thread safety: pure functions; a PooledWindowStats has one owner.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "harness/judge/metrics.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct WindowStat {
  double value = 0;       // on the metric's scale
  double within_var = 0;  // variance of `value` from inside the window; < 0: unknown
  double within_df = 0;
  double block_lag1 = 0;  // autocorrelation of the block values that inflated within_var
  int intervals = 0;
  double t_begin = 0, t_end = 0;
  std::vector<std::pair<double, double>> blocks;  // (t_begin, value on scale) per block
  bool completion_counts = false;  // MetricDef::completion_counts of the metric measured
  // Microseconds the agent's threads waited for a CPU per completed operation over the window
  // (the records' cpu_run_delay_us); < 0 when the agent could not read it.
  double cpu_delay_per_op_us = -1;
};

// Whether block i of `a` and block i of `b` cover the same stretch of their phase (same interval
// count, block starts within half an interval of each other).
bool BlocksAligned(const WindowStat& a, const WindowStat& b);

// Within-window variance of (b.value - a.value). When the windows' blocks are aligned
// (BlocksAligned), block i of one is paired with block i of the other: with the same seed on
// both sides (the agent's arrivals and sizes are then identical) the shared workload noise
// cancels, and without it the paired variance is just the sum. Returns the variance and sets
// `df`; -1 when unknown. The paired blocks' autocorrelation is the windows' own (pooled), but for
// completion counts the differences' own lag-1 (bias-corrected) is used when it is negative,
// down to -0.5 (increments of a stationary backlog difference): operations that complete
// across a block boundary cancel in the window's total, and treating the differences as
// independent overstated the noise 3x (seen on the lab: the good firmware's identical surge
// throughput "-0% [-4%, +4%]", INCONCLUSIVE on a 5% tolerance).
double PairedWithinVar(const WindowStat& a, const WindowStat& b, double* df);

// Replaces each window's own block autocorrelation by one pooled over all of them (each
// window's blocks centred on its own mean; corrected for the downward bias of short series,
// E[r] ~ rho - (1 + 3 rho) / n, for six blocks or more), and recomputes within_var with it. Windows with fewer than
// three blocks keep what they had.
void PoolBlockAutocorrelation(const std::vector<WindowStat*>& windows);

// Blocks used for a window of n intervals: up to 10, at least 2 intervals each.
int BlockCount(int n);

// Merged latency histograms of one window's blocks for one class, shared by the quantile
// metrics (p50, p99, p999) so each interval's histogram is merged once, not six times.
struct BlockHistograms {
  std::vector<LatencyHistogram> blocks;
  std::vector<double> t_begin;
  LatencyHistogram all;
};
using HistogramCache = std::map<std::pair<const Window*, std::string>, BlockHistograms>;

// The metric over a window (class `cls` for per-class metrics); nullopt when the window has no
// data for it. `cache` (optional) keeps merged histograms between quantile metrics. `skip`
// (optional, one flag per interval): intervals whose latency samples the quantile metrics
// leave out (a stall, harness/judge/stalls.h); the intervals still count for the blocks' time
// spans and for every other metric.
std::optional<WindowStat> MeasureWindow(const MetricDef& m, const Window& w,
                                        const std::string& cls,
                                        HistogramCache* cache = nullptr,
                                        const std::vector<char>* skip = nullptr);

// Per window: the intervals whose latency samples are left out (see MeasureWindow).
using SkipMap = std::map<const Window*, std::vector<char>>;

// Memo of MeasureWindow over a fixed set of runs, with the block autocorrelation pooled per
// (metric, class, phase) over every run's window of that phase: what the judge and calibrate
// measure windows with. The runs must outlive it.
class PooledWindowStats {
 public:
  explicit PooledWindowStats(std::vector<const Run*> runs, const SkipMap* skips = nullptr)
      : runs_(std::move(runs)), skips_(skips) {}
  std::optional<WindowStat> Measure(const MetricDef& m, const Window& w, const std::string& cls);

 private:
  const std::vector<char>* SkipFor(const Window& w) const;

  std::vector<const Run*> runs_;
  const SkipMap* skips_;
  HistogramCache histograms_;
  std::map<std::tuple<const Window*, std::string, std::string>, std::optional<WindowStat>> memo_;
};

}  // namespace fwcanary::judge
