// The agent's wait for a CPU: schedstat's format as the kernel writes it, per-thread counting
// (a new thread, a reused TID, an exited one), no figure without schedstat; the record field.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "agents/cpu_run_delay.h"
#include "agents/records/records.h"
#include "tests/unit/scratch.h"

namespace fwcanary {
namespace {

TEST_CASE("cpu run delay: the kernel's schedstat line is read, anything else gives nothing", "[records]") {
  // /proc/self/task/TID/schedstat on Linux 6.1: on-CPU ns, run-queue wait ns, timeslices.
  CHECK(ParseSchedstatWaitNs("1188323 4096 2\n") == 4096U);
  CHECK(ParseSchedstatWaitNs("1188323 4096 2") == 4096U);
  CHECK_FALSE(ParseSchedstatWaitNs("").has_value());
  CHECK_FALSE(ParseSchedstatWaitNs("1 2").has_value());
  CHECK_FALSE(ParseSchedstatWaitNs("1 2 3 4").has_value());
  CHECK_FALSE(ParseSchedstatWaitNs("1 -2 3").has_value());
  CHECK_FALSE(ParseSchedstatWaitNs("1 99999999999999999999999 3").has_value());
}

TEST_CASE("cpu run delay: each thread's wait since the last reading, new and reused threads from zero", "[records]") {
  testing::Scratch dir;
  auto set = [&](const std::string& tid, unsigned long long wait_ns) {
    std::filesystem::create_directories(dir.path + "/" + tid);
    std::ofstream(dir.path + "/" + tid + "/schedstat") << "1000 " << wait_ns << " 7\n";
  };
  set("100", 5000000);
  set("101", 1000000);
  CpuRunDelay d(dir.path);
  set("100", 5000000 + 2000000);  // waited 2 ms
  set("101", 1000000 + 500000);   // 0.5 ms
  set("102", 300000);             // a new worker: all of its 0.3 ms is since then
  CHECK(d.Take().value() == Approx(2800));
  std::filesystem::remove_all(dir.path + "/101");  // exited: its wait since then is lost
  set("102", 100000);                              // TID reused by a new thread: from zero
  CHECK(d.Take().value() == Approx(100));
  CHECK(d.Take().value() == Approx(0));  // nothing waited
  CpuRunDelay none(dir.path + "/absent");
  CHECK_FALSE(none.Take().has_value());
  // This process's own threads, as the agent reads them.
  CpuRunDelay self;
  auto real = self.Take();
  REQUIRE(real.has_value());
  CHECK(*real >= 0);
}

TEST_CASE("records: cpu_run_delay_us is kept, absent when unmeasured, refused when not microseconds",
          "[records][bad-input]") {
  IntervalRecord r;
  r.node = "node-1";
  r.phase = "steady";
  r.t = 1;
  r.dt = 1;
  CHECK_FALSE(r.ToJson().contains("cpu_run_delay_us"));
  r.cpu_run_delay_us = 1234.5;
  auto back = ParseRecordLine(r.ToJson().dump());
  REQUIRE(back.ok());
  CHECK(std::get<IntervalRecord>(back.value()).cpu_run_delay_us == 1234.5);
  for (const char* bad : {"-1", "1e300"}) {
    auto got = ParseRecordLine(std::string(R"({"type":"interval","v":1,"node":"n","phase":"p","t":1,"dt":1,"cpu_run_delay_us":)") +
                               bad + R"(,"ops":{}})");
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message().find("cpu_run_delay_us") != std::string::npos);
  }
}

}  // namespace
}  // namespace fwcanary
