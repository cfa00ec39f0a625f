#pragma once
// WindowStat: one window's value of one metric, and how precisely the window knows it.
//
// Interval samples within a run are autocorrelated (a slow spell lasts several seconds), so
// they are not independent draws. The window is cut into consecutive blocks (batch means); the
// block values' spread, inflated by their own lag-1 autocorrelation, estimates the variance
// of the window's value. Tails are computed from the merged histograms of a block, never by
// averaging per-interval percentiles.
//
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <vector>

#include "harness/judge/metrics.h"
#include "harness/judge/samples.h"

namespace fwcanary::judge {

struct WindowStat {
  double value = 0;       // on the metric's scale
  double within_var = 0;  // variance of `value` from inside the window; < 0: unknown
  double within_df = 0;
  int intervals = 0;
  double t_begin = 0, t_end = 0;
  std::vector<std::pair<double, double>> blocks;  // (t_begin, value on scale) per block
};

// Blocks used for a window of n intervals: up to 10, at least 2 intervals each.
int BlockCount(int n);

// The metric over a window (class `cls` for per-class metrics); nullopt when the window has no
// data for it.
std::optional<WindowStat> MeasureWindow(const MetricDef& m, const Window& w,
                                        const std::string& cls);

}  // namespace fwcanary::judge
