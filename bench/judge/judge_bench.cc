// bench/judge: how often the judge cries wolf (A/A) and how often it catches a shift, against
// window length and shift size, next to a Kayenta-style judge (Mann-Whitney on 1 s interval
// p99s as if independent); and how long judging 10^6 interval samples takes.
//   build-release/bin/judge_bench [JUDGMENTS_PER_CELL]
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "harness/judge/judge.h"
#include "harness/judge/stats.h"
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

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100;
  std::printf("Judge on synthetic canary runs: AR(1) rho 0.9 inside runs, a shared time offset "
              "(sd 4%%), per-run (1%%) and per-node (5%%) offsets, 50 deliveries/s, a canary "
              "and 4 control nodes.\n%d judgments per cell; deliver p99 verdicts, tolerance "
              "+10%%. 'naive' = Mann-Whitney on interval p99s as if independent (Kayenta).\n\n",
              n);
  // A/A at the default length, every metric of the canary: the overall verdict is INCONCLUSIVE
  // when any critical metric is, so the critical metrics' inconclusive shares add up.
  {
    const int aa = 3 * n;
    std::map<std::string, std::array<int, 3>> per_metric;  // PASS, FAIL, INCONCLUSIVE
    std::array<int, 3> overall{};
    for (int i = 0; i < aa; ++i) {
      auto c = testing::SyntheticCanary(4, 0, 0, testing::SyntheticNoise{},
                                        1000 + static_cast<uint64_t>(i));
      JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
      for (const auto& v : r.metrics) {
        if (v.node != "node-1" || (!v.cls.empty() && v.cls != "deliver")) continue;
        ++per_metric[v.metric + (v.critical ? " (critical)" : "")][static_cast<int>(v.verdict)];
      }
      ++overall[static_cast<int>(r.overall)];
    }
    std::printf("A/A at the default length (600 s), %d judgments (the property test's seeds):\n",
                aa);
    std::printf("  %-28s %8s %8s %8s\n", "metric", "PASS", "FAIL", "INCONCL");
    auto row = [aa](const std::string& name, const std::array<int, 3>& t) {
      auto pct = [aa](int k) { return 100.0 * k / aa; };
      std::printf("  %-28s %7.1f%% %7.1f%% %7.1f%%\n", name.c_str(),
                  pct(t[static_cast<int>(Verdict::kPass)]), pct(t[static_cast<int>(Verdict::kFail)]),
                  pct(t[static_cast<int>(Verdict::kInconclusive)]));
    };
    for (const auto& [name, t] : per_metric) row("deliver " + name, t);
    row("overall", overall);
    std::printf("\n");
  }
  std::printf("%-9s %-7s %8s %8s %8s %12s %10s\n", "window", "shift", "PASS", "FAIL",
              "INCONCL", "not passed", "naive FAIL");
  for (int len : {60, 120, 300, 600}) {
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
