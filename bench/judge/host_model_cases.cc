// bench/judge --host-model: the judge on its second synthetic model (tests/unit/
// judge_host_model.h: host-wide run offsets, AR(1), random short stalls, a tail mixture),
// case by case as issue 19 tabled them, and the same A/A under the first model for contrast.
#include "bench/judge/host_model_cases.h"

#include <cstdio>
#include <map>
#include <string>

#include "harness/judge/judge.h"
#include "tests/unit/judge_host_model.h"
#include "tests/unit/judge_synthetic.h"

namespace fwcanary::judge {
namespace {

struct Tally {
  int pass = 0, fail = 0, inconclusive = 0;
  std::map<std::string, int> reasons;  // the first words of the overall reason
  std::string example_fail, example_inconclusive;
};

std::string Head(const std::string& reason) {
  // "deliver p99 +12% ..." -> "deliver p99"; "the data cannot tell: x y ..." -> "x y"
  std::string s = reason;
  const std::string cannot = "the data cannot tell: ";
  if (s.rfind(cannot, 0) == 0) s = s.substr(cannot.size());
  std::size_t a = s.find(' ');
  std::size_t b = a == std::string::npos ? a : s.find(' ', a + 1);
  return s.substr(0, b);
}

void Add(Tally* t, const JudgeResult& r) {
  if (r.overall == Verdict::kPass) ++t->pass;
  if (r.overall == Verdict::kFail) {
    ++t->fail;
    if (t->example_fail.empty()) t->example_fail = r.reason;
  }
  if (r.overall == Verdict::kInconclusive) {
    ++t->inconclusive;
    if (t->example_inconclusive.empty()) t->example_inconclusive = r.reason;
  }
  if (r.overall != Verdict::kPass) ++t->reasons[VerdictName(r.overall) + std::string(" ") + Head(r.reason)];
}

void Print(const char* label, const Tally& t) {
  const int n = t.pass + t.fail + t.inconclusive;
  std::printf("  %-58s %4d FAIL %4d INCONCL %4d PASS  (of %d)\n", label, t.fail, t.inconclusive,
              t.pass, n);
  int shown = 0;
  for (const auto& [reason, count] : t.reasons) {
    if (shown++ == 4) break;
    std::printf("      %3d x %s\n", count, reason.c_str());
  }
  if (!t.example_fail.empty()) std::printf("      e.g. FAIL: %.260s\n", t.example_fail.c_str());
  if (!t.example_inconclusive.empty()) {
    std::printf("      e.g. INCONCLUSIVE: %.260s\n", t.example_inconclusive.c_str());
  }
}

// What the controls of 4 earlier A/A judgments on the same rack measured (a nightly's
// history, or a rollout's earlier waves): per metric, df-weighted.
std::map<std::string, std::pair<double, double>> EarlierNoise(const testing::HostModel& m,
                                                              int controls, int seed) {
  std::map<std::string, std::pair<double, double>> sum;  // metric -> (df * var, df)
  for (int e = 0; e < 4; ++e) {
    auto h = testing::HostModelCanary(controls, m, testing::HostEffect{}, {},
                                      static_cast<uint64_t>(seed + e));
    JudgeResult r = Judge({h.baseline, h.candidate, h.control}, JudgeConfig{});
    for (const auto& [metric, var_df] : r.control_run_var) {
      sum[metric].first += var_df.first * var_df.second;
      sum[metric].second += var_df.second;
    }
  }
  for (auto& [metric, v] : sum) v.first = v.second > 0 ? v.first / v.second : 0;
  return sum;
}

}  // namespace

void HostModelCases(int n, int steady_s, int surge_s, int controls) {
  using testing::HostEffect;
  using testing::HostModel;
  using testing::PlacedStall;
  HostModel with;
  with.steady_s = steady_s;
  with.surge_s = surge_s;
  HostModel without = with;
  without.random_stalls = false;
  std::printf("Second model (host-wide run sd %.1f%%, per-class %.1f%%, time %.0f%%, node %.0f%%, "
              "AR(1) %.2f), %d s steady + %d s 3x surge, 300 ops/s, %d controls, %d judgments:\n",
              with.host_run_sd * 100, with.class_run_sd * 100, with.time_sd * 100,
              with.node_sd * 100, with.rho, steady_s, surge_s, controls, n);
  struct Case {
    const char* label;
    const HostModel* model;
    HostEffect effect;
    std::vector<PlacedStall> placed;
    int controls;
    bool earlier = false;  // with the run-to-run noise 4 earlier A/A judgments' controls measured
  };
  HostEffect none;
  HostEffect p99x2;
  p99x2.cls = "deliver";
  p99x2.tail_x = 2;
  HostEffect retrieve_p50;
  retrieve_p50.cls = "retrieve";
  retrieve_p50.body_x = 1.5;
  HostEffect deliver_surge_p50;
  deliver_surge_p50.cls = "deliver";
  deliver_surge_p50.phase = "surge";
  deliver_surge_p50.body_x = 1.5;
  HostEffect recurring;
  recurring.stalls_per_window = 3;
  const std::vector<Case> cases = {
      {"A/A with stalls", &with, none, {}, controls},
      {"A/A without stalls", &without, none, {}, controls},
      {"A/A, one 2 s stall only in the canary's surge window", &without, none,
       {PlacedStall{0, true, "surge", surge_s / 2.0, 2}}, controls},
      {"canary deliver p99 x2, stalls elsewhere", &with, p99x2,
       {PlacedStall{1, true, "surge", surge_s / 3.0, 2}}, controls},
      {"canary deliver p99 x2, no stalls", &without, p99x2, {}, controls},
      {"canary retrieve p50 x1.5 (both phases), stalls", &with, retrieve_p50, {}, controls},
      {"canary deliver p50 x1.5 in surge only, stalls", &with, deliver_surge_p50, {}, controls},
      {"canary stalls 3 more times per window, stalls", &with, recurring, {}, controls},
      {"A/A one run a side, no controls, with stalls", &with, none, {}, 0},
      {"A/A with stalls, + 4 earlier judgments' noise", &with, none, {}, controls, true},
      {"canary deliver p99 x2, stalls, + earlier noise", &with, p99x2,
       {PlacedStall{1, true, "surge", surge_s / 3.0, 2}}, controls, true},
      {"canary retrieve p50 x1.5, stalls, + earlier noise", &with, retrieve_p50, {}, controls,
       true},
  };
  for (const auto& c : cases) {
    Tally t;
    for (int i = 0; i < n; ++i) {
      auto h = testing::HostModelCanary(c.controls, *c.model, c.effect, c.placed,
                                        77000 + static_cast<uint64_t>(i));
      JudgeConfig cfg;
      if (c.earlier) cfg.control_run_var = EarlierNoise(*c.model, c.controls, 91000 + 10 * i);
      Add(&t, Judge({h.baseline, h.candidate, h.control}, cfg));
    }
    Print(c.label, t);
  }
  // The first model at the same shape and control count, for contrast.
  Tally first;
  const testing::SyntheticNoise shape = testing::ScenarioShape(steady_s, surge_s);
  for (int i = 0; i < n; ++i) {
    auto c = testing::SyntheticCanary(controls, 0, 0, shape, 1000 + static_cast<uint64_t>(i));
    Add(&first, Judge({c.baseline, c.candidate, c.control}, JudgeConfig{}));
  }
  std::printf("First model (judge_synthetic.h), same shape and controls:\n");
  Print("A/A", first);
}

}  // namespace fwcanary::judge
