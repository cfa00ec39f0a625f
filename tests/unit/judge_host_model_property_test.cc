// The judge on its second synthetic model (judge_host_model.h: host-wide run offsets, AR(1),
// random 1-2 s stalls at 20x, a tail mixture), at the default run length (900 s steady + 600 s
// 3x surge) with 2 control nodes: what issue 19 asked the judge to hold on data it was not
// tuned on. Two ways of knowing the run-to-run noise:
//   - this judgment's 2 controls alone: honest degrees of freedom are few (1-2 when the noise
//     is host-wide), so A/A is INCONCLUSIVE more often than 10% (bench/judge --host-model:
//     ~30%), and never FAILs;
//   - with what the controls of 4 earlier A/A judgments on the same rack measured
//     (JudgeConfig::control_run_var: a rollout's earlier wave, a nightly's history): the
//     issue's goals.
// Fixed seeds: the counts are the same on every run. [slow]: left out of the sanitizer run.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "harness/judge/judge.h"
#include "tests/unit/judge_host_model.h"

namespace fwcanary::judge {
namespace {

struct HostTally {
  int pass = 0, fail = 0, inconclusive = 0;
  std::string fail_reason;
  void Add(const JudgeResult& r) {
    if (r.overall == Verdict::kPass) ++pass;
    if (r.overall == Verdict::kFail) {
      ++fail;
      if (fail_reason.empty()) fail_reason = r.reason;
    }
    if (r.overall == Verdict::kInconclusive) ++inconclusive;
  }
};

testing::HostModel DefaultLength() {
  testing::HostModel m;
  m.steady_s = static_cast<int>(kDefaultSteadyS);
  m.surge_s = static_cast<int>(kDefaultSurgeS);
  return m;
}

// The rack's run-to-run noise as 4 earlier A/A judgments' controls measured it (df-weighted).
JudgeConfig WithEarlierNoise(const testing::HostModel& m) {
  std::map<std::string, std::pair<double, double>> sum;
  for (uint64_t e = 0; e < 4; ++e) {
    auto h = testing::HostModelCanary(2, m, testing::HostEffect{}, {}, 91000 + e);
    JudgeResult r = Judge({h.baseline, h.candidate, h.control}, JudgeConfig{});
    for (const auto& [metric, var_df] : r.control_run_var) {
      sum[metric].first += var_df.first * var_df.second;
      sum[metric].second += var_df.second;
    }
  }
  JudgeConfig cfg;
  for (auto& [metric, v] : sum) {
    if (v.second > 0) cfg.control_run_var[metric] = {v.first / v.second, v.second};
  }
  return cfg;
}

TEST_CASE("judge on the second model: A/A with random stalls, 2 controls, 300 judgments",
          "[property][slow]") {
  const testing::HostModel m = DefaultLength();
  const JudgeConfig earlier = WithEarlierNoise(m);
  REQUIRE(earlier.control_run_var.count("p50") == 1);
  HostTally alone, informed;
  for (uint64_t i = 0; i < 300; ++i) {
    auto c = testing::HostModelCanary(2, m, testing::HostEffect{}, {}, 77000 + i);
    alone.Add(Judge({c.baseline, c.candidate, c.control}, JudgeConfig{}));
    informed.Add(Judge({c.baseline, c.candidate, c.control}, earlier));
  }
  INFO("this judgment's controls alone: " << alone.pass << " pass, " << alone.fail << " fail, "
       << alone.inconclusive << " inconclusive; " << alone.fail_reason);
  INFO("with 4 earlier judgments' noise: " << informed.pass << " pass, " << informed.fail
       << " fail, " << informed.inconclusive << " inconclusive; " << informed.fail_reason);
  CHECK(alone.fail <= 3);      // <= 1%
  CHECK(informed.fail <= 3);   // <= 1%
  CHECK(informed.inconclusive <= 30);  // <= 10%
  // Alone, 2 controls measure host-wide noise with 1-2 df: honest, and often INCONCLUSIVE
  // (measured 30% at 40 judgments); bounded so a change that makes it worse is seen.
  CHECK(alone.inconclusive <= 135);  // <= 45%
}

TEST_CASE("judge on the second model: one stall anywhere adds no false FAIL", "[property][slow]") {
  testing::HostModel m = DefaultLength();
  m.random_stalls = false;
  HostTally t;
  for (uint64_t i = 0; i < 100; ++i) {
    // One 2 s stall, in turn in the canary's surge, its steady, its baseline, a control.
    const int where = static_cast<int>(i % 4);
    testing::PlacedStall s{where == 3 ? 1 : 0, where != 2, where == 1 ? "steady" : "surge",
                           100.0 + static_cast<double>(i), 2};
    auto c = testing::HostModelCanary(2, m, testing::HostEffect{}, {s}, 78000 + i);
    JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
    CHECK(r.stalls.size() == 1);
    t.Add(r);
  }
  INFO(t.pass << " pass, " << t.fail << " fail, " << t.inconclusive << " inconclusive; "
              << t.fail_reason);
  CHECK(t.fail == 0);
}

TEST_CASE("judge on the second model: a doubled deliver p99 and a retrieve p50 x1.5 FAIL",
          "[property][slow]") {
  const testing::HostModel m = DefaultLength();
  const JudgeConfig earlier = WithEarlierNoise(m);
  testing::HostEffect p99x2;
  p99x2.cls = "deliver";
  p99x2.tail_x = 2;
  testing::HostEffect p50;
  p50.cls = "retrieve";
  p50.body_x = 1.5;
  HostTally tail, body, tail_alone;
  for (uint64_t i = 0; i < 100; ++i) {
    // Stalls on as ever, and one more in a control's surge window: it must not blind the judge.
    testing::PlacedStall s{1, true, "surge", 200, 2};
    auto c = testing::HostModelCanary(2, m, p99x2, {s}, 79000 + i);
    tail.Add(Judge({c.baseline, c.candidate, c.control}, earlier));
    tail_alone.Add(Judge({c.baseline, c.candidate, c.control}, JudgeConfig{}));
    auto d = testing::HostModelCanary(2, m, p50, {}, 80000 + i);
    body.Add(Judge({d.baseline, d.candidate, d.control}, earlier));
  }
  INFO("deliver p99 x2: " << tail.fail << " FAIL of 100 (" << tail_alone.fail
                          << " with this judgment's controls alone); retrieve p50 x1.5: "
                          << body.fail << " FAIL of 100");
  CHECK(tail.fail >= 90);
  CHECK(body.fail >= 80);
  CHECK(tail_alone.pass == 0);  // alone it may not be sure, but it never lets it through
}

}  // namespace
}  // namespace fwcanary::judge
