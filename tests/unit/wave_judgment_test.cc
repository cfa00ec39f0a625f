// What a rollout wave is judged against (harness/judge/wave_judgment.h), without a lab: the
// choices WaveStep used to make inline, now a pure function.
#include "harness/judge/wave_judgment.h"

#include <catch2/catch.hpp>

namespace fwcanary::judge {
namespace {

using Files = std::vector<std::string>;

// Three arrays t1-t3, each with one mail host c1-c3 writing to it.
WaveContext ThreeArrays() {
  WaveContext c;
  c.all_targets = {"t1", "t2", "t3"};
  c.clients = {{"c1", "t1"}, {"c2", "t2"}, {"c3", "t3"}};
  c.baseline = {{"c1", "base-c1"}, {"c2", "base-c2"}, {"c3", "base-c3"}};
  c.tolerances = {{"p50", 0.5}};
  c.critical = {"p50", "throughput"};
  c.alpha = 0.02;
  return c;
}

TEST_CASE(
    "wave judgment: the canary against its baseline, the nodes still on the old firmware as "
    "controls") {
  WaveContext c = ThreeArrays();
  c.targets = {"t1"};
  c.after = {{"c1", "w1-c1"}, {"c2", "w1-c2"}, {"c3", "w1-c3"}};
  c.carried.run_noise = {{"p99", 0.04}};
  WaveJudgment p = PlanWaveJudgment(c);
  CHECK_FALSE(p.rolling);
  CHECK(p.reference == "baseline");
  CHECK(p.controls == std::set<std::string>{"t2", "t3"});
  CHECK(p.baseline_files == Files{"base-c1", "base-c2", "base-c3"});
  CHECK(p.candidate_files == Files{"w1-c1"});
  CHECK(p.control_files == Files{"w1-c2", "w1-c3"});
  CHECK(p.roles ==
        std::map<std::string, std::string>{{"c1", "canary"}, {"c2", "control"}, {"c3", "control"}});
  // The scenario's gate and the noise carried from before reach the judge unchanged.
  CHECK(p.config.tolerances.at("p50") == 0.5);
  CHECK(p.config.critical == std::vector<std::string>{"p50", "throughput"});
  CHECK(p.config.alpha == 0.02);
  CHECK(p.config.run_noise.at("p99") == 0.04);
  CHECK(p.config.baseline_name == "baseline");
  CHECK(p.errors.empty());
}

TEST_CASE(
    "wave judgment: a middle wave keeps the nodes not yet upgraded as controls, the earlier ones "
    "aside") {
  WaveContext c = ThreeArrays();
  c.targets = {"t2"};
  c.upgraded_before = {"t1"};
  c.after = {{"c1", "w2-c1"}, {"c2", "w2-c2"}, {"c3", "w2-c3"}};
  c.previous_after = {{"c1", "w1-c1"}, {"c2", "w1-c2"}, {"c3", "w1-c3"}};
  c.previous_window = "wave1";
  WaveJudgment p = PlanWaveJudgment(c);
  CHECK_FALSE(
      p.rolling);  // t3 is still on the old firmware: the first baseline stays the reference
  CHECK(p.controls == std::set<std::string>{"t3"});
  CHECK(p.candidate_files == Files{"w2-c2"});
  CHECK(p.control_files == Files{"w2-c3"});
  CHECK(p.roles.at("c1") == "upgraded");
}

TEST_CASE(
    "wave judgment: the last wave is judged against the previous wave's window, the nodes upgraded "
    "before as controls") {
  WaveContext c = ThreeArrays();
  c.targets = {"t2", "t3"};
  c.upgraded_before = {"t1"};
  c.after = {{"c1", "w2-c1"}, {"c2", "w2-c2"}, {"c3", "w2-c3"}};
  c.previous_after = {{"c1", "w1-c1"}, {"c2", "w1-c2"}, {"c3", "w1-c3"}};
  c.previous_window = "wave1";
  WaveJudgment p = PlanWaveJudgment(c);
  CHECK(p.rolling);
  CHECK(p.reference == "wave1");
  CHECK(p.config.baseline_name == "wave1's window");
  CHECK(p.controls == std::set<std::string>{"t1"});
  CHECK(p.baseline_files == Files{"w1-c1", "w1-c2", "w1-c3"});
  CHECK(p.candidate_files == Files{"w2-c2", "w2-c3"});
  CHECK(p.control_files == Files{"w2-c1"});
  CHECK(p.roles ==
        std::map<std::string, std::string>{{"c1", "control"}, {"c2", "canary"}, {"c3", "canary"}});
}

TEST_CASE("wave judgment: one wave of every node has no controls and stays on the first baseline") {
  WaveContext c = ThreeArrays();
  c.targets = {"t1", "t2", "t3"};
  c.after = {{"c1", "w1-c1"}, {"c2", "w1-c2"}, {"c3", "w1-c3"}};
  WaveJudgment p = PlanWaveJudgment(c);
  CHECK_FALSE(p.rolling);  // nothing was upgraded before: no previous window to lean on
  CHECK(p.controls.empty());
  CHECK(p.control_files.empty());
  CHECK(p.candidate_files.size() == 3);
}

TEST_CASE(
    "wave judgment: a candidate without a recorded window is an error, not a smaller judgment",
    "[bad-input]") {
  WaveContext c = ThreeArrays();
  c.targets = {"t1"};
  c.after = {{"c2", "w1-c2"}, {"c3", "w1-c3"}};
  WaveJudgment p = PlanWaveJudgment(c);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors.front() == "candidate c1: no post-upgrade window was recorded");
  CHECK(p.candidate_files.empty());
}

TEST_CASE("wave judgment: the noise a wave hands the next") {
  WaveContext c = ThreeArrays();
  c.targets = {"t1"};
  c.after = {{"c1", "w1-c1"}, {"c2", "w1-c2"}, {"c3", "w1-c3"}};
  CarriedNoise before;
  before.run_noise = {{"p50", 0.03}};
  before.control_run_var = {{"p50", {0.001, 2.0}}};
  WaveJudgment p = PlanWaveJudgment(c);
  JudgeInput in;
  JudgeResult r;
  r.control_run_var = {{"p50", {0.002, 4.0}}};
  // Without controls the one-vs-one noise is kept; what the judgment's controls measured replaces
  // the variance carried before.
  CarriedNoise next = CarryNoise(p, in, r, before);
  CHECK(next.run_noise == before.run_noise);
  CHECK(next.control_run_var.at("p50") == std::pair<double, double>{0.002, 4.0});
  // A judgment whose controls measured nothing keeps what came before.
  CHECK(CarryNoise(p, in, JudgeResult{}, before).control_run_var == before.control_run_var);
  // A rolling judgment's controls are on the new firmware: their variance is not carried.
  p.rolling = true;
  CHECK(CarryNoise(p, in, r, before).control_run_var == before.control_run_var);
  // With control runs the one-vs-one noise is measured again from them, paired by node.
  in.control.push_back(Run{});
  in.control.back().node = "c2";
  CHECK(CarryNoise(p, in, r, before).run_noise != before.run_noise);
}

}  // namespace
}  // namespace fwcanary::judge
