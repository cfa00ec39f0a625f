// The judge's rules on small, hand-made inputs: integrity, missing data, direction, tolerance,
// and the difference in differences that keeps a shift every node saw from being blamed.
#include <catch2/catch.hpp>

#include "harness/judge/calibration.h"
#include "harness/judge/judge.h"
#include "harness/judge/verdict_render.h"
#include "tests/unit/judge_synthetic.h"

namespace fwcanary::judge {
namespace {

const MetricVerdict* Find(const JudgeResult& r, const std::string& cls, const std::string& metric,
                          const std::string& node = "node-1") {
  for (const auto& v : r.metrics) {
    if (v.cls == cls && v.metric == metric && v.node == node) return &v;
  }
  return nullptr;
}

TEST_CASE("judge: a lost message fails the verdict whatever the statistics say") {
  testing::SyntheticNoise n;
  n.intervals = 60;
  auto c = testing::SyntheticCanary(3, 0, 0, n, 7);
  c.candidate[0].lost = {"m-000042"};
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
  CHECK(r.overall == Verdict::kFail);
  CHECK(r.reason.find("1 lost") != std::string::npos);
  CHECK(r.reason.find("m-000042") != std::string::npos);
}

TEST_CASE("judge: a critical class with no data in the candidate fails") {
  testing::SyntheticNoise n;
  n.intervals = 60;
  auto c = testing::SyntheticCanary(3, 0, 0, n, 8);
  // Retrieval stopped working on the canary: POP fails while delivery looks fine.
  for (auto& r : c.baseline) {
    for (auto& iv : r.windows[0].intervals) iv.ops["retrieve"] = iv.ops["deliver"];
  }
  for (auto& r : c.control) {
    for (auto& iv : r.windows[0].intervals) iv.ops["retrieve"] = iv.ops["deliver"];
  }
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
  const MetricVerdict* v = Find(r, "retrieve", "p99");
  REQUIRE(v != nullptr);
  CHECK(v->verdict == Verdict::kFail);
  CHECK(v->sentence.find("no data") != std::string::npos);
  CHECK(r.overall == Verdict::kFail);
}

TEST_CASE("judge: a shift every node saw is not blamed on the canary") {
  testing::SyntheticNoise n;
  n.time_sd = 0;
  // Everything got 40% slower in the candidate window: the canary and all controls alike.
  testing::SyntheticNoise shifted = n;
  shifted.base_us = n.base_us * 1.4;
  std::mt19937_64 rng(99);
  std::vector<Run> candidate = {testing::SyntheticRun("node-1", 0, 0, 0, 0, shifted, rng)};
  std::vector<Run> control;
  for (int i = 2; i <= 5; ++i) {
    control.push_back(testing::SyntheticRun("node-" + std::to_string(i), 0, 0, 0, 0, shifted, rng));
  }
  std::vector<Run> baseline;
  for (int i = 1; i <= 5; ++i) {
    baseline.push_back(testing::SyntheticRun("node-" + std::to_string(i), 0, 0, 0, 0, n, rng));
  }
  JudgeResult r = Judge({baseline, candidate, control}, JudgeConfig{});
  const MetricVerdict* v = Find(r, "deliver", "p99");
  REQUIRE(v != nullptr);
  CHECK(v->vs_baseline.effect > std::log(1.3));  // the canary alone looks 40% slower ...
  CHECK(v->vs_baseline.provisional == Verdict::kFail);
  CHECK(v->verdict != Verdict::kFail);           // ... but so did every control
  CHECK(r.overall != Verdict::kFail);
}

TEST_CASE("judge: one run per side is honest about the noise it cannot measure") {
  testing::SyntheticNoise n;
  std::mt19937_64 rng(5);
  std::vector<Run> a = {testing::SyntheticRun("node-1", 0, 0, 0, 0, n, rng)};
  std::vector<Run> b = {testing::SyntheticRun("node-1", 0, 0, 0, 0, n, rng)};
  JudgeResult r = Judge({a, b, {}}, JudgeConfig{});
  const MetricVerdict* v = Find(r, "deliver", "p99");
  REQUIRE(v != nullptr);
  CHECK(v->vs_baseline.noise_assumed);
  CHECK(v->verdict != Verdict::kFail);
  CHECK(v->sentence.find("run-to-run noise assumed") != std::string::npos);
  bool noted = false;
  for (const auto& note : r.notes) noted = noted || note.find("calibrate") != std::string::npos;
  CHECK(noted);
  // A large regression still shows through the assumed noise.
  testing::SyntheticNoise slow = n;
  slow.base_us *= 2;
  std::vector<Run> c = {testing::SyntheticRun("node-1", 0, 0, 0, 0, slow, rng)};
  JudgeResult r2 = Judge({a, c, {}}, JudgeConfig{});
  CHECK(Find(r2, "deliver", "p99")->verdict == Verdict::kFail);
  CHECK(r2.overall == Verdict::kFail);
  CHECK(ExitCodeFor(r2.overall) == 1);
}

TEST_CASE("judge: tolerances come from the config by metric name") {
  testing::SyntheticNoise n;
  auto c = testing::SyntheticCanary(4, 0.30, 0, n, 11);
  JudgeConfig loose;
  loose.tolerances["p99"] = 1.0;  // +100% allowed
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, loose);
  CHECK(Find(r, "deliver", "p99")->verdict == Verdict::kPass);
  JudgeResult strict = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
  CHECK(Find(strict, "deliver", "p99")->verdict == Verdict::kFail);
  nlohmann::json j = ToJson(strict, JudgeConfig{});
  CHECK(j["judge_version"] == kJudgeJsonVersion);
  CHECK(j["verdict"] == "FAIL");
}

}  // namespace
}  // namespace fwcanary::judge

