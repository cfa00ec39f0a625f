#include "harness/judge/window_stat.h"

#include <algorithm>
#include <cmath>

#include "harness/judge/stats.h"

namespace fwcanary::judge {

int BlockCount(int n) { return std::min(10, n / 2); }

namespace {
constexpr double kMaxLag1 = 0.8;  // beyond it, blocks are too short to say anything: 9x
// Increments of a stationary (white) process have lag-1 autocorrelation -0.5: the most that
// completions moving between neighbouring blocks can cancel (variance x1/3).
constexpr double kMinCountLag1 = -0.5;

double BatchVariance(const std::vector<double>& values, double r) {
  return Variance(values) / static_cast<double>(values.size()) * (1 + r) / (1 - r);
}

double OwnLag1(const std::vector<double>& values) {
  return std::clamp(Lag1Autocorrelation(values), 0.0, kMaxLag1);
}

std::vector<double> BlockValues(const WindowStat& s) {
  std::vector<double> v;
  for (const auto& b : s.blocks) v.push_back(b.second);
  return v;
}
}  // namespace

bool BlocksAligned(const WindowStat& a, const WindowStat& b) {
  if (a.blocks.size() < 2 || a.blocks.size() != b.blocks.size() || a.intervals != b.intervals) {
    return false;
  }
  // Block i of one window must cover the same stretch of its phase as block i of the other
  // (times count from each run's start; a block with no data is skipped and shifts the rest).
  const double dt = (a.t_end - a.t_begin) / std::max(a.intervals, 1);
  for (std::size_t i = 0; i < a.blocks.size(); ++i) {
    if (std::abs(a.blocks[i].first - b.blocks[i].first) > dt / 2) return false;
  }
  return true;
}

double PairedWithinVar(const WindowStat& a, const WindowStat& b, double* df) {
  if (BlocksAligned(a, b)) {
    std::vector<double> d;
    for (std::size_t i = 0; i < a.blocks.size(); ++i) {
      d.push_back(b.blocks[i].second - a.blocks[i].second);
    }
    *df = static_cast<double>(d.size() - 1);
    // The difference of two windows' blocks is as autocorrelated as the windows themselves.
    double r = std::max(a.block_lag1, b.block_lag1);
    if (a.completion_counts && b.completion_counts && d.size() >= 6) {
      const double n = static_cast<double>(d.size());
      const double own = (Lag1Autocorrelation(d) + 1 / n) / (1 - 3 / n);  // E[r] ~ rho - (1+3rho)/n
      if (own < 0) r = std::max(own, kMinCountLag1);
    }
    return BatchVariance(d, r);
  }
  if (a.within_var < 0 || b.within_var < 0) {
    *df = 0;
    return -1;
  }
  *df = a.within_df + b.within_df;
  return a.within_var + b.within_var;
}

namespace {

const BlockHistograms& Histograms(const Window& w, const std::string& cls, HistogramCache* cache,
                                  BlockHistograms* local, const std::vector<char>* skip) {
  BlockHistograms* h = local;
  if (cache != nullptr) {
    auto [it, fresh] = cache->try_emplace({&w, cls});
    if (!fresh) return it->second;
    h = &it->second;
  }
  const int n = static_cast<int>(w.intervals.size());
  const int blocks = BlockCount(n);
  for (int b = 0; b < std::max(blocks, 1); ++b) {
    std::size_t lo = blocks < 2 ? 0 : static_cast<std::size_t>(n * b / blocks);
    std::size_t hi = blocks < 2 ? w.intervals.size() : static_cast<std::size_t>(n * (b + 1) / blocks);
    LatencyHistogram bh;
    for (std::size_t i = lo; i < hi; ++i) {
      if (skip != nullptr && i < skip->size() && (*skip)[i] != 0) continue;
      auto it = w.intervals[i].ops.find(cls);
      if (it != w.intervals[i].ops.end()) bh.Merge(it->second.hist);
    }
    h->all.Merge(bh);
    h->t_begin.push_back(w.intervals[lo].t - w.intervals[lo].dt);
    h->blocks.push_back(std::move(bh));
  }
  if (blocks < 2) h->blocks.clear();
  return *h;
}

double CpuDelayPerOp(const Window& w) {
  double delay = 0, ops = 0;
  for (const auto& r : w.intervals) {
    if (r.cpu_run_delay_us < 0) return -1;  // one unmeasured interval: the mean would mislead
    delay += r.cpu_run_delay_us;
    for (const auto& [cls, st] : r.ops) ops += static_cast<double>(st.count);
  }
  return ops > 0 ? delay / ops : -1;
}

std::optional<WindowStat> MeasureValue(const MetricDef& m, const Window& w, const std::string& cls,
                                       HistogramCache* cache, const std::vector<char>* skip) {
  WindowStat s;
  s.completion_counts = m.completion_counts;
  if (m.quantile >= 0 && !w.intervals.empty()) {
    BlockHistograms local;
    const BlockHistograms& h = Histograms(w, cls, cache, &local, skip);
    if (h.all.count() == 0) return std::nullopt;
    s.value = ToScale(m.scale, h.all.Quantile(m.quantile));
    s.intervals = static_cast<int>(w.intervals.size());
    s.t_begin = w.intervals.front().t - w.intervals.front().dt;
    s.t_end = w.intervals.back().t;
    std::vector<double> values;
    for (std::size_t b = 0; b < h.blocks.size(); ++b) {
      if (h.blocks[b].count() == 0) continue;
      double x = ToScale(m.scale, h.blocks[b].Quantile(m.quantile));
      values.push_back(x);
      s.blocks.push_back({h.t_begin[b], x});
    }
    if (values.size() < 2) {
      s.within_var = -1;
      return s;
    }
    s.block_lag1 = OwnLag1(values);
    s.within_var = BatchVariance(values, s.block_lag1);
    s.within_df = static_cast<double>(values.size() - 1);
    return s;
  }
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
  s.block_lag1 = OwnLag1(values);
  s.within_var = BatchVariance(values, s.block_lag1);
  s.within_df = static_cast<double>(values.size() - 1);
  return s;
}

}  // namespace

std::optional<WindowStat> MeasureWindow(const MetricDef& m, const Window& w,
                                        const std::string& cls, HistogramCache* cache,
                                        const std::vector<char>* skip) {
  std::optional<WindowStat> s = MeasureValue(m, w, cls, cache, skip);
  if (s) s->cpu_delay_per_op_us = CpuDelayPerOp(w);
  return s;
}

void PoolBlockAutocorrelation(const std::vector<WindowStat*>& windows) {
  double num = 0, den = 0, blocks = 0, series = 0;
  for (const WindowStat* s : windows) {
    if (s->blocks.size() < 3) continue;
    std::vector<double> v = BlockValues(*s);
    double mean = Mean(v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      den += (v[i] - mean) * (v[i] - mean);
      if (i + 1 < v.size()) num += (v[i] - mean) * (v[i + 1] - mean);
    }
    blocks += static_cast<double>(v.size());
    series += 1;
  }
  if (series == 0 || den <= 0) return;
  const double n = blocks / series;  // blocks per window
  const double raw = num / den;
  // The bias correction divides by 1 - 3/n: meaningless for windows of a few blocks (a short
  // phase), where it would blow up; there the raw estimate is used.
  const double corrected = n >= 6 ? (raw + 1 / n) / (1 - 3 / n) : raw;
  const double r = std::clamp(corrected, 0.0, kMaxLag1);
  for (WindowStat* s : windows) {
    if (s->blocks.size() < 3) continue;
    s->block_lag1 = r;
    s->within_var = BatchVariance(BlockValues(*s), r);
  }
}

std::optional<WindowStat> PooledWindowStats::Measure(const MetricDef& m, const Window& w,
                                                     const std::string& cls) {
  auto key = std::make_tuple(&w, m.name, cls);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  // First use of this (metric, class, phase): measure it in every run, then pool.
  std::vector<WindowStat*> pool;
  for (const Run* r : runs_) {
    for (const auto& rw : r->windows) {
      if (rw.phase != w.phase) continue;
      auto [it, fresh] = memo_.try_emplace(std::make_tuple(&rw, m.name, cls),
                                           MeasureWindow(m, rw, cls, &histograms_, SkipFor(rw)));
      if (fresh && it->second) pool.push_back(&*it->second);
    }
  }
  PoolBlockAutocorrelation(pool);
  auto [it, fresh] = memo_.try_emplace(key, std::nullopt);
  if (fresh) it->second = MeasureWindow(m, w, cls, &histograms_, SkipFor(w));  // outside the runs
  return it->second;
}

const std::vector<char>* PooledWindowStats::SkipFor(const Window& w) const {
  if (skips_ == nullptr) return nullptr;
  auto it = skips_->find(&w);
  return it == skips_->end() ? nullptr : &it->second;
}

}  // namespace fwcanary::judge
