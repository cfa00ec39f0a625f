// The agent's command line: help, version, and bad input turned into exit 2 with a reason.
#include <cstdio>
#include <fstream>

#include <catch2/catch.hpp>

#include "tests/integration/agent_runner.h"

using fwcanary::testing::AgentRun;
using fwcanary::testing::RunAgent;
using fwcanary::testing::ScratchDir;

// Output goes to stdout; RunAgent parses stdout as JSON lines, so read it from a shell file.
namespace {
std::string Stdout(const std::string& flag) {
  std::string cmd = std::string(FWCANARY_AGENT_BIN) + " " + flag;
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  return out;
}
}  // namespace

TEST_CASE("help and version and the spec reference answer", "[agent][cli]") {
  std::string help = Stdout("--help");
  CHECK_THAT(help, Catch::Contains("--workdir"));
  CHECK_THAT(help, Catch::Contains("mail v1"));
  CHECK_THAT(help, Catch::Contains("fio v1"));
  CHECK_THAT(Stdout("--version"), Catch::StartsWith("fwcanary-agent 0."));
  std::string spec = Stdout("--help-spec");
  CHECK_THAT(spec, Catch::Contains("queue_minfree_bytes"));
  CHECK_THAT(spec, Catch::Contains("phases[].multiplier"));
}

TEST_CASE("a bad spec file is refused with file, line, column and field", "[agent][cli]") {
  ScratchDir dir;
  std::string path = dir.path + "/bad.json";
  std::ofstream(path) << "{\n  \"rate\": 100,\n  \"phases\": [{\"name\": \"s\", \"duration_s\": -1}]\n}\n";
  AgentRun run = RunAgent({"--spec", path, "--workdir", dir.path + "/w"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains(path + ":3:"));
  CHECK_THAT(run.stderr_text, Catch::Contains("phases[0].duration_s"));
  CHECK(run.records.empty());
}

TEST_CASE("bad command-line values and a missing spec are refused", "[agent][cli]") {
  CHECK(RunAgent({"--spec", "-", "--rate", "-3"}).exit_code == 2);
  CHECK(RunAgent({"--workdir", "/tmp/x"}).exit_code == 2);
  CHECK(RunAgent({"--spec", "/nonexistent.json"}).exit_code == 2);
  AgentRun unknown = RunAgent({"--spec", "-", "--workdir", "/tmp/none"}, R"({"rat": 5})");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.stderr_text, Catch::Contains("<stdin>:1:2: field 'rat': unknown field"));
}
