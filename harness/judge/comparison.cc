#include "harness/judge/comparison.h"

#include <cmath>
#include <limits>

#include "harness/judge/stats.h"

namespace fwcanary::judge {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct SideNoise {
  double var_of_mean = 0;  // variance of the side's mean value
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

std::vector<double> Values(const std::vector<WindowStat>& w) {
  std::vector<double> v;
  for (const auto& s : w) v.push_back(s.value);
  return v;
}

// Noise of one side's mean. `half_prior`: this side's share of the assumed run-to-run noise.
SideNoise Noise(const std::vector<WindowStat>& w, double half_prior_var) {
  SideNoise n;
  const double k = static_cast<double>(w.size());
  double within_df = 0;
  double within = MeanWithin(w, &within_df);
  if (w.size() >= 2) {
    double s2 = Variance(Values(w));
    n.var_of_mean = std::max(s2, std::max(within, 0.0)) / k;
    n.df = k - 1;
    return n;
  }
  n.assumed = true;
  n.var_of_mean = std::max(within, 0.0) + half_prior_var;
  // Satterthwaite over the measured within part and the assumed (infinite-df) part.
  n.df = within > 0 ? SatterthwaiteDf({within, half_prior_var}, {within_df, kInf}) : kInf;
  return n;
}

}  // namespace

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
  if (o.prediction && ref.size() >= 2) {
    // The canary as one more draw from the controls: S^2 (1 + 1/k), df k - 1.
    double within_df = 0;
    double s2 = std::max(Variance(Values(ref)), std::max(MeanWithin(ref, &within_df), 0.0));
    var = s2 * (1 + 1.0 / static_cast<double>(ref.size()));
    df = static_cast<double>(ref.size() - 1);
  } else {
    SideNoise r = Noise(ref, prior_var / 2), k = Noise(cand, prior_var / 2);
    var = r.var_of_mean + k.var_of_mean;
    df = SatterthwaiteDf({r.var_of_mean, k.var_of_mean}, {r.df, k.df});
    c.noise_assumed = r.assumed || k.assumed;
  }
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
  return c;
}

}  // namespace fwcanary::judge
