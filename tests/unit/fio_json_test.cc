#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "agents/fio/fio_job.h"
#include "agents/fio/fio_json.h"

using namespace fwcanary;

namespace {
std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(FWCANARY_FIXTURES) + "/" + name);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("the splitter cuts glued JSON documents and skips noise", "[fio]") {
  JsonDocumentSplitter s;
  auto a = s.Feed("fio: warning {\"a\": \"}{\\\"\", \"b\": [1, {\"c\": 2}]}{\"x\"");
  REQUIRE(a.size() == 1);
  CHECK(a[0] == "{\"a\": \"}{\\\"\", \"b\": [1, {\"c\": 2}]}");
  auto b = s.Feed(": 1}\n{}");
  REQUIRE(b.size() == 2);
  CHECK(b[0] == "{\"x\": 1}");
  CHECK(b[1] == "{}");
}

TEST_CASE("fio 3.33 json+ status output parses into cumulative snapshots", "[fio]") {
  // Recorded from Debian's fio 3.33: a deliver (write+fsync) and a retrieve (read) job,
  // --status-interval=1, 2 s: two status documents and the final one.
  auto snaps = ParseFioOutput(Fixture("fio-3.33-jsonplus-status.json"));
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 3);
  const FioSnapshot& last = snaps->back();
  CHECK(last.fio_version == "fio-3.33");
  CHECK(last.runtime_s == Approx(2.0));
  const OpStats& d = last.ops.at("deliver");
  CHECK(d.count == 7246);  // sync.total_ios: deliver latency is the fsync's
  CHECK(d.bytes == 113065984);
  CHECK(d.hist.count() == d.count);  // every fsync is in json+'s bins
  const OpStats& r = last.ops.at("retrieve");
  CHECK(r.count == 21002);
  CHECK(r.hist.count() == r.count);
  CHECK(d.hist.Quantile(0.99) > d.hist.Quantile(0.5));

  // Interval diffs add back up to the final totals.
  uint64_t sum = 0, hist_sum = 0;
  FioSnapshot prev;
  for (const auto& s : snaps.value()) {
    auto diff = DiffSnapshots(prev, s);
    sum += diff["deliver"].count;
    hist_sum += diff["deliver"].hist.count();
    prev = s;
  }
  CHECK(sum == d.count);
  CHECK(hist_sum == d.count);
}

TEST_CASE("plain fio json (no bins) still gives counts, bytes and the mean", "[fio]") {
  auto snaps = ParseFioOutput(Fixture("fio-3.33-json.json"));
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 1);
  const OpStats& d = snaps->back().ops.at("deliver");
  CHECK(d.count > 0);
  CHECK(d.hist.count() == d.count);
}

TEST_CASE("non-fio JSON is refused", "[fio][bad-input]") {
  CHECK_FALSE(ParseFioOutput("{\"hello\": 1}").ok());
  CHECK_FALSE(ParseFioOutput("no json here").ok());
}

TEST_CASE("the fio job avoids the known 3.33 traps", "[fio]") {
  WorkloadSpec spec;
  Phase p;
  p.name = "steady";
  p.duration_s = 10;
  std::string job = MakeFioJob(spec, p, "/w/fio", 2);
  CHECK_THAT(job, Catch::Contains("fsync=1"));
  CHECK_THAT(job, Catch::Contains("numjobs=2"));
  CHECK_THAT(job, Catch::Contains("[deliver]"));
  CHECK_THAT(job, Catch::Contains("[retrieve]"));
  for (const char* trap : {"rate_process", "rate_iops", "io_submit_mode", "fsync_on_close",
                           "thread"}) {
    CHECK_THAT(job, !Catch::Contains(trap));
  }
}
