// The real agent binary driving the real fio (Debian's fio 3.33).
#include <catch2/catch.hpp>

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
