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
};

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
  for (const auto& c : out.checks) {
    if (c.verdict == Verdict::kFail && out.overall != Verdict::kFail) {
      out.overall = Verdict::kFail;
      out.reason = c.sentence;
    } else if (c.verdict == Verdict::kInconclusive && out.overall == Verdict::kPass) {
      out.overall = Verdict::kInconclusive;
      out.reason = c.sentence;
    }
  }
  // A limit with nothing to judge it on is not met: the SLO cannot be shown.
  if (!out.missing.empty() && out.overall == Verdict::kPass) {
    out.overall = Verdict::kInconclusive;
    out.reason = out.missing.front();
  }
  return out;
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
