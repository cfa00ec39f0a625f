// The real agent binary driving the real fio (Debian's fio 3.33).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "tests/integration/agent_runner.h"

using fwcanary::testing::AgentRun;
using fwcanary::testing::RunAgent;
using fwcanary::testing::ScratchDir;
using nlohmann::json;

TEST_CASE("fio engine: json+ intervals become deliver and retrieve records", "[agent][fio]") {
  ScratchDir dir;
  AgentRun run = RunAgent({"--spec", std::string(FWCANARY_EXAMPLES) + "/fio-mail.json",
                           "--workdir", dir.path + "/w", "--duration", "3"});
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  auto iv = run.intervals("steady");
  REQUIRE(iv.size() >= 2);
  uint64_t deliver = 0, retrieve = 0;
  for (const auto& r : iv) {
    CHECK(r["engine"] == "fio");
    CHECK(r["ops"]["deliver"]["count"].get<uint64_t>() > 0);
    CHECK_FALSE(r["ops"]["deliver"]["hist"]["counts"].empty());
    deliver += r["ops"]["deliver"]["count"].get<uint64_t>();
    // Every interval carries the class, but one may hold no read: on a loaded CI machine fio's
    // read job once completed nothing in an interval (the last one is often half a second).
    REQUIRE(r["ops"].contains("retrieve"));
    retrieve += r["ops"]["retrieve"]["count"].get<uint64_t>();
  }
  CHECK(retrieve > 0);
  const json& sum = run.summary();
  CHECK(sum["ops"]["deliver"]["count"] == deliver);
  CHECK(sum["ops"]["deliver"]["p99_us"].get<double>() > 0);
  CHECK(sum["status"] == "ok");
}

TEST_CASE("a missing fio is a clear error", "[agent][fio][fault]") {
  ScratchDir dir;
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"},
                          R"({"engine": "fio", "duration_s": 1, "fio": {"binary": "/nonexistent/fio"}})");
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains("fio binary '/nonexistent/fio' not found"));
  CHECK(run.summary()["status"] == "error");
}

TEST_CASE("an fio that exits non-zero is a clear error", "[agent][fio][fault]") {
  ScratchDir dir;
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"},
                          R"({"engine": "fio", "duration_s": 1, "fio": {"binary": "/bin/false"}})");
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.stderr_text, Catch::Contains("fio exited with status 1"));
}

TEST_CASE("an fio that fails after measuring still gives a summary of what it measured", "[agent][fio][fault]") {
  // engine.h's contract: a bare error only when nothing was measured. A wrapper runs the real
  // fio to the end of its phase and then exits 3 (as an fio killed by a full disk at the end
  // would): the intervals it printed stand, and the summary says what went wrong.
  ScratchDir dir;
  std::string wrapper = dir.path + "/fio-then-fail";
  {
    std::ofstream out(wrapper);
    out << "#!/bin/sh\nfio \"$@\"\nexit 3\n";
  }
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  AgentRun run = RunAgent({"--spec", "-", "--workdir", dir.path + "/w"},
                          R"({"engine": "fio", "concurrency": 2, "fio": {"binary": ")" + wrapper +
                              R"(", "nrfiles": 100}, "phases": [{"name": "steady", "duration_s": 3}],
                              "mix": {"deliver": 0.5, "retrieve": 0.5, "scan": 0},
                              "size": {"dist": "fixed", "mean_bytes": 16384}})");
  INFO(run.stderr_text);
  CHECK(run.exit_code == 2);
  auto iv = run.intervals("steady");
  REQUIRE(!iv.empty());
  uint64_t deliver = 0;
  for (const auto& r : iv) deliver += r["ops"]["deliver"]["count"].get<uint64_t>();
  const json& sum = run.summary();
  CHECK(sum["status"] == "error");
  CHECK_THAT(sum["error"].get<std::string>(), Catch::Contains("fio exited with status 3"));
  CHECK(sum["ops"]["deliver"]["count"] == deliver);
  CHECK(deliver > 0);
}
