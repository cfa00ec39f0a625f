#include "harness/judge/comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "harness/judge/stats.h"

namespace fwcanary::judge {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct SideNoise {
  double var_of_mean = 0;  // variance of the side's mean value
  double run_part = 0;     // of which run-to-run (beyond the windows' within noise)
  double df = kInf;
  bool assumed = false;
};

double MeanWithin(const std::vector<WindowStat>& w, double* df) {
  double sum = 0, dfs = 0;
  int n = 0;
  for (const auto& s : w) {
    if (s.within_var < 0) continue;
    sum += s.within_var;
    dfs += s.within_df;
    ++n;
  }
  if (n == 0) {
    *df = 0;
    return -1;
  }
  *df = dfs;
  return sum / n;
}

// The side's mean wait for a CPU per operation over its windows; < 0 when any window lacks it.
double MeanCpuDelay(const std::vector<WindowStat>& w) {
  double sum = 0;
  for (const auto& s : w) {
    if (s.cpu_delay_per_op_us < 0) return -1;
    sum += s.cpu_delay_per_op_us;
  }
  return w.empty() ? -1 : sum / static_cast<double>(w.size());
}

std::vector<double> Values(const std::vector<WindowStat>& w) {
  std::vector<double> v;
  for (const auto& s : w) v.push_back(s.value);
  return v;
}

// Noise of one side's mean. `half_run_var`: this side's share of the run-to-run noise, with
// `run_df` its degrees of freedom (infinite when assumed).
SideNoise Noise(const std::vector<WindowStat>& w, double half_run_var, double run_df,
                bool run_measured) {
  SideNoise n;
  const double k = static_cast<double>(w.size());
  double within_df = 0;
  double within = MeanWithin(w, &within_df);
  if (w.size() >= 2) {
    double s2 = Variance(Values(w));
    n.var_of_mean = std::max(s2, std::max(within, 0.0)) / k;
    n.run_part = std::max(0.0, s2 - std::max(within, 0.0)) / k;
    n.df = k - 1;
    return n;
  }
  n.assumed = !run_measured;
  n.var_of_mean = std::max(within, 0.0) + half_run_var;
  n.run_part = half_run_var;
  // Satterthwaite over the within part and the run-to-run part.
  n.df = SatterthwaiteDf({std::max(within, 0.0), half_run_var}, {within_df, run_df});
  if (within < 0 && !run_measured) n.df = kInf;
  return n;
}

void Finish(const MetricDef& m, const CompareOptions& o, double var, double df, Comparison* out);

}  // namespace

void FoldVerdict(Verdict v, const std::string& why, Verdict* overall, std::string* reason) {
  if ((v == Verdict::kFail && *overall != Verdict::kFail) ||
      (v == Verdict::kInconclusive && *overall == Verdict::kPass)) {
    *overall = v;
    *reason = why;
  }
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kInconclusive:
      return "INCONCLUSIVE";
  }
  return "?";
}

double ToleranceOnScale(const MetricDef& m, double tolerance) {
  return m.scale == Scale::kAbsolute ? tolerance : std::log1p(tolerance);
}

