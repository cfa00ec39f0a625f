// The agent's command line: help, version, and bad input turned into exit 2 with a reason.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

TEST_CASE("a bad spec file is refused with file, line, column and field", "[agent][cli][bad-input]") {
  ScratchDir dir;
  std::string path = dir.path + "/bad.json";
  std::ofstream(path) << "{\n  \"rate\": 100,\n  \"phases\": [{\"name\": \"s\", \"duration_s\": -1}]\n}\n";
  AgentRun run = RunAgent({"--spec", path, "--workdir", dir.path + "/w"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains(path + ":3:"));
  CHECK_THAT(run.stderr_text, Catch::Contains("phases[0].duration_s"));
  CHECK(run.records.empty());
}

TEST_CASE("a spec of 100,000 nested brackets is refused at once, not read into gigabytes", "[agent][cli][bad-input]") {
  // Issue 28: 200 KB of `[` grew the agent to 3.4 GB in 8 s (a pointer string per nested
  // value); the reader stops at 64 levels with the position.
  ScratchDir dir;
  std::string path = dir.path + "/deep.json";
  std::ofstream(path) << "{\"phases\": " << std::string(100000, '[') << std::string(100000, ']') << "}\n";
  AgentRun run = RunAgent({"--spec", path, "--workdir", dir.path + "/w"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains(path + ":1:"));
  CHECK_THAT(run.stderr_text, Catch::Contains("nested deeper than 64 levels"));
}

TEST_CASE("bad command-line values and a missing spec are refused", "[agent][cli][bad-input]") {
  CHECK(RunAgent({"--spec", "-", "--rate", "-3"}).exit_code == 2);
  CHECK(RunAgent({"--workdir", "/tmp/x"}).exit_code == 2);
  CHECK(RunAgent({"--spec", "/nonexistent.json"}).exit_code == 2);
  AgentRun unknown = RunAgent({"--spec", "-", "--workdir", "/tmp/none"}, R"({"rat": 5})");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.stderr_text, Catch::Contains("<stdin>:1:2: field 'rat': unknown field"));
}

TEST_CASE("an agent whose reader went away stops its run and cleans up", "[agent][cli][fault]") {
  // `head -n 2` takes the start record and one interval and exits: the agent's next record
  // meets a broken pipe (the controller closed its SSH session). It must stop the 60 s run,
  // not load the storage for nobody, and still remove what it wrote (--cleanup).
  ScratchDir dir;
  std::string spec = dir.path + "/spec.json";
  std::ofstream(spec) << R"({"rate": 50, "duration_s": 60, "size": {"dist": "fixed", "mean_bytes": 2048}})";
  std::string cmd = std::string(FWCANARY_AGENT_BIN) + " --spec " + spec + " --workdir " + dir.path +
                    "/w --cleanup 2>" + dir.path + "/err | head -n 2 > " + dir.path + "/out";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream err(dir.path + "/err");
  std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("the reader of the records went away: stopping"));
  // Only the marker's directory may remain; no mail was left behind.
  std::size_t files = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir.path + "/w", ec);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file() && it->path().filename().string().rfind(".fwcanary", 0) != 0) ++files;
  }
  CHECK(files == 0);
}
