#include "harness/judge/slo.h"

#include <cmath>
#include <cstdio>

#include "harness/judge/metrics.h"
#include "harness/judge/stats.h"
#include "harness/judge/window_stat.h"

namespace fwcanary::judge {
namespace {

// SLO unit -> the metric's own unit (latencies are recorded in us, error rates as fractions).
double ToMetricUnit(const std::string& metric, double v) {
  if (metric == "error_rate") return v / 100;
  if (metric == "throughput") return v;
  return v * 1000;
}

double FromMetricUnit(const std::string& metric, double v) {
  if (metric == "error_rate") return v * 100;
  if (metric == "throughput") return v;
  return v / 1000;
}

std::string Num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, std::fabs(v) >= 1000 ? "%.0f" : "%.3g", v);
  return b;
}

struct Measured {
  SloCheck check;
  WindowStat stat;
  const MetricDef* def = nullptr;
  const Window* window = nullptr;
};

// The share of operations a latency quantile lets be slower than its limit: p99 -> 1%.
double AllowedAbove(const std::string& metric) {
  if (metric == "p50") return 0.5;
  if (metric == "p99") return 0.01;
  if (metric == "p999") return 0.001;
  return -1;  // not a quantile
}

// A quantile's SLO is judged on the operations slower than the limit: "p99 <= L" is "at most 1%
// slower than L". Their count over the window is binomial if operations are independent; slow
// ones come in bursts (a stall makes many), so the count's variance over the intervals, over
// what independence gives (the quasi-binomial dispersion, at least 1), widens the bound. With
// a few thousand operations this resolves a p99 at a tenth of its limit in a minute, where the
// p99 of a few blocks of intervals could not (it is their few slowest operations).
struct Exceedance {
  double n = 0, k = 0;
  double dispersion = 1;
  int intervals = 0;
};

Exceedance Exceed(const Window& w, const std::string& cls, double limit_us) {
  Exceedance e;
  std::vector<std::pair<double, double>> per;  // (n, k) per interval
  for (const auto& iv : w.intervals) {
    auto it = iv.ops.find(cls);
    if (it == iv.ops.end() || it->second.hist.count() == 0) continue;
    const auto n = static_cast<double>(it->second.hist.count());
    const auto k = static_cast<double>(it->second.hist.CountAbove(limit_us));
    per.emplace_back(n, k);
    e.n += n;
    e.k += k;
  }
  e.intervals = static_cast<int>(per.size());
  const double p = e.n > 0 ? e.k / e.n : 0;
  if (per.size() >= 2 && p > 0 && p < 1) {
    double chi2 = 0;
    for (const auto& [n, k] : per) chi2 += (k - n * p) * (k - n * p) / (n * p * (1 - p));
    e.dispersion = std::max(1.0, chi2 / static_cast<double>(per.size() - 1));
  }
  return e;
}

// Wilson score bounds of a proportion p of n at z (sound at p = 0, where the normal one is not).
std::pair<double, double> Wilson(double p, double n, double z) {
  if (n <= 0) return {0, 1};
  const double z2 = z * z;
  const double mid = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, mid - half), std::min(1.0, mid + half)};
}

}  // namespace

bool SloMetric(const std::string& metric) {
  return metric == "p50" || metric == "p99" || metric == "p999" || metric == "error_rate" ||
         metric == "throughput";
}

std::string SloUnit(const std::string& metric) {
  if (metric == "error_rate") return "%";
  if (metric == "throughput") return "ops/s";
  return "ms";
}

