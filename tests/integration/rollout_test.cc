// `fwcanary plan` and `fwcanary run` through the real path: the lab's sshd and fwsim nodes, the
// real agent deployed by SFTP, the real judge. The demo scenario with the surge-only regressed
// firmware must FAIL at the canary in the surge phase, roll the canary back and leave the other
// nodes untouched.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/test_lab.h"

namespace fwcanary::testing {
namespace {

std::string StatusField(const TestLab& lab, int node, const std::string& field) {
  std::string status = lab.Ask(node, "fwsim-node status");
  std::size_t at = status.find(field + ": ");
  if (at == std::string::npos) return "";
  std::size_t end = status.find('\n', at);
  return status.substr(at + field.size() + 2, end - at - field.size() - 2);
}

TEST_CASE("rollout: the surge-only regression FAILs at the canary and is rolled back") {
  TestLab lab(3, "127.0.19");
  std::string runs = lab.dir + "/runs";
  CommandOptions o;
  o.env = {{"FWCANARY_LAB", lab.dir}};
  o.timeout_s = 600;
  CommandResult plan = RunCommand({FWCANARY_BIN, "plan", FWCANARY_SCENARIOS "/demo.yaml"}, o);
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("wave 1 (canary): node-1") != std::string::npos);

  CommandResult run = RunCommand(
      {FWCANARY_BIN, "run", FWCANARY_SCENARIOS "/demo.yaml", "--runs", runs, "--during-s", "10"}, o);
  INFO(run.err);
  CHECK(run.exit_code == 1);
  // The canary is back on its old firmware: flashed once, rolled back once.
  CHECK(lab.Ask(1, "fwsim-node version") == "1.0");
  CHECK(StatusField(lab, 1, "flashes") == "2");
  // The other nodes were never touched.
  CHECK(StatusField(lab, 2, "flashes") == "0");
  CHECK(StatusField(lab, 3, "flashes") == "0");

  REQUIRE(std::filesystem::exists(runs));
  std::string dir = std::filesystem::directory_iterator(runs)->path().string();
  nlohmann::json result = nlohmann::json::parse(std::ifstream(dir + "/result.json"));
  CHECK(result["exit_code"] == 1);
  REQUIRE(result["waves"].size() == 1);
  CHECK(result["waves"][0]["verdict"] == "FAIL");
  nlohmann::json verdict = nlohmann::json::parse(std::ifstream(dir + "/verdict-wave1.json"));
  int surge_fails = 0, steady_fails = 0;
  for (const auto& m : verdict["metrics"]) {
    if (m["verdict"] != "FAIL") continue;
    if (m["phase"] == "surge") ++surge_fails;
    if (m["phase"] == "steady") ++steady_fails;
  }
  CHECK(surge_fails > 0);
  CHECK(steady_fails == 0);  // a surge-only regression: steady load looks fine
  CHECK(std::filesystem::exists(dir + "/samples/baseline-node-2.jsonl"));
  CHECK(std::filesystem::exists(dir + "/samples/wave1-during-node-1.jsonl"));
}

TEST_CASE("rollout: a drift check catches a setting the upgrade reset") {
  TestLab lab(2, "127.0.20");
  CommandOptions o;
  o.env = {{"FWCANARY_LAB", lab.dir}};
  o.timeout_s = 600;
  // A short workload: the drift check fails the wave before the post-upgrade window.
  std::string scn = lab.dir + "/drift.yaml";
  std::ifstream in(FWCANARY_SCENARIOS "/demo.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& a, const std::string& b) {
    text.replace(text.find(a), a.size(), b);
  };
  replace("{name: steady, duration_s: 60}", "{name: steady, duration_s: 3}");
  replace("{name: surge, duration_s: 30, multiplier: 3}", "{name: surge, duration_s: 2, multiplier: 3}");
  replace("{name: drain, duration_s: 20, drain: true}", "{name: drain, duration_s: 5, drain: true}");
  std::ofstream(scn) << text;
  CommandResult run = RunCommand({FWCANARY_BIN, "run", scn, "--image", "2.0-setting-reset",
                                  "--runs", lab.dir + "/runs", "--during-s", "5"},
                                 o);
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("drift check 'mail settings' changed") != std::string::npos);
  CHECK(run.err.find("inbound_smtp = 0") != std::string::npos);
  CHECK(lab.Ask(1, "fwsim-node version") == "1.0");  // rolled back
}

}  // namespace
}  // namespace fwcanary::testing
