#include "harness/judge/window_stat.h"

#include <algorithm>

#include "harness/judge/stats.h"

namespace fwcanary::judge {

int BlockCount(int n) { return std::min(10, n / 2); }

std::optional<WindowStat> MeasureWindow(const MetricDef& m, const Window& w,
                                        const std::string& cls) {
  WindowStat s;
  if (m.over == nullptr) {  // window-level metric: drain_time
    if (!w.drain || !w.drain_time_s) return std::nullopt;
    s.value = ToScale(m.scale, *w.drain_time_s);
    s.within_var = -1;
    s.intervals = static_cast<int>(w.intervals.size());
    if (!w.intervals.empty()) {
      s.t_begin = w.intervals.front().t - w.intervals.front().dt;
      s.t_end = w.intervals.back().t;
    }
    return s;
  }
  IntervalSpan all;
  for (const auto& r : w.intervals) all.push_back(&r);
  if (all.empty()) return std::nullopt;
  std::optional<double> v = m.over(all, cls);
  if (!v) return std::nullopt;
  s.value = ToScale(m.scale, *v);
  s.intervals = static_cast<int>(all.size());
  s.t_begin = all.front()->t - all.front()->dt;
  s.t_end = all.back()->t;
  const int blocks = BlockCount(s.intervals);
  if (blocks < 2) {
    s.within_var = -1;
    return s;
  }
  std::vector<double> values;
  for (int b = 0; b < blocks; ++b) {
    std::size_t lo = all.size() * static_cast<std::size_t>(b) / static_cast<std::size_t>(blocks);
    std::size_t hi =
        all.size() * static_cast<std::size_t>(b + 1) / static_cast<std::size_t>(blocks);
    IntervalSpan span(all.begin() + static_cast<std::ptrdiff_t>(lo),
                      all.begin() + static_cast<std::ptrdiff_t>(hi));
    std::optional<double> bv = m.over(span, cls);
    // A block with no data for the metric (no operations of the class at all) says the class
    // stalled: for throughput that is 0, for a latency it is unknown and the block is skipped.
    if (!bv) continue;
    double x = ToScale(m.scale, *bv);
    values.push_back(x);
    s.blocks.push_back({span.front()->t - span.front()->dt, x});
  }
  if (values.size() < 2) {
    s.within_var = -1;
    return s;
  }
  double r = std::clamp(Lag1Autocorrelation(values), 0.0, 0.8);
  s.within_var = Variance(values) / static_cast<double>(values.size()) * (1 + r) / (1 - r);
  s.within_df = static_cast<double>(values.size() - 1);
  return s;
}

}  // namespace fwcanary::judge
