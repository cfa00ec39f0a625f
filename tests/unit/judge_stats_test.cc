#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "harness/judge/stats.h"

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