SloJudgment JudgeSlos(const std::vector<SloLimit>& limits, const std::vector<Run>& runs,
                      const std::string& window, double alpha, bool baseline_only) {
  SloJudgment out;
  out.window = window;
  out.alpha = alpha;
  std::vector<const Run*> all;
  for (const auto& r : runs) all.push_back(&r);
  PooledWindowStats pooled(all);
  std::vector<Measured> measured;
  for (const auto& lim : limits) {
    if (baseline_only && !lim.baseline) continue;
    const MetricDef* def = FindMetric(lim.metric);
    if (def == nullptr || !SloMetric(lim.metric)) continue;  // the scenario loader refuses these
    for (const auto& r : runs) {
      bool any = false;
      for (const auto& w : r.windows) {
        if (!lim.phase.empty() && w.phase != lim.phase) continue;
        std::optional<WindowStat> st = pooled.Measure(*def, w, lim.cls);
        if (!st) continue;
        any = true;
        Measured m;
        m.def = def;
        m.stat = *st;
        m.window = &w;
        m.check.node = r.node;
        m.check.metric = lim.metric;
        m.check.cls = lim.cls;
        m.check.phase = w.phase;
        m.check.limit = lim.limit;
        measured.push_back(std::move(m));
      }
      if (!any) {
        out.missing.push_back(r.node + ": no " + lim.cls + " " + lim.metric + " in " +
                              (lim.phase.empty() ? "any phase" : lim.phase) + " of the " + window +
                              " window for its SLO");
      }
    }
  }
  // Bonferroni: every check may FAIL good storage by chance at alpha / checks.
  const double a = alpha / static_cast<double>(std::max<std::size_t>(1, measured.size()));
  for (auto& m : measured) {
    SloCheck& c = m.check;
    const bool higher_worse = m.def->direction == Direction::kHigherIsWorse;
    const double limit = ToScale(m.def->scale, ToMetricUnit(c.metric, c.limit));
    c.value = FromMetricUnit(c.metric, FromScale(m.def->scale, m.stat.value));
    const std::string what = c.node + ": " + c.cls + " " + c.metric + " in " + c.phase + " " + Num(c.value) + " " +
                             SloUnit(c.metric);
    const std::string slo = std::string("its SLO of ") + (higher_worse ? "at most " : "at least ") + Num(c.limit) +
                            " " + SloUnit(c.metric);
    const double allowed = AllowedAbove(c.metric);
    if (allowed > 0) {
      // A latency quantile: on the operations slower than its limit.
      // A breach is shown at alpha / checks (no check FAILs good storage by chance, however
      // many); "met" at alpha itself, per check: each PASS is still a 1 - alpha bound, and
      // at alpha / checks a p99 would need ~1000 operations with none slow where ~550 show it.
      const double z_fail = StudentQuantile(1 - a, 1e6);
      const double z_meet = StudentQuantile(1 - alpha, 1e6);
      const Exceedance e = Exceed(*m.window, c.cls, ToMetricUnit(c.metric, c.limit));
      c.bounded = e.intervals >= 2;
      const double n_eff = e.n / e.dispersion;
      const double lo = Wilson(e.n > 0 ? e.k / e.n : 0, n_eff, z_fail).first;
      const double hi = Wilson(e.n > 0 ? e.k / e.n : 0, n_eff, z_meet).second;
      // The latency bounds shown: where the share above would cross what the quantile allows.
      LatencyHistogram pooled_hist;
      for (const auto& iv : m.window->intervals) {
        auto it = iv.ops.find(c.cls);
        if (it != iv.ops.end()) pooled_hist.Merge(it->second.hist);
      }
      c.good = c.value;
      c.bad = c.value;
      for (double q = 0.0005; q < 1; q += 0.0005) {
        const double v = pooled_hist.Quantile(q);
        const double above = static_cast<double>(pooled_hist.CountAbove(v)) / std::max(1.0, e.n);
        const double l = Wilson(above, n_eff, z_fail).first;
        const double h = Wilson(above, n_eff, z_meet).second;
        if (l > allowed) c.good = std::max(c.good, FromMetricUnit(c.metric, v));   // surely slower than v
        if (h <= allowed) c.bad = std::min(c.bad, FromMetricUnit(c.metric, v));    // surely no slower
      }
      if (c.bad == c.value && hi > allowed) c.bad = FromMetricUnit(c.metric, pooled_hist.max_micros());
      const std::string share = Num(100 * (e.n > 0 ? e.k / e.n : 0)) + "% of " + Num(e.n) + " slower than the limit, " +
                                Num(100 * allowed) + "% allowed";
      if (!c.bounded) {
        c.verdict = Verdict::kInconclusive;
        c.sentence = what + ": too few intervals to bound it against " + slo;
      } else if (lo > allowed) {
        c.verdict = Verdict::kFail;
        c.sentence = what + " breaks " + slo + " (" + share + "; at least " + Num(100 * lo) + "% at " +
                     Num(100 * (1 - a)) + "% confidence)";
      } else if (hi <= allowed) {
        c.verdict = Verdict::kPass;
        c.sentence = what + " meets " + slo + " (" + share + "; at most " + Num(100 * hi) + "% at " +
                     Num(100 * (1 - alpha)) + "% confidence)";
      } else {
        c.verdict = Verdict::kInconclusive;
        c.sentence = what + " cannot be told from " + slo + " (" + share + "; between " + Num(100 * lo) + "% and " +
                     Num(100 * hi) + "%): a longer window would";
      }
      out.checks.push_back(c);
      continue;
    }
    c.bounded = m.stat.within_var >= 0;
    if (!c.bounded) {
      c.verdict = Verdict::kInconclusive;
      c.sentence = what + ": too few intervals to bound it against " + slo;
      out.checks.push_back(c);
      continue;
    }
    const double q = StudentQuantile(1 - a, std::max(1.0, m.stat.within_df)) * std::sqrt(m.stat.within_var);
    const double good = higher_worse ? m.stat.value - q : m.stat.value + q;
    const double bad = higher_worse ? m.stat.value + q : m.stat.value - q;
    c.good = FromMetricUnit(c.metric, FromScale(m.def->scale, good));
    c.bad = FromMetricUnit(c.metric, FromScale(m.def->scale, bad));
    const bool breaks = higher_worse ? good > limit : good < limit;
    const bool meets = higher_worse ? bad <= limit : bad >= limit;
    const std::string pct = Num(100 * (1 - a));
    if (breaks) {
      c.verdict = Verdict::kFail;
      c.sentence = what + " breaks " + slo + " (" + (higher_worse ? "at least " : "at most ") + Num(c.good) + " " +
                   SloUnit(c.metric) + " at " + pct + "% confidence)";
    } else if (meets) {
      c.verdict = Verdict::kPass;
      c.sentence = what + " meets " + slo + " (" + (higher_worse ? "at most " : "at least ") + Num(c.bad) + " " +
                   SloUnit(c.metric) + " at " + pct + "% confidence)";
    } else {
      c.verdict = Verdict::kInconclusive;
      c.sentence = what + " [" + Num(std::min(c.good, c.bad)) + ", " + Num(std::max(c.good, c.bad)) +
                   "] cannot be told from " + slo + ": a longer window would";
    }
    out.checks.push_back(c);
  }
  for (const auto& c : out.checks) FoldVerdict(c.verdict, c.sentence, &out.overall, &out.reason);
  // A limit with nothing to judge it on is not met: the SLO cannot be shown.
  if (!out.missing.empty() && out.overall == Verdict::kPass) {
    out.overall = Verdict::kInconclusive;
    out.reason = out.missing.front();
  }
  return out;
}

