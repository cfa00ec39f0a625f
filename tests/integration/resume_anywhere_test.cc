// Resume from anywhere: the controller SIGKILLed at seeded random instants (not only at journal
// states), then resumed, again and again, started with a relative or an absolute scenario path
// and resumed from another working directory. Every run must complete with the same PASS, no
// node flashed twice (fwsim counts flashes), and a report whose node states are what the nodes
// read back.
#include <filesystem>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/command.h"
#include "tests/integration/rollout_helpers.h"
#include "tests/integration/test_lab.h"

namespace fwcanary::testing {
namespace {

constexpr int kKills = 10;  // per run; two runs: 20 random kills

// `sh -c 'cd CWD && exec timeout -s KILL T fwcanary ARGS'` (T = 0: no kill).
CommandResult InDir(const std::string& cwd, double kill_after_s, const std::vector<std::string>& args,
                    const CommandOptions& o) {
  std::string cmd = "cd '" + cwd + "' && exec ";
  if (kill_after_s > 0) cmd += "timeout -s KILL " + std::to_string(kill_after_s) + " ";
  cmd += FWCANARY_BIN;
  for (const auto& a : args) cmd += " '" + a + "'";
  return RunCommand({"/bin/sh", "-c", cmd}, o);
}

// One run: started from `start_cwd` with the scenario as `scenario_arg`, killed kKills times at
// instants drawn from `seed`, resumed from a rotating set of directories, then left to finish.
void KilledAtRandomThenResumed(const TestLab& lab, const std::string& start_cwd, const std::string& scenario_arg,
                               const std::string& runs_arg, unsigned seed) {
  CommandOptions o;
  o.env = {{"FWCANARY_LAB", lab.dir}};
  o.timeout_s = 600;
  std::mt19937 rng(seed);
  // Up to 25 s: a life long enough to get past a window (28 s of load) now and then, short
  // enough to die in most stages: leases, preflight, windows, flash, activation, judge.
  std::uniform_real_distribution<double> when(0.5, 25.0);
  CommandResult r = InDir(start_cwd, when(rng), {"run", scenario_arg, "--image", "1.1", "--runs", runs_arg,
                                                 "--during-s", "4"}, o);
  const std::string runs = lab.dir + "/runs";
  int kills = r.exit_code == 128 + 9 || r.exit_code == 9 ? 1 : 0;
  INFO(r.err);
  for (int life = 1; life <= 40 && r.exit_code != 0 && r.exit_code != 1 && r.exit_code != 3; ++life) {
    const std::string dir = OnlyRunDir(runs);
    // Resumed by absolute path from /, or by a path relative to the lab or runs directory.
    std::string cwd = "/", arg = dir;
    if (life % 3 == 1) {
      cwd = lab.dir;
      arg = std::filesystem::relative(dir, lab.dir).string();
    } else if (life % 3 == 2) {
      cwd = runs;
      arg = std::filesystem::path(dir).filename().string();
    }
    const double t = kills < kKills ? when(rng) : 0;
    r = InDir(cwd, t, {"resume", arg}, o);
    INFO("life " << life << " in " << cwd << ": exit " << r.exit_code << "\n" << r.err);
    if (t > 0) {
      // Killed, or finished before its instant: either way no refusal to continue.
      CHECK(r.err.find("refusing to continue") == std::string::npos);
      if (r.exit_code == 128 + 9 || r.exit_code == 9) ++kills;
    }
  }
  INFO(r.err);
  CHECK(kills >= 1);
  REQUIRE(r.exit_code == 0);
  const std::string dir = OnlyRunDir(runs);
  nlohmann::json report = nlohmann::json::parse(ReadAll(dir + "/report.json"));
  CHECK(report["run"]["exit_code"] == 0);
  for (int n = 1; n <= 2; ++n) {
    const std::string name = "node-" + std::to_string(n);
    INFO(name);
    CHECK(lab.Ask(n, "fwsim-node version") == "1.1");
    CHECK(StatusField(lab, n, "flashes") == "1");  // never twice
    for (const auto& node : report["nodes"]) {
      if (node["name"] == name) CHECK(node["state"] == "active");  // as read back
    }
  }
}

TEST_CASE("resume anywhere: a run started with a relative scenario path, SIGKILLed at 10 random instants and resumed from other directories, PASSes with no double flash", "[fault]") {
  TestLab lab(2, "127.0.43");
  std::string scn = ShortScenario(lab, "pass", {kPassJudge, kPassTolerances, kQuickResend});
  KilledAtRandomThenResumed(lab, lab.dir, std::filesystem::path(scn).filename().string(), "runs", 28);
}

TEST_CASE("resume anywhere: a run started with an absolute scenario path from another directory, SIGKILLed at 10 random instants, PASSes with no double flash", "[fault]") {
  TestLab lab(2, "127.0.44");
  std::string scn = ShortScenario(lab, "pass", {kPassJudge, kPassTolerances, kQuickResend});
  KilledAtRandomThenResumed(lab, "/tmp", scn, lab.dir + "/runs", 1928);
}

}  // namespace
}  // namespace fwcanary::testing
