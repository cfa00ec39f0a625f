#include <cmath>

#include <catch2/catch.hpp>

#include "agents/mail/arrival_schedule.h"
#include "agents/mail/distributions.h"

using namespace fwcanary;

TEST_CASE("Poisson schedule delivers the rate and the mix", "[schedule]") {
  OperationMix mix{0.5, 0.4, 0.1};
  ArrivalSchedule s(200.0, mix, 123);
  int counts[3] = {0, 0, 0};
  int n = 0;
  double last = 0;
  bool increasing = true;
  while (true) {
    auto a = s.Next();
    if (a.t > 100.0) break;
    increasing = increasing && a.t > last;
    last = a.t;
    ++counts[static_cast<int>(a.op)];
    ++n;
  }
  CHECK(increasing);
  // 20000 expected; a Poisson count's sd is sqrt(20000) ~ 141: allow 5 sd.
  CHECK(std::abs(n - 20000) < 5 * 142);
  CHECK(std::abs(counts[0] / double(n) - 0.5) < 0.02);
  CHECK(std::abs(counts[1] / double(n) - 0.4) < 0.02);
  CHECK(std::abs(counts[2] / double(n) - 0.1) < 0.02);
}

TEST_CASE("inter-arrival gaps are exponential (coefficient of variation 1)", "[schedule]") {
  ArrivalSchedule s(50.0, OperationMix{}, 9);
  double prev = 0, sum = 0, sumsq = 0;
  const int n = 50000;
  for (int i = 0; i < n; ++i) {
    double t = s.Next().t;
    double g = t - prev;
    prev = t;
    sum += g;
    sumsq += g * g;
  }
  double mean = sum / n;
  double sd = std::sqrt(sumsq / n - mean * mean);
  CHECK(mean == Approx(1.0 / 50).epsilon(0.02));
  CHECK(sd / mean == Approx(1.0).epsilon(0.03));
}

TEST_CASE("schedule is a pure function of its seed", "[schedule]") {
  ArrivalSchedule a(100, OperationMix{}, 5), b(100, OperationMix{}, 5), c(100, OperationMix{}, 6);
  bool same = true, differs = false;
  for (int i = 0; i < 1000; ++i) {
    auto x = a.Next(), y = b.Next(), z = c.Next();
    same = same && x.t == y.t && x.op == y.op;
    differs = differs || x.t != z.t;
  }
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("a uniform schedule spaces arrivals exactly 1/rate apart and keeps the mix",
          "[schedule]") {
  OperationMix mix{0.5, 0.4, 0.1};
  ArrivalSchedule s(250.0, mix, 77, /*poisson=*/false);
  int counts[3] = {0, 0, 0};
  int n = 0;
  double worst_gap_error = 0, first = -1, last = 0;
  while (true) {
    auto a = s.Next();
    if (a.t >= 40.0) break;
    if (first < 0) first = a.t;
    if (n > 0) worst_gap_error = std::max(worst_gap_error, std::abs((a.t - last) - 1.0 / 250));
    last = a.t;
    ++counts[static_cast<int>(a.op)];
    ++n;
  }
  CHECK(first == 0.0);
  CHECK(n == 10000);  // exact: [0, 40 s) at 250/s, no Poisson noise
  CHECK(last == Approx(40.0 - 1.0 / 250).epsilon(1e-12));
  CHECK(worst_gap_error < 1e-9);
  CHECK(std::abs(counts[0] / double(n) - 0.5) < 0.02);
  CHECK(std::abs(counts[2] / double(n) - 0.1) < 0.02);
  ArrivalSchedule zero(0, mix, 1, false);
  CHECK(std::isinf(zero.Next().t));
}

TEST_CASE("a zero rate schedules nothing", "[schedule]") {
  ArrivalSchedule s(0, OperationMix{}, 1);
  CHECK(std::isinf(s.Next().t));
}

TEST_CASE("mix with a zero weight never picks that class", "[schedule]") {
  OperationMix only_deliver{1, 0, 0};
  for (double u : {0.0, 0.3, 0.999999}) CHECK(PickClass(only_deliver, u) == OpClass::kDeliver);
  OperationMix only_scan{0, 0, 2};
  for (double u : {0.0, 0.5, 0.999999}) CHECK(PickClass(only_scan, u) == OpClass::kScan);
}

TEST_CASE("Zipf popularity favours the first mailboxes", "[distributions]") {
  ZipfSampler z(100, 1.0);
  CHECK(z.Probability(0) > 10 * z.Probability(50));
  CHECK(z.Sample(0.0) == 0);
  CHECK(z.Sample(0.999999) == 99);
  ZipfSampler uniform(4, 0.0);
  CHECK(uniform.Probability(3) == Approx(0.25));
}

TEST_CASE("message sizes follow the asked mean and stay within the cap", "[distributions]") {
  SizeDistribution d;  // lognormal, 75 KB mean, capped at 10 MB
  SizeSampler s(d);
  SplitMix64 rng(3);
  double sum = 0;
  uint64_t mx = 0, mn = UINT64_MAX;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    uint64_t v = s.Sample(rng);
    sum += static_cast<double>(v);
    mx = std::max(mx, v);
    mn = std::min(mn, v);
  }
  CHECK(sum / n == Approx(d.mean_bytes).epsilon(0.05));
  CHECK(mx <= d.max_bytes);
  CHECK(mn >= d.min_bytes);
  SizeDistribution g;
  g.dist = "gamma";
  g.mean_bytes = 16384;
  SizeSampler gs(g);
  sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(gs.Sample(rng));
  CHECK(sum / n == Approx(16384).epsilon(0.05));
}
