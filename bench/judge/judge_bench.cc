// bench/judge: how often the judge cries wolf (A/A) and how often it catches a shift, against
// window length and shift size, next to a Kayenta-style judge (Mann-Whitney on 1 s interval
// p99s as if independent); the shipped scenarios' A/A verdicts on the same synthetic rack; and
// how long judging 10^6 interval samples takes.
//   build-release/bin/judge_bench [JUDGMENTS_PER_CELL] [--aa-only | --scenarios-only |
//                                  --host-model [STEADY_S SURGE_S CONTROLS]]
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "bench/judge/host_model_cases.h"
#include "harness/judge/judge.h"
#include "harness/judge/stats.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/scenario.h"
#include "tests/unit/judge_synthetic.h"

using namespace fwcanary::judge;

namespace {

const MetricVerdict* Find(const JudgeResult& r, const char* metric) {
  for (const auto& v : r.metrics) {
    if (v.cls == "deliver" && v.metric == metric && v.node == "node-1") return &v;
  }
  return nullptr;
}

// Kayenta's NetflixACAJudge: Mann-Whitney U at 98% confidence on the metric's time series,
// treating each interval as an independent sample.
bool NaiveFails(const Run& base, const Run& cand) {
  auto p99s = [](const Run& r) {
    std::vector<double> v;
    for (const auto& iv : r.windows[0].intervals) v.push_back(iv.ops.at("deliver").hist.Quantile(0.99));
    return v;
  };
  RankTest t = MannWhitney(p99s(base), p99s(cand));
  return t.p_two_sided < 0.02;
}


// A/A judgments of `shape`: per metric, class and phase of the canary, and overall.
void AaTable(int aa, const testing::SyntheticNoise& shape, const char* label) {
  std::map<std::string, std::array<int, 3>> per_metric;  // PASS, FAIL, INCONCLUSIVE
  // The deciding comparison's effects and standard errors: on A/A the effects' sd is the
  // true noise, and an honest SE is close to it (larger = more INCONCLUSIVE than needed).
  std::map<std::string, std::vector<double>> effects, ses;
  std::map<std::string, const MetricDef*> def;
  std::array<int, 3> overall{};
  for (int i = 0; i < aa; ++i) {
    auto c = testing::SyntheticCanary(4, 0, 0, shape, 1000 + static_cast<uint64_t>(i));
    JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
    for (const auto& v : r.metrics) {
      if (v.node != "node-1") continue;
      std::string key = (v.cls.empty() ? std::string("node") : v.cls) + " " + v.metric + " " +
                        v.phase + (v.critical ? " (critical)" : "");
      ++per_metric[key][static_cast<int>(v.verdict)];
      const Comparison& d = v.vs_control_is_did ? v.vs_control : v.vs_baseline;
      effects[key].push_back(d.effect);
      def[key] = FindMetric(v.metric);
      ses[key].push_back(d.se);
    }
    ++overall[static_cast<int>(r.overall)];
  }
  std::printf("A/A, %s: %d judgments\n", label, aa);
  std::printf("  %-40s %8s %8s %8s %10s %10s %10s %10s\n", "metric", "PASS", "FAIL", "INCONCL",
              "sd(effect)", "rms(se)", "sd(se)", "known-SE");
  auto row = [aa](const std::string& name, const std::array<int, 3>& t) {
    auto pct = [aa](int k) { return 100.0 * k / aa; };
    std::printf("  %-40s %7.1f%% %7.1f%% %7.1f%%", name.c_str(),
                pct(t[static_cast<int>(Verdict::kPass)]), pct(t[static_cast<int>(Verdict::kFail)]),
                pct(t[static_cast<int>(Verdict::kInconclusive)]));
  };
  for (const auto& [name, t] : per_metric) {
    row(name, t);
    std::vector<double> se2;
    for (double x : ses[name]) se2.push_back(x * x);
    // What the same rule gives with the true noise known exactly (sd of the effects, normal
    // quantile): the floor this noise sets, whatever the judge estimates.
    const double sd = std::sqrt(Variance(effects[name]));
    const MetricDef& m = *def[name];
    const double sign = m.direction == Direction::kHigherIsWorse ? 1 : -1;
    const double tol = ToleranceOnScale(m, m.tolerance);
    int known = 0;
    for (double e : effects[name]) known += sign * e + 1.6449 * sd >= tol && sd > 0;
    std::printf(" %10.4f %10.4f %10.4f %9.1f%%\n", sd, std::sqrt(Mean(se2)),
                std::sqrt(Variance(ses[name])), 100.0 * known / aa);
  }
  row("overall", overall);
  std::printf("\n");
  std::printf("\n");
}

// The shipped real-hardware scenarios (scenarios/*.yaml but the demo, which needs a lab) on
// the synthetic rack: each scenario's rate, steady and surge lengths, gate (tolerances, alpha,
// critical metrics) and number of control agents in its canary wave (the clients of the
// targets not in wave 1). How often an A/A run of each ends INCONCLUSIVE overall is how often
// a night or an evening would say "run longer" with nothing wrong.
void ShippedScenarios(int n) {
  std::printf(
      "A/A overall verdict of the shipped scenarios on the synthetic rack (%d judgments "
      "each; the canary against the scenario's control agents, its gate and lengths):\n"
      "  %-26s %6s %8s %8s %8s %8s %8s\n",
      n, "scenario", "ctrls", "steady", "surge", "PASS", "FAIL", "INCONCL");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(FWCANARY_SCENARIOS)) {
    if (e.path().extension() == ".yaml" && e.path().filename() != "demo.yaml") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto sc = fwcanary::scenario::LoadScenario(path.string());
    if (!sc.ok()) {
      std::printf("  %-26s %s\n", path.filename().c_str(), sc.status().message().c_str());
      continue;
    }
    std::vector<double> timed;
    for (const auto& p : sc->workload.phases) {
      if (!p.drain) timed.push_back(p.duration_s);
    }
    if (timed.size() < 2) continue;  // the shape is a steady phase and a surge
    std::set<std::string> canary_targets;
    const fwcanary::rollout::Plan plan = fwcanary::rollout::MakePlan(sc.value());
    for (const auto* t : plan.waves.front().nodes) {
      canary_targets.insert(t->name);
    }
    int controls = 0;
    for (const auto* c : sc->inventory.Clients()) {
      controls += canary_targets.count(c->writes_to) == 0;
    }
    testing::SyntheticNoise shape =
        testing::ScenarioShape(static_cast<int>(timed[0]), static_cast<int>(timed[1]));
    shape.ops_per_s = sc->workload.rate;
    JudgeConfig cfg;
    cfg.tolerances = sc->judge.tolerances;
    cfg.alpha = sc->judge.alpha;
    cfg.critical = sc->judge.critical;
    std::array<int, 3> overall{};
    for (int i = 0; i < n; ++i) {
      auto c = testing::SyntheticCanary(controls, 0, 0, shape, 51000 + static_cast<uint64_t>(i));
      ++overall[static_cast<int>(Judge({c.baseline, c.candidate, c.control}, cfg).overall)];
    }
    auto pct = [n](int k) { return 100.0 * k / n; };
    std::printf("  %-26s %6d %6.0f s %6.0f s %7.1f%% %7.1f%% %7.1f%%\n", path.filename().c_str(),
                controls, timed[0], timed[1], pct(overall[static_cast<int>(Verdict::kPass)]),
                pct(overall[static_cast<int>(Verdict::kFail)]),
                pct(overall[static_cast<int>(Verdict::kInconclusive)]));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100;
  std::printf("Judge on synthetic canary runs: AR(1) rho 0.9 inside runs, a shared time offset "
              "(sd 4%%), per-run (1%%) and per-node (5%%) offsets, 50 deliveries/s, a canary "
              "and 4 control nodes.\n%d judgments per cell; deliver p99 verdicts, tolerance "
              "+10%%. 'naive' = Mann-Whitney on interval p99s as if independent (Kayenta).\n\n",
              n);
  if (argc > 2 && std::string(argv[2]) == "--host-model") {
    // [STEADY_S SURGE_S CONTROLS]: default the judge's run length with 2 controls.
    int steady = argc > 3 ? std::atoi(argv[3]) : static_cast<int>(kDefaultSteadyS);
    int surge = argc > 4 ? std::atoi(argv[4]) : static_cast<int>(kDefaultSurgeS);
    int controls = argc > 5 ? std::atoi(argv[5]) : 2;
    HostModelCases(n, steady, surge, controls);
    return 0;
  }
  if (argc > 2 && std::string(argv[2]) == "--scenarios-only") {
    ShippedScenarios(n);
    return 0;
  }
  // A/A at the default length, every metric of the canary: the overall verdict is INCONCLUSIVE
  // when any critical metric is, so the critical metrics' inconclusive shares add up. Twice:
  // the property test's smallest shape (deliver only, one steady phase) and the shipped
  // scenarios' shape (three classes, steady and surge).
  testing::SyntheticNoise smallest;
  smallest.intervals = static_cast<int>(kDefaultSteadyS);
  AaTable(3 * n, smallest, "deliver only, one 900 s steady phase (the property test's seeds)");
  AaTable(
      3 * n,
      testing::ScenarioShape(static_cast<int>(kDefaultSteadyS), static_cast<int>(kDefaultSurgeS)),
      "deliver/retrieve/scan, 900 s steady + 600 s 3x surge (the scenarios' shape)");
  // The overall A/A verdict of the scenarios' shape against its phase lengths: what a longer
  // run buys when every critical metric must clear its bound.
  std::printf("A/A overall verdict, the scenarios' shape, against the phase lengths (%d "
              "judgments each):\n  %-22s %8s %8s %8s\n", n, "steady + surge", "PASS", "FAIL",
              "INCONCL");
  for (auto [steady, surge] : {std::pair{600, 300}, std::pair{900, 600}, std::pair{1800, 900}}) {
    testing::SyntheticNoise shape = testing::ScenarioShape(steady, surge);
    std::array<int, 3> overall{};
    for (int i = 0; i < n; ++i) {
      auto c = testing::SyntheticCanary(4, 0, 0, shape, 31000 + static_cast<uint64_t>(i));
      JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
      ++overall[static_cast<int>(r.overall)];
    }
    auto pct = [n](int k) { return 100.0 * k / n; };
    std::printf("  %4d s + %4d s         %7.1f%% %7.1f%% %7.1f%%\n", steady, surge,
                pct(overall[static_cast<int>(Verdict::kPass)]),
                pct(overall[static_cast<int>(Verdict::kFail)]),
                pct(overall[static_cast<int>(Verdict::kInconclusive)]));
  }
  // Detection in the same shape at 900 s + 600 s (the property test's default length): a real
  // regression must not pass (FAIL or INCONCLUSIVE both stop the rollout).
  for (auto [lat, tp] : {std::pair{0.10, 0.0}, std::pair{0.0, -0.05}}) {
    const testing::SyntheticNoise shape = testing::ScenarioShape(900, 600);
    int not_passed = 0, fail = 0;
    for (int i = 0; i < n; ++i) {
      auto c = testing::SyntheticCanary(4, lat, tp, shape, 41000 + static_cast<uint64_t>(i));
      JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
      const std::string metric = lat > 0 ? "p99" : "throughput";
      for (const auto& v : r.metrics) {
        if (v.node != "node-1" || v.cls != "deliver" || v.metric != metric || v.phase != "surge") {
          continue;
        }
        not_passed += v.verdict != Verdict::kPass;
        fail += v.verdict == Verdict::kFail;
      }
    }
    std::printf("  900 s +  600 s, deliver %s %+.0f%% (surge): not passed %.1f%% (FAIL %.1f%%)\n",
                lat > 0 ? "p99" : "throughput", 100 * (lat > 0 ? lat : tp), 100.0 * not_passed / n,
                100.0 * fail / n);
  }
  std::printf("\n");
  ShippedScenarios(n);
  if (argc > 2 && std::string(argv[2]) == "--aa-only") return 0;
  std::printf("%-9s %-7s %8s %8s %8s %12s %10s\n", "window", "shift", "PASS", "FAIL",
              "INCONCL", "not passed", "naive FAIL");
  for (int len : {60, 120, 300, 600, 900}) {
    for (double shift : {0.0, 0.05, 0.10, 0.20}) {
      testing::SyntheticNoise noise;
      noise.intervals = len;
      int pass = 0, fail = 0, inc = 0, naive = 0;
      for (int i = 0; i < n; ++i) {
        auto c = testing::SyntheticCanary(4, shift, 0, noise, 77000 + static_cast<uint64_t>(i));
        JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
        const MetricVerdict* v = Find(r, "p99");
        if (v == nullptr) continue;
        pass += v->verdict == Verdict::kPass;
        fail += v->verdict == Verdict::kFail;
        inc += v->verdict == Verdict::kInconclusive;
        naive += NaiveFails(c.baseline[0], c.candidate[0]);
      }
      auto pct = [n](int k) { return 100.0 * k / n; };
      std::printf("%5d s   %+5.0f%% %7.1f%% %7.1f%% %7.1f%% %11.1f%% %9.1f%%\n", len,
                  shift * 100, pct(pass), pct(fail), pct(inc), pct(fail + inc), pct(naive));
    }
  }

  // Speed: 200 nodes x 30 minutes of 1 s intervals x 3 classes = 1.08 million interval samples
  // per side. Two shapes of the same 200-node run: the canary judged against 199 controls, and
  // a wave of 100 upgraded nodes judged against the 100 not yet upgraded (each candidate node
  // is judged on its own against every control: the work grows with candidates x controls).
  testing::SyntheticNoise big;
  big.intervals = 1800;
  big.ops_per_s = 20;
  for (int candidates : {1, 100}) {
    auto t0 = std::chrono::steady_clock::now();
    auto c = testing::SyntheticCanary(199, 0, 0, big, 1);
    for (auto* side : {&c.baseline, &c.candidate, &c.control}) {
      for (auto& r : *side) {
        for (auto& iv : r.windows[0].intervals) {
          iv.ops["retrieve"] = iv.ops["deliver"];
          iv.ops["scan"] = iv.ops["deliver"];
        }
      }
    }
    // The first candidates - 1 controls ran the candidate window upgraded too.
    for (int k = 1; k < candidates; ++k) {
      c.candidate.push_back(std::move(c.control.front()));
      c.control.erase(c.control.begin());
    }
    std::size_t samples = 0;
    for (auto* side : {&c.baseline, &c.candidate, &c.control}) {
      for (auto& run : *side) samples += run.windows[0].intervals.size() * 3;
    }
    JudgeInput in{std::move(c.baseline), std::move(c.candidate), std::move(c.control)};
    auto t1 = std::chrono::steady_clock::now();
    JudgeResult r = Judge(in, JudgeConfig{});
    auto t2 = std::chrono::steady_clock::now();
    std::printf("%sspeed: %zu interval samples (200 nodes, baseline + candidate windows of 1800 "
                "s, 3 classes), %d candidate node(s) vs %zu controls: judged in %.2f s "
                "(generating them took %.1f s); %zu verdicts, overall %s\n",
                candidates == 1 ? "\n" : "", samples, candidates, in.control.size(),
                std::chrono::duration<double>(t2 - t1).count(),
                std::chrono::duration<double>(t1 - t0).count(), r.metrics.size(),
                VerdictName(r.overall));
  }
  return 0;
}