Comparison Compare(const MetricDef& m, const std::vector<WindowStat>& ref,
                   const std::vector<WindowStat>& cand, const CompareOptions& o) {
  Comparison c;
  if (ref.empty() || cand.empty()) return c;
  c.available = true;
  c.n_ref = static_cast<int>(ref.size());
  c.n_cand = static_cast<int>(cand.size());
  c.effect = Mean(Values(cand)) - Mean(Values(ref));
  const double prior_var = o.prior_run_noise * o.prior_run_noise;
  double var = 0, df = kInf;
  double run_part = 0;
  if (o.prediction && ref.size() >= 2) {
    // The canary as one more draw from the controls: S^2 (1 + 1/k), df k - 1.
    double within_df = 0;
    const double within = std::max(MeanWithin(ref, &within_df), 0.0);
    double s2 = std::max(Variance(Values(ref)), within);
    var = s2 * (1 + 1.0 / static_cast<double>(ref.size()));
    run_part = (s2 - within) * (1 + 1.0 / static_cast<double>(ref.size()));
    df = static_cast<double>(ref.size() - 1);
  } else {
    bool measured = o.run_var >= 0;
    double rv = measured ? o.run_var : prior_var;
    if (!measured && o.cpu_delay_noise > 0) {
      // A busier client adds its wait for a CPU to operations: two runs of the same storage
      // differ by more than the prior says when the agent's threads waited differently.
      const double dr = MeanCpuDelay(ref), dc = MeanCpuDelay(cand);
      if (dr >= 0 && dc >= 0) {
        const double latency_us = FromScale(m.scale, Mean(Values(ref)));
        const double extra = o.cpu_delay_noise * std::abs(CpuDelayShift(dc, latency_us) -
                                                          CpuDelayShift(dr, latency_us));
        rv += extra * extra;
        c.noise_widened = extra > 0;
        c.cpu_delay_ref_us = dr;
        c.cpu_delay_cand_us = dc;
      }
    }
    double rdf = measured ? std::max(o.run_var_df, 1.0) : kInf;
    double pdf = 0;
    double paired = ref.size() == 1 && cand.size() == 1
                        ? PairedWithinVar(ref.front(), cand.front(), &pdf)
                        : -1;
    if (paired >= 0) {
      var = paired + rv;
      run_part = rv;
      df = SatterthwaiteDf({paired, rv}, {pdf, rdf});
      c.noise_assumed = !measured;
    } else {
      SideNoise r = Noise(ref, rv / 2, rdf, measured), k = Noise(cand, rv / 2, rdf, measured);
      var = r.var_of_mean + k.var_of_mean;
      run_part = r.run_part + k.run_part;
      df = SatterthwaiteDf({r.var_of_mean, k.var_of_mean}, {r.df, k.df});
      c.noise_assumed = r.assumed || k.assumed;
    }
  }
  c.run_share = var > 0 ? std::clamp(run_part / var, 0.0, 1.0) : 0;
  Finish(m, o, var, df, &c);
  return c;
}

void RunVarianceFromControls(const ControlDiffs& k, double* var, double* df) {
  if (k.pooled_run_var >= 0) {
    *var = k.pooled_run_var;
    *df = k.pooled_run_df;
    return;
  }
  double s2 = Variance(k.d);
  double within = Mean(k.within);
  *var = std::max(0.0, s2 - within);
  *df = static_cast<double>(k.d.size() - 1);
}

RunVariance PoolRunVariance(const std::vector<ControlDiffs>& groups) {
  RunVariance out;
  std::map<std::string, std::pair<double, int>> node;  // node -> (sum of deviations, count)
  double ss_total = 0, df_total = 0, within = 0;
  int within_n = 0, used = 0;
  for (const auto& g : groups) {
    if (g.d.size() < 2) continue;
    ++used;
    const double mean = Mean(g.d);
    for (std::size_t j = 0; j < g.d.size(); ++j) {
      const double e = g.d[j] - mean;
      ss_total += e * e;
      auto& n = node[j < g.nodes.size() ? g.nodes[j] : std::to_string(j)];
      n.first += e;
      ++n.second;
    }
    df_total += static_cast<double>(g.d.size() - 1);
    for (double w : g.within) {
      within += w;
      ++within_n;
    }
  }
  if (used == 0 || df_total <= 0) return out;
  const double w = within_n > 0 ? within / within_n : 0;
  if (node.size() < 2) {
    // Controls that share one name (two runs of one node given as controls): no node part to
    // tell apart; the groups' spread as it is.
    out.var = std::max(0.0, ss_total / df_total - w);
    out.df = df_total;
    return out;
  }
  double ss_node = 0;
  for (const auto& [name, sum_count] : node) ss_node += sum_count.first * sum_count.first / sum_count.second;
  const double df_node = std::min(static_cast<double>(node.size() - 1), df_total);
  const double df_res = df_total - df_node;
  const double g = static_cast<double>(used);
  const double ms_node = df_node > 0 ? ss_node / df_node : 0;
  const double ms_res = df_res > 0 ? std::max(0.0, ss_total - ss_node) / df_res : 0;
  // E[MS_node] = G s_node^2 + s_res^2, E[MS_res] = s_res^2: a difference's variance is
  // s_node^2 + s_res^2 = MS_node / G + (1 - 1/G) MS_res.
  const double c1 = df_res > 0 ? ms_node / g : ss_total / df_total;
  const double c2 = df_res > 0 ? (1 - 1 / g) * ms_res : 0;
  out.var = std::max(0.0, c1 + c2 - w);
  out.df = c2 > 0 ? SatterthwaiteDf({c1, c2}, {std::max(df_node, 1.0), df_res})
                  : std::max(df_res > 0 ? df_node : df_total, 1.0);
  const double node_var = std::max(0.0, (ms_node - ms_res) / g);
  out.node_share = c1 + c2 > 0 ? std::min(1.0, node_var / (c1 + c2)) : 0;
  return out;
}