void HoldToServiceLevels(const SloJudgment& slo, Verdict* overall, std::string* reason) {
  FoldVerdict(slo.overall, "service level: " + slo.reason, overall, reason);
}

nlohmann::json ToJson(const SloJudgment& s) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : s.checks) {
    nlohmann::json j = {{"node", c.node},         {"metric", c.metric},   {"class", c.cls},
                        {"phase", c.phase},       {"limit", c.limit},     {"unit", SloUnit(c.metric)},
                        {"value", c.value},       {"bounded", c.bounded}, {"verdict", VerdictName(c.verdict)},
                        {"sentence", c.sentence}};
    if (c.bounded) {
      j["good_bound"] = c.good;
      j["bad_bound"] = c.bad;
    }
    checks.push_back(j);
  }
  return {{"window", s.window},   {"alpha", s.alpha},   {"verdict", VerdictName(s.overall)},
          {"reason", s.reason},   {"checks", checks},   {"missing", s.missing}};
}

std::string RenderSloTable(const SloJudgment& s) {
  std::string out = "service levels (" + s.window + " window)\n";
  char line[256];
  for (const auto& c : s.checks) {
    const bool lower = c.metric == "throughput";
    std::snprintf(line, sizeof line, "  %-12s %-8s %-10s %-8s %9s %-5s %s %-9s %s\n", c.node.c_str(), c.cls.c_str(),
                  c.metric.c_str(), c.phase.c_str(), Num(c.value).c_str(), SloUnit(c.metric).c_str(),
                  lower ? ">=" : "<=", Num(c.limit).c_str(), VerdictName(c.verdict));
    out += line;
  }
  for (const auto& m : s.missing) out += "  " + m + "\n";
  out += std::string("service levels: ") + VerdictName(s.overall) + (s.reason.empty() ? "" : " — " + s.reason) + "\n";
  return out;
}

}  // namespace fwcanary::judge
