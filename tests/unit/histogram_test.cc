#include <algorithm>
#include <cmath>
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