RunVariance CombineRunVariance(const RunVariance& a, const RunVariance& b) {
  if (a.var < 0 || a.df <= 0) return b;
  if (b.var < 0 || b.df <= 0) return a;
  RunVariance out;
  out.df = a.df + b.df;
  out.var = (a.df * a.var + b.df * b.var) / out.df;
  out.node_share = (a.df * a.node_share + b.df * b.node_share) / out.df;
  return out;
}

Comparison CompareDiD(const MetricDef& m, const WindowStat& ref, const WindowStat& cand,
                      const ControlDiffs& k, const CompareOptions& o) {
  Comparison c;
  c.available = true;
  c.n_ref = static_cast<int>(k.d.size());
  c.n_cand = 1;
  c.effect = (cand.value - ref.value) - Mean(k.d);
  const double kk = static_cast<double>(k.d.size());
  // Random effects: each difference is within-window noise plus a run-to-run part. The
  // canary's own difference carries both; the controls' mean difference carries their within
  // noise / k and the run-to-run part / k. Only the run-to-run part has just k - 1 degrees of
  // freedom; the within parts are known from many blocks.
  double run_var = 0, run_df = 0;
  RunVarianceFromControls(k, &run_var, &run_df);
  double own_df = 0;
  double own = std::max(PairedWithinVar(ref, cand, &own_df), 0.0);
  double w_ctrl = Mean(k.within) / kk;
  double run = run_var * (1 + 1 / kk);
  double var = own + run + w_ctrl;
  c.run_share = var > 0 ? run / var : 0;
  double ctrl_df = std::max(1.0, kk * (BlockCount(cand.intervals) - 1));
  double df = SatterthwaiteDf({own, run, w_ctrl}, {own_df, run_df, ctrl_df});
  Finish(m, o, var, df, &c);
  return c;
}

namespace {
void Finish(const MetricDef& m, const CompareOptions& o, double var, double df, Comparison* out) {
  Comparison& c = *out;
  c.se = std::sqrt(std::max(var, 1e-18));
  c.df = std::max(df, 1.0);
  const double sign = m.direction == Direction::kHigherIsWorse ? 1.0 : -1.0;
  const double worse = sign * c.effect;  // > 0: the candidate is worse
  c.p = 1 - StudentCdf(worse / c.se, c.df);
  const double tq = StudentQuantile(o.confidence, c.df);
  c.lo = c.effect - tq * c.se;
  c.hi = c.effect + tq * c.se;
  c.mde = (StudentQuantile(1 - o.alpha, c.df) + StudentQuantile(0.8, c.df)) * c.se;
  const double worse_upper = worse + tq * c.se;
  if (worse_upper < o.tolerance) {
    c.provisional = Verdict::kPass;
  } else if (worse > o.tolerance) {
    c.provisional = Verdict::kFail;
  } else {
    c.provisional = Verdict::kInconclusive;
  }
}

}  // namespace

}  // namespace fwcanary::judge
