// The upgrade window on the lab (issue 21): images that perform like 1.0 once active, so only
// the window in which they flash can catch them. Each FAILs at the canary, is rolled back, and
// the reason is one sentence naming the node, what it saw and the limit.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/command.h"
#include "tests/integration/rollout_helpers.h"
#include "tests/integration/test_lab.h"

namespace fwcanary::testing {
namespace {

CommandResult RunImage(const TestLab& lab, const std::string& scn, const std::string& image, const std::string& runs) {
  CommandOptions o;
  o.env = {{"FWCANARY_LAB", lab.dir}};
  o.timeout_s = 600;
  return RunCommand({FWCANARY_BIN, "run", scn, "--image", image, "--runs", runs, "--during-s", "4"}, o);
}

// The canary was put back on 1.0 and the other node never flashed.
void CheckRolledBackAtCanary(const TestLab& lab) {
  CHECK(lab.Ask(1, "fwsim-node version") == "1.0");
  CHECK(StatusField(lab, 1, "flashes") == "2");  // the upgrade and the rollback
  CHECK(StatusField(lab, 2, "flashes") == "0");
}

TEST_CASE("upgrade window: a takeover that holds I/O for 45 s FAILs at the canary on its stall, and is rolled back", "[lab]") {
  TestLab lab(2, "127.0.51");
  std::string scn = ShortScenario(lab, "takeover", {kPassJudge});
  const std::string runs = lab.dir + "/runs";
  CommandResult run = RunImage(lab, scn, "2.0-long-takeover", runs);
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("node-1: I/O stalled ") != std::string::npos);
  CHECK(run.err.find("during the upgrade (limit 15 s; 1 s resolution)") != std::string::npos);
  CHECK(run.err.find("FAIL on the upgrade window: halting and rolling back") != std::string::npos);
  CheckRolledBackAtCanary(lab);
  const std::string dir = OnlyRunDir(runs);
  nlohmann::json up = nlohmann::json::parse(std::ifstream(dir + "/upgrade-wave1.json"));
  INFO(up.dump(2));
  CHECK(up["verdict"] == "FAIL");
  REQUIRE(up["clients"].size() == 2);
  // The whole hold is inside the window (it lasts until the canary is active again): 45 s,
  // give or take the agent's 1 s interval at each edge.
  const double stall = up["clients"][0]["longest_stall_s"].get<double>();
  CHECK(stall >= 43);
  CHECK(stall <= 47);
  CHECK(up["clients"][0]["stall_open"] == false);
  CHECK(up["clients"][0]["peak_backlog"].get<int>() > 100);
  CHECK(up["clients"][1]["role"] == "control");
  CHECK(up["clients"][1]["longest_stall_s"].get<double>() < 15);
  nlohmann::json report = nlohmann::json::parse(std::ifstream(dir + "/report.json"));
  CHECK(report["run"]["verdict"] == "FAIL");
  CHECK(report["waves"][0]["upgrade"]["verdict"] == "FAIL");
  CHECK(ReadAll(dir + "/summary.md").find("I/O stalled") != std::string::npos);
  CHECK(ReadAll(dir + "/junit.xml").find("wave1 upgrade window") != std::string::npos);
}

TEST_CASE("upgrade window: an upgrade that fails I/O for 4 s instead of pausing FAILs at the canary on its errors", "[lab]") {
  TestLab lab(2, "127.0.52");
  std::string scn = ShortScenario(lab, "errors", {kPassJudge});
  const std::string runs = lab.dir + "/runs";
  CommandResult run = RunImage(lab, scn, "2.0-upgrade-errors", runs);
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("operation(s) failed and ") != std::string::npos);
  CHECK(run.err.find("during the upgrade (limit 0)") != std::string::npos);
  CheckRolledBackAtCanary(lab);
  nlohmann::json up = nlohmann::json::parse(std::ifstream(OnlyRunDir(runs) + "/upgrade-wave1.json"));
  INFO(up.dump(2));
  CHECK(up["verdict"] == "FAIL");
  CHECK(up["clients"][0]["errors"].get<int>() > 0);
  CHECK(up["clients"][0]["lost"] == 0);   // failed before acceptance, or retried: never lost
  CHECK(up["clients"][1]["errors"] == 0);  // the control's storage did not flash
}

}  // namespace
}  // namespace fwcanary::testing
