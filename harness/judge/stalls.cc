#include "harness/judge/stalls.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace fwcanary::judge {
namespace {

constexpr int kMinIntervals = 20;
constexpr uint64_t kMinOps = 5;  // an interval's class quartile needs a few operations
constexpr double kQuartile = 0.75;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

WindowStalls FindStalls(const Window& w) {
  WindowStalls out;
  const std::size_t n = w.intervals.size();
  if (n < static_cast<std::size_t>(kMinIntervals)) return out;
  // Per class: each interval's upper quartile, and the window's typical one (the median over
  // intervals: a few stalled seconds do not move it).
  std::map<std::string, std::vector<double>> q;  // class -> per interval (-1: too few ops)
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& [cls, ops] : w.intervals[i].ops) {
      auto& v = q[cls];
      v.resize(n, -1);
      if (ops.hist.count() >= kMinOps) v[i] = ops.hist.Quantile(kQuartile);
    }
  }
  std::map<std::string, double> typical;
  for (const auto& [cls, v] : q) {
    std::vector<double> have;
    for (double x : v) {
      if (x > 0) have.push_back(x);
    }
    if (have.size() >= static_cast<std::size_t>(kMinIntervals) / 2) typical[cls] = Median(have);
  }
  if (typical.empty()) return out;
  // An interval's score: the median class's ratio (the lower middle of two), so one class
  // slow on its own is not a stall.
  std::vector<double> score(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> r;
    for (const auto& [cls, t] : typical) {
      if (q[cls][i] > 0 && t > 0) r.push_back(q[cls][i] / t);
    }
    if (r.empty()) continue;
    std::sort(r.begin(), r.end());
    score[i] = r[(r.size() - 1) / 2];
  }
  bool too_long = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (score[i] < kStallFactor) continue;
    StallSpan s;
    std::size_t j = i;
    while (j + 1 < n && score[j + 1] >= kStallFactor) ++j;
    for (std::size_t k = i; k <= j; ++k) {
      s.seconds += w.intervals[k].dt;
      s.factor = std::max(s.factor, score[k]);
    }
    s.first = i;
    s.last = j;
    // The edges: a stall that began late in one interval or ended early in the next.
    if (s.first > 0 && score[s.first - 1] >= kStallEdgeFactor) --s.first;
    if (s.last + 1 < n && score[s.last + 1] >= kStallEdgeFactor) ++s.last;
    s.t_begin = w.intervals[s.first].t - w.intervals[s.first].dt;
    s.t_end = w.intervals[s.last].t;
    if (s.seconds > kMaxStallS) too_long = true;
    out.spans.push_back(s);
    i = j;
  }
  if (out.spans.empty()) return out;
  std::size_t covered = 0;
  for (const auto& s : out.spans) covered += s.last - s.first + 1;
  out.excised = !too_long && out.spans.size() <= static_cast<std::size_t>(kMaxExcisedSpans) &&
                static_cast<double>(covered) <= kMaxExcisedShare * static_cast<double>(n);
  if (out.excised) {
    out.skip.assign(n, 0);
    for (const auto& s : out.spans) {
      for (std::size_t k = s.first; k <= s.last; ++k) out.skip[k] = 1;
    }
  }
  return out;
}

std::string DescribeStall(const StallSpan& s) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "I/O stalled %.0f s at t=%.0f s (latency x%.0f)", s.seconds,
                s.t_begin, s.factor);
  return buf;
}

}  // namespace fwcanary::judge
