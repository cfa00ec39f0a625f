#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <catch2/catch.hpp>

#include "harness/judge/stats.h"
#include "harness/judge/window_stat.h"

namespace fwcanary::judge {
namespace {

TEST_CASE("stats: Mann-Whitney U on a fully separated textbook sample") {
  RankTest r = MannWhitney({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  CHECK(r.u == 25);  // every y beats every x
  // Normal approximation with continuity correction: z = (25 - 12.5 - 0.5) / sqrt(25*11/12).
  CHECK(r.p_greater == Approx(0.0060929).epsilon(1e-4));
  RankTest reverse = MannWhitney({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5});
  CHECK(reverse.u == 0);
  CHECK(reverse.p_greater > 0.99);
}

TEST_CASE("stats: Mann-Whitney U with ties uses mid-ranks and the tie-corrected variance") {
  // Ranks: 1 | 2 2 2 -> 3 | 3 3 3 -> 6 | 4 -> 8; y's rank sum 23, U = 23 - 10 = 13.
  // Tie term 2 * (27 - 3) = 48; var = 16/12 * (9 - 48/56) = 10.857.
  RankTest r = MannWhitney({1, 2, 2, 3}, {2, 3, 3, 4});
  CHECK(r.u == 13);
  CHECK(r.p_greater == Approx(0.0860169).epsilon(1e-4));
  CHECK(r.p_two_sided == Approx(0.1720337).epsilon(1e-4));
  RankTest same = MannWhitney({5, 5, 5}, {5, 5});
  CHECK(same.p_greater == 1);  // no evidence either way
}

TEST_CASE("stats: Hodges-Lehmann is the median of pairwise differences") {
  CHECK(HodgesLehmann({1, 2, 3}, {4, 6}) == 3);  // 3 2 1 5 4 3 -> median 3
  CHECK(HodgesLehmann({0, 0}, {1, 2, 3}) == 2);
}

TEST_CASE("stats: Benjamini-Hochberg adjusts in the original order") {
  std::vector<double> adj = BenjaminiHochberg({0.01, 0.04, 0.03, 0.005});
  CHECK(adj[0] == Approx(0.02));
  CHECK(adj[1] == Approx(0.04));
  CHECK(adj[2] == Approx(0.04));
  CHECK(adj[3] == Approx(0.02));
  CHECK(BenjaminiHochberg({}).empty());
}

TEST_CASE("stats: Student t and Welch-Satterthwaite match tables") {
  CHECK(StudentQuantile(0.975, 10) == Approx(2.228139).epsilon(1e-5));
  CHECK(StudentCdf(2.228139, 10) == Approx(0.975).epsilon(1e-5));
  CHECK(StudentQuantile(0.95, std::numeric_limits<double>::infinity()) == Approx(1.644854).epsilon(1e-5));
  // Two equal variance components with 9 df each: df = (2v)^2 / (2 v^2 / 9) = 18.
  CHECK(SatterthwaiteDf({1, 1}, {9, 9}) == Approx(18));
}

TEST_CASE("stats: moments and lag-1 autocorrelation") {
  CHECK(Mean({1, 2, 3, 4}) == 2.5);
  CHECK(Variance({1, 2, 3, 4}) == Approx(1.6666667));
  CHECK(Variance({7}) == 0);
  CHECK(Lag1Autocorrelation({1, -1, 1, -1, 1, -1}) < -0.8);
  CHECK(Lag1Autocorrelation({1, 2, 3, 4, 5, 6, 7, 8}) > 0.5);
}

}  // namespace
}  // namespace fwcanary::judge

namespace fwcanary::judge {
namespace {

// Windows of 10 blocks whose values follow an AR(1) with coefficient `phi`.
std::vector<WindowStat> Ar1Windows(int windows, double phi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::vector<WindowStat> out;
  for (int w = 0; w < windows; ++w) {
    WindowStat s;
    double x = z(rng);
    for (int b = 0; b < 10; ++b) {
      x = phi * x + std::sqrt(1 - phi * phi) * z(rng);
      s.blocks.push_back({b * 60.0, 0.05 * x});
    }
    out.push_back(s);
  }
  return out;
}

TEST_CASE("window stats: block autocorrelation pooled over windows is stable and unbiased") {
  double pooled_err = 0, own_err = 0, pooled_sum = 0;
  const int trials = 200;
  for (int t = 0; t < trials; ++t) {
    std::vector<WindowStat> ws = Ar1Windows(10, 0.3, 100 + static_cast<uint64_t>(t));
    std::vector<double> own;
    std::vector<WindowStat*> ptrs;
    for (auto& w : ws) {
      std::vector<double> v;
      for (const auto& b : w.blocks) v.push_back(b.second);
      own.push_back(std::clamp(Lag1Autocorrelation(v), 0.0, 0.8));
      ptrs.push_back(&w);
    }
    PoolBlockAutocorrelation(ptrs);
    for (std::size_t i = 0; i < ws.size(); ++i) {
      CHECK(ws[i].block_lag1 == ws[0].block_lag1);  // one value for all
      own_err += (own[i] - 0.3) * (own[i] - 0.3);
      // within_var follows the pooled r: Var / n * (1 + r) / (1 - r).
      std::vector<double> v;
      for (const auto& b : ws[i].blocks) v.push_back(b.second);
      double r = ws[i].block_lag1;
      CHECK(ws[i].within_var == Approx(Variance(v) / 10 * (1 + r) / (1 - r)));
    }
    pooled_err += (ws[0].block_lag1 - 0.3) * (ws[0].block_lag1 - 0.3) * 10;
    pooled_sum += ws[0].block_lag1;
  }
  double pooled_rmse = std::sqrt(pooled_err / (10.0 * trials));
  double own_rmse = std::sqrt(own_err / (10.0 * trials));
  INFO("pooled rmse " << pooled_rmse << ", per-window rmse " << own_rmse << ", pooled mean "
                      << pooled_sum / trials);
  // 90 lag pairs: sd ~ 1/sqrt(90) / (1 - 3/10) ~ 0.15 at most; ten blocks alone ~ 0.3.
  CHECK(pooled_rmse < 0.16);
  CHECK(own_rmse > 1.5 * pooled_rmse);
  CHECK(std::abs(pooled_sum / trials - 0.3) < 0.05);  // the bias correction works
}

TEST_CASE("window stats: windows too short to pool keep their own estimate") {
  std::vector<WindowStat> ws = Ar1Windows(3, 0.0, 5);
  WindowStat short_one;
  short_one.blocks = {{0, 1.0}, {60, 2.0}};
  short_one.within_var = 0.25;
  short_one.block_lag1 = 0.1;
  std::vector<WindowStat*> ptrs{&ws[0], &ws[1], &ws[2], &short_one};
  PoolBlockAutocorrelation(ptrs);
  CHECK(short_one.within_var == 0.25);
  CHECK(short_one.block_lag1 == 0.1);
  CHECK(ws[0].block_lag1 >= 0.0);
  CHECK(ws[0].block_lag1 <= 0.8);
}

TEST_CASE("window stats: windows of three blocks get a finite, uncorrected autocorrelation") {
  // Three blocks 0, 1, 2 in each window: the raw pooled lag-1 is 0. The bias correction
  // (r + 1/n) / (1 - 3/n) would divide by zero here.
  std::vector<WindowStat> ws(3);
  std::vector<WindowStat*> ptrs;
  for (auto& w : ws) {
    w.blocks = {{0, 0.0}, {1, 1.0}, {2, 2.0}};
    ptrs.push_back(&w);
  }
  PoolBlockAutocorrelation(ptrs);
  for (const auto& w : ws) {
    CHECK(w.block_lag1 == 0.0);
    CHECK(w.within_var == Approx(1.0 / 3));  // Var 1 / 3 blocks, no inflation
  }
}

TEST_CASE("window stats: blocks pair only when they cover the same stretch of the phase") {
  // Two windows of 20 one-second intervals, 10 blocks of 2 s, with the same block values: paired
  // block by block, their difference has no within-window noise at all.
  auto window = [](double first_t) {
    WindowStat w;
    w.intervals = 20;
    w.t_begin = first_t;
    w.t_end = first_t + 20;
    std::vector<double> v = {1.0, 1.4, 0.8, 1.1, 1.3, 0.9, 1.2, 1.0, 0.7, 1.5};
    for (std::size_t i = 0; i < v.size(); ++i) {
      w.blocks.push_back({first_t + 2.0 * static_cast<double>(i), v[i]});
    }
    w.within_var = 0.01;
    w.within_df = 9;
    return w;
  };
  WindowStat a = window(5), b = window(5.0004);
  CHECK(BlocksAligned(a, b));
  double df = 0;
  CHECK(PairedWithinVar(a, b, &df) == Approx(0.0).margin(1e-12));
  CHECK(df == 9);
  // The same values one interval later (a warm-up cut one interval apart, or a block with no data
  // skipped): pairing them would compare different seconds. Unpaired, the noises add.
  WindowStat shifted = window(6);
  CHECK_FALSE(BlocksAligned(a, shifted));
  CHECK(PairedWithinVar(a, shifted, &df) == Approx(0.02));
  CHECK(df == 18);
  WindowStat fewer = window(5);
  fewer.blocks.pop_back();
  CHECK_FALSE(BlocksAligned(a, fewer));
  WindowStat longer = window(5);
  longer.intervals = 21;
  CHECK_FALSE(BlocksAligned(a, longer));
}

TEST_CASE("window stats: completions that move across a block boundary cancel in a paired count difference") {
  // Same arrivals on both sides; a few operations complete just after a boundary in one run and
  // just before it in the other: the block differences go +x, -x and sum to about nothing.
  auto window = [](const std::vector<double>& v, bool counts) {
    WindowStat w;
    w.intervals = 20;
    w.t_begin = 5;
    w.t_end = 25;
    for (std::size_t i = 0; i < v.size(); ++i) w.blocks.push_back({5 + 2.0 * static_cast<double>(i), v[i]});
    w.block_lag1 = 0.3;  // the levels' (pooled) autocorrelation: bursts of arrivals
    w.completion_counts = counts;
    return w;
  };
  std::vector<double> base = {2.0, 2.1, 1.9, 2.2, 2.0, 2.1, 1.8, 2.0, 2.2, 2.1};
  std::vector<double> spill = {0.03, -0.02, -0.01, 0.02, 0.01, -0.03, 0.02, -0.02, 0.01, -0.01};
  std::vector<double> cand = base;
  for (std::size_t i = 0; i < cand.size(); ++i) cand[i] += spill[i];
  double df = 0;
  const double latency_like = PairedWithinVar(window(base, false), window(cand, false), &df);
  const double counts = PairedWithinVar(window(base, true), window(cand, true), &df);
  // Latency-like metrics keep the windows' own autocorrelation: (1 + 0.3) / (1 - 0.3).
  CHECK(latency_like == Approx(Variance(spill) / 10 * 1.3 / 0.7));
  // Counts use the differences' own, clamped at -0.5: a third of the independent-blocks variance.
  CHECK(counts == Approx(Variance(spill) / 10 / 3));
  // Differences with no sign of cancelling (a deficit that drifts) keep the windows' value.
  std::vector<double> steady = {-0.02, -0.025, -0.03, -0.035, -0.03, -0.04, -0.045, -0.04, -0.035, -0.03};
  std::vector<double> short_of = base;
  for (std::size_t i = 0; i < short_of.size(); ++i) short_of[i] += steady[i];
  CHECK(PairedWithinVar(window(base, true), window(short_of, true), &df) ==
        Approx(Variance(steady) / 10 * 1.3 / 0.7));
}

}  // namespace
}  // namespace fwcanary::judge
