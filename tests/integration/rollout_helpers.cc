#include "tests/integration/rollout_helpers.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

namespace fwcanary::testing {

std::string StatusField(const TestLab& lab, int node, const std::string& field) {
  std::string status = lab.Ask(node, "fwsim-node status");
  std::size_t at = status.find(field + ": ");
  if (at == std::string::npos) return "";
  std::size_t end = status.find('\n', at);
  return status.substr(at + field.size() + 2, end - at - field.size() - 2);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ShortScenario(const TestLab& lab, const std::string& name,
                          const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = ReadAll(FWCANARY_SCENARIOS "/demo.yaml");
  auto replace = [&](const std::string& a, const std::string& b) {
    std::size_t at = text.find(a);
    REQUIRE(at != std::string::npos);
    text.replace(at, a.size(), b);
  };
  replace("{name: steady, duration_s: 60}", "{name: steady, duration_s: 15}");
  replace("{name: surge, duration_s: 30, multiplier: 3}", "{name: surge, duration_s: 8, multiplier: 3}");
  replace("{name: drain, duration_s: 20, drain: true}", "{name: drain, duration_s: 5, drain: true}");
  replace("  margin_s: 5\n", "  margin_s: 2\n");
  // The demo's service levels need its minute-long windows: on 15 s ones too few blocks bound
  // a p99 (CI measured 56 ms [2.1, 1518] against 1000) and would hold every PASS.
  const std::size_t slo = text.find("\nslo:\n");
  const std::size_t reports = text.find("\nreports:\n", slo);
  REQUIRE(slo != std::string::npos);
  REQUIRE(reports != std::string::npos);
  text.erase(slo + 1, reports - slo);
  for (const auto& [a, b] : edits) replace(a, b);
  std::string path = lab.dir + "/" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

const std::pair<std::string, std::string> kPassJudge = {
    "critical: [throughput, p50, error_rate, bytes_per_message, drain_time]",
    "critical: [throughput, error_rate]\n  # short test windows\n"};
const std::pair<std::string, std::string> kPassTolerances = {"  tolerances:\n",
                                                             "  tolerances:\n    throughput: 0.3\n"};

const std::pair<std::string, std::string> kQuickResend = {"  stable_s: 3\n", "  stable_s: 3\n  resend_after_s: 5\n"};

std::pair<std::string, std::string> WithServiceLevels(const std::string& items) {
  return {"reports:\n  dir: runs", "slo:\n" + items + "reports:\n  dir: runs"};
}

std::string OnlyRunDir(const std::string& runs) {
  std::vector<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(runs)) {
    if (e.is_directory()) dirs.push_back(e.path().string());  // not history.db
  }
  REQUIRE(dirs.size() == 1);
  return dirs[0];
}

std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && ReadAll(e.path().string()).find(needle) != std::string::npos) {
      hits.push_back(e.path().string());
    }
  }
  return hits;
}

}  // namespace fwcanary::testing
