#include "harness/judge/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace fwcanary::judge {

double Mean(const std::vector<double>& x) {
  if (x.empty()) return 0;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double Variance(const std::vector<double>& x) {
  if (x.size() < 2) return 0;
  double m = Mean(x), s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / static_cast<double>(x.size() - 1);
}

double Lag1Autocorrelation(const std::vector<double>& x) {
  if (x.size() < 3) return 0;
  double m = Mean(x), num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    den += (x[i] - m) * (x[i] - m);
    if (i > 0) num += (x[i] - m) * (x[i - 1] - m);
  }
  return den > 0 ? num / den : 0;
}

double StudentCdf(double t, double df) {
  if (std::isinf(df) || df > 1e7) return boost::math::cdf(boost::math::normal(), t);
  return boost::math::cdf(boost::math::students_t(std::max(df, 0.5)), t);
}

double StudentQuantile(double p, double df) {
  if (std::isinf(df) || df > 1e7) return boost::math::quantile(boost::math::normal(), p);
  return boost::math::quantile(boost::math::students_t(std::max(df, 0.5)), p);
}

double SatterthwaiteDf(const std::vector<double>& v, const std::vector<double>& df) {
  double sum = 0, den = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (v[i] > 0) den += v[i] * v[i] / (std::isinf(df[i]) ? 1e300 : df[i]);
  }
  if (den <= 0) return std::numeric_limits<double>::infinity();
  return sum * sum / den;
}

RankTest MannWhitney(const std::vector<double>& x, const std::vector<double>& y) {
  RankTest r;
  const double n1 = static_cast<double>(x.size()), n2 = static_cast<double>(y.size());
  if (x.empty() || y.empty()) return r;
  // Pool, sort, give mid-ranks to ties, and collect tie group sizes for the variance.
  std::vector<std::pair<double, int>> all;
  for (double v : x) all.push_back({v, 0});
  for (double v : y) all.push_back({v, 1});
  std::sort(all.begin(), all.end());
  double rank_sum_y = 0, tie_term = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].second == 1) rank_sum_y += mid;
    }
    i = j;
  }
  r.u = rank_sum_y - n2 * (n2 + 1) / 2.0;
  const double n = n1 + n2;
  const double mu = n1 * n2 / 2.0;
  const double var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)));
  if (var <= 0) return r;  // all values equal: no evidence either way
  const double sd = std::sqrt(var);
  boost::math::normal norm;
  double z_greater = (r.u - mu - 0.5) / sd;
  r.z = (r.u - mu) / sd;
  r.p_greater = boost::math::cdf(boost::math::complement(norm, z_greater));
  double z_two = (std::abs(r.u - mu) - 0.5) / sd;
  r.p_two_sided = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(norm, z_two)));
  return r;
}

double HodgesLehmann(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> d;
  d.reserve(x.size() * y.size());
  for (double a : x) {
    for (double b : y) d.push_back(b - a);
  }
  if (d.empty()) return 0;
  std::size_t mid = d.size() / 2;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(mid), d.end());
  double hi = d[mid];
  if (d.size() % 2 == 1) return hi;
  double lo = *std::max_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2;
}

std::vector<double> BenjaminiHochberg(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> adj(m);
  double running = 1.0;
  for (std::size_t k = m; k-- > 0;) {
    std::size_t i = order[k];
    running = std::min(running, p[i] * static_cast<double>(m) / static_cast<double>(k + 1));
    adj[i] = std::min(1.0, running);
  }
  return adj;
}

double BinomialUpperTail(int k, int n, double p) {
  if (k <= 0) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  double sum = 0;
  for (int i = k; i <= n; ++i) {
    sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) +
                    i * std::log(p) + (n - i) * std::log1p(-p));
  }
  return std::min(1.0, sum);
}

}  // namespace fwcanary::judge