namespace fwcanary::judge {
namespace {

TEST_CASE("calibrate: repeated runs give the noise and the smallest detectable regression") {
  testing::SyntheticNoise n;
  n.intervals = 120;
  std::mt19937_64 rng(21);
  std::vector<Run> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(testing::SyntheticRun("node-1", 0, 0, 0, 0, n, rng));
  JudgeConfig cfg;
  Calibration c = Calibrate(runs, cfg);
  const NoiseRow* p99 = nullptr;
  for (const auto& r : c.rows) {
    if (r.cls == "deliver" && r.metric == "p99") p99 = &r;
  }
  REQUIRE(p99 != nullptr);
  CHECK(p99->runs == 5);
  CHECK(p99->run_sd > 0.005);  // AR(1) level noise and run offsets are there to be seen
  CHECK(p99->run_sd < 0.2);
  CHECK(p99->detectable > p99->run_sd);
  CHECK(c.run_noise.count("p99") == 1);
  // A tolerance far below the noise is flagged.
  cfg.tolerances["p99"] = 0.001;
  Calibration tight = Calibrate(runs, cfg);
  bool flagged = false;
  for (const auto& r : tight.rows) flagged = flagged || (r.metric == "p99" && r.too_tight);
  CHECK(flagged);
  CHECK(RenderCalibration(tight).find("tolerance below noise") != std::string::npos);
  nlohmann::json j = CalibrationToJson(c);
  CHECK(j["run_noise"]["p99"].get<double>() == c.run_noise["p99"]);
}

TEST_CASE("judge: the same input gives the same JSON bytes") {
  testing::SyntheticNoise n;
  n.intervals = 120;
  auto a = testing::SyntheticCanary(3, 0.15, 0, n, 31);
  auto b = testing::SyntheticCanary(3, 0.15, 0, n, 31);
  JudgeConfig cfg;
  std::string ja = ToJson(Judge({a.baseline, a.candidate, a.control}, cfg), cfg).dump();
  std::string jb = ToJson(Judge({b.baseline, b.candidate, b.control}, cfg), cfg).dump();
  CHECK(ja == jb);
}

}  // namespace
}  // namespace fwcanary::judge

namespace fwcanary::judge {
namespace {

TEST_CASE("judge: the critical metrics can be chosen by the scenario") {
  testing::SyntheticNoise n;
  n.intervals = 120;
  auto c = testing::SyntheticCanary(4, 0.5, 0, n, 41);  // p99 (and every quantile) +50%
  JudgeConfig cfg;
  cfg.critical = {"throughput"};
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, cfg);
  const MetricVerdict* p99 = Find(r, "deliver", "p99");
  REQUIRE(p99 != nullptr);
  CHECK(!p99->critical);
  CHECK(Find(r, "deliver", "throughput")->critical);
  // Latency failed but is not critical here: the overall verdict rests on the score.
  CHECK(r.reason.find("deliver p99") == std::string::npos);
}


// The advice of an INCONCLUSIVE follows where the uncertainty is: run-to-run noise does not
// shrink with a longer run, only with more runs or controls.
TEST_CASE("judge: an INCONCLUSIVE says whether to run longer or to repeat the runs") {
  struct Advice {
    int repeat = 0, longer = 0;
  };
  auto advise = [](const testing::SyntheticNoise& n, double shift) {
    Advice a;
    for (uint64_t seed = 300; seed < 340; ++seed) {
      auto c = testing::SyntheticCanary(4, shift, 0, n, seed);
      JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
      if (r.overall != Verdict::kInconclusive) continue;
      const MetricVerdict* first = nullptr;
      for (const auto& v : r.metrics) {
        if (v.critical && v.verdict == Verdict::kInconclusive && first == nullptr) first = &v;
      }
      if (first == nullptr) continue;  // inconclusive by score, not by a critical metric
      const Comparison& decisive = first->vs_control_is_did ? first->vs_control : first->vs_baseline;
      bool says_repeat = r.reason.find("repeat the runs") != std::string::npos;
      bool says_longer = r.reason.find("longer or repeat") != std::string::npos;
      INFO(r.reason << " (run share " << decisive.run_share << ")");
      CHECK(says_repeat != says_longer);
      CHECK(says_repeat == (decisive.run_share >= 0.5));
      a.repeat += says_repeat;
      a.longer += says_longer;
    }
    return a;
  };
  // Runs differ by 5% while each run is smooth: repeating helps, a longer run does not.
  testing::SyntheticNoise runs;
  runs.run_sd = 0.05;
  runs.latent_sd = 0.01;
  Advice a = advise(runs, 0.05);
  INFO("run-to-run dominated: " << a.repeat << " repeat, " << a.longer << " longer");
  CHECK(a.repeat > 0);
  CHECK(a.repeat > a.longer);
  // Runs do not differ, one minute of noisy intervals: a longer run is what helps.
  testing::SyntheticNoise within;
  within.run_sd = 0;
  within.intervals = 60;
  within.latent_sd = 0.10;
  Advice b = advise(within, 0.05);
  INFO("within dominated: " << b.repeat << " repeat, " << b.longer << " longer");
  CHECK(b.longer > 0);
  CHECK(b.longer > b.repeat);
}

}  // namespace
}  // namespace fwcanary::judge
