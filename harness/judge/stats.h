#pragma once
// Statistics the judge needs, as pure functions: moments, lag-1 autocorrelation, Student's t
// (via Boost.Math), Welch's degrees of freedom, Mann-Whitney U with ties, Hodges-Lehmann, and
// Benjamini-Hochberg. No Debian C++ package offers the rank tests with a confidence interval,
// so they live here, checked against textbook values in tests/unit/judge_stats_test.cc.
//
// Thread safety: pure functions.

#include <cstddef>
#include <vector>

namespace fwcanary::judge {

double Mean(const std::vector<double>& x);
// Sample variance (n - 1); 0 for fewer than two values.
double Variance(const std::vector<double>& x);
// Lag-1 autocorrelation of a series; 0 for fewer than three values.
double Lag1Autocorrelation(const std::vector<double>& x);

// Student's t: P(T <= t) with df degrees of freedom (df may be fractional, >= 0.5), and the
// quantile. df = infinity is the normal distribution.
double StudentCdf(double t, double df);
double StudentQuantile(double p, double df);

// Welch-Satterthwaite degrees of freedom for a sum of variance components v_i, each estimated
// with df_i degrees of freedom: (sum v)^2 / sum(v_i^2 / df_i).
double SatterthwaiteDf(const std::vector<double>& v, const std::vector<double>& df);

struct RankTest {
  double u = 0;          // U of sample y (number of pairs with y > x, ties counting 1/2)
  double z = 0;          // normal approximation with tie correction and continuity correction
  double p_greater = 1;  // one-sided p: H1 "y tends to be larger than x"
  double p_two_sided = 1;
};
// Mann-Whitney U test of y against x (ties get mid-ranks; the variance is tie-corrected).
RankTest MannWhitney(const std::vector<double>& x, const std::vector<double>& y);

// Hodges-Lehmann shift: the median of all pairwise differences y_j - x_i.
double HodgesLehmann(const std::vector<double>& x, const std::vector<double>& y);

// P(X >= k) for X ~ Binomial(n, p): the exact one-sided test of a count against its expected
// share (the stall verdict: the canary's stalls among all stalls, against its share of time).
double BinomialUpperTail(int k, int n, double p);

// Benjamini-Hochberg adjusted p-values (same order as `p`): reject where adjusted <= q controls
// the false discovery rate at q across the family.
std::vector<double> BenjaminiHochberg(const std::vector<double>& p);

}  // namespace fwcanary::judge
