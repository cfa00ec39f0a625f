#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agents/records/latency_histogram.h"

using fwcanary::LatencyHistogram;

namespace {

double ExactNearestRank(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

TEST_CASE("histogram quantiles are within 1% of the exact sorted data", "[histogram]") {
  std::mt19937_64 rng(42);
  // Heavy-tailed latencies from ~10 us to seconds, like fsync under a stall.
  std::lognormal_distribution<double> dist(std::log(800.0), 1.5);
  std::vector<double> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    double v = dist(rng);
    values.push_back(v);
    h.Record(v);
  }
  for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
    double exact = ExactNearestRank(values, q);
    double got = h.Quantile(q);
    INFO("q=" << q << " exact=" << exact << " got=" << got);
    CHECK(std::abs(got - exact) / exact <= 0.01);
  }
  CHECK(h.count() == values.size());
  CHECK(h.max_micros() == *std::max_element(values.begin(), values.end()));
  CHECK(h.min_micros() == *std::min_element(values.begin(), values.end()));
}

TEST_CASE("histogram covers 1 us to minutes with bounded relative error", "[histogram]") {
  for (double v : {1.5, 10.0, 999.0, 1e6, 60e6, 600e6}) {
    LatencyHistogram h;
    h.Record(v);
    h.Record(v * 1.001);
    double got = h.Quantile(0.5);
    INFO("v=" << v);
    CHECK(std::abs(got - v) / v <= 0.0101);
  }
  LatencyHistogram h;
  h.Record(0.2);  // below 1 us: the first bucket, reported as the exact min
  CHECK(h.Quantile(0.5) == Approx(0.2));
}

// IndexOf looks its bucket up in a table of edges instead of taking a log; the bucket must stay
// what the layout defines (and what records already written used): ceil(log(v) / log(gamma)).
TEST_CASE("every value lands in the bucket ceil(log_gamma(v)) defines", "[histogram]") {
  const double log_gamma = std::log(LatencyHistogram::kGamma);
  auto defined = [&](double v) {
    if (!(v > 1.0)) return 0;
    return static_cast<int>(std::ceil(std::log(std::min(v, LatencyHistogram::kMaxMicros)) / log_gamma));
  };
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> log_value(0.0, std::log(2 * LatencyHistogram::kMaxMicros));
  int mismatches = 0;
  for (int n = 0; n < 1000000; ++n) {
    double v = std::exp(log_value(rng));
    if (LatencyHistogram::IndexOf(v) != defined(v)) ++mismatches;
  }
  // Each bucket's edge, and the doubles on either side of it.
  const int last = defined(LatencyHistogram::kMaxMicros);
  int edges_checked = 0;
  for (int i = 1; i < last; ++i) {
    double x = std::exp(i * log_gamma);
    for (int k = 0; k < 8; ++k) x = std::nextafter(x, 0.0);
    for (int k = 0; k < 16; ++k, x = std::nextafter(x, 2 * x)) {
      if (LatencyHistogram::IndexOf(x) != defined(x)) ++mismatches;
      ++edges_checked;
    }
  }
  for (double v : {0.0, 0.5, 1.0, std::nextafter(1.0, 2.0), 1.02, 1e6, LatencyHistogram::kMaxMicros,
                   1e300, std::numeric_limits<double>::infinity()}) {
    INFO("v=" << v);
    CHECK(LatencyHistogram::IndexOf(v) == defined(v));
  }
  CHECK(LatencyHistogram::IndexOf(std::nan("")) == 0);
  CHECK(edges_checked == (last - 1) * 16);
  CHECK(mismatches == 0);
}

TEST_CASE("merging histograms equals recording the union", "[histogram]") {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> a(1.0 / 300), b(1.0 / 9000);
  LatencyHistogram ha, hb, all;
  for (int i = 0; i < 5000; ++i) {
    double x = a(rng), y = b(rng);
    ha.Record(x);
    hb.Record(y);
    all.Record(x);
    all.Record(y);
  }
  ha.Merge(hb);
  CHECK(ha.count() == all.count());
  for (double q : {0.1, 0.5, 0.99}) CHECK(ha.Quantile(q) == all.Quantile(q));
  CHECK(ha.ToJson()["counts"] == all.ToJson()["counts"]);
}

TEST_CASE("histogram JSON round-trips and refuses a foreign gamma", "[histogram]") {
  LatencyHistogram h;
  for (double v : {3.0, 30.0, 300.0, 3000.0, 3000.0}) h.Record(v);
  auto back = LatencyHistogram::FromJson(h.ToJson());
  REQUIRE(back.ok());
  CHECK(back->count() == 5);
  CHECK(back->Quantile(0.99) == h.Quantile(0.99));
  auto j = h.ToJson();
  j["gamma"] = 1.05;
  CHECK_FALSE(LatencyHistogram::FromJson(j).ok());
}
