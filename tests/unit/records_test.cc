#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agents/records/records.h"

using namespace fwcanary;

TEST_CASE("interval and summary records round-trip through JSON lines", "[records]") {
  IntervalRecord r;
  r.node = "node-1";
  r.engine = "mail";
  r.phase = "surge";
  r.t = 12;
  r.dt = 1;
  r.intended_rate = 600;
  r.queue_depth = 17;
  r.space.stored_messages = 1500;
  r.ops["deliver"].count = 3;
  r.ops["deliver"].hist.Record(850);
  r.ops["deliver"].hist.Record(4100);
  r.ops["deliver"].hist.Record(9000);
  auto back = ParseRecordLine(r.ToJson().dump());
  REQUIRE(back.ok());
  const auto& got = std::get<IntervalRecord>(back.value());
  CHECK(got.phase == "surge");
  CHECK(got.queue_depth == 17);
  CHECK(got.space.stored_messages == 1500);
  CHECK(got.ops.at("deliver").hist.count() == 3);
  CHECK(got.ops.at("deliver").hist.Quantile(0.99) == r.ops["deliver"].hist.Quantile(0.99));

  SummaryRecord s;
  s.node = "node-1";
  s.lost = {"a_1"};
  s.corrupt = {"a_2", "a_3"};
  PhaseSummary p;
  p.name = "drain";
  p.drain = true;
  p.drain_time_s = 4.5;
  s.phases.push_back(p);
  auto sb = ParseRecordLine(s.ToJson().dump());
  REQUIRE(sb.ok());
  const auto& gs = std::get<SummaryRecord>(sb.value());
  CHECK(gs.lost == s.lost);
  CHECK(gs.corrupt.size() == 2);
  CHECK(gs.phases.at(0).drain_time_s.value() == 4.5);
}

TEST_CASE("record reader skips unknown types and rejects garbage", "[records][bad-input]") {
  CHECK(ParseRecordLine(R"({"type":"heartbeat","v":2})").status().code() ==
        Status::Code::kNotFound);
  CHECK(ParseRecordLine("not json").status().code() == Status::Code::kInvalidArgument);
  CHECK(ParseRecordLine(R"({"type":"interval"})").status().code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("record reader refuses numbers a field cannot hold instead of converting them",
          "[records][bad-input]") {
  // Found by ci/fuzz: a float count of 7.8e97 reached get<uint64_t>() (undefined behaviour).
  auto huge = ParseRecordLine(
      R"({"type":"interval","v":1,"node":"n","phase":"p","t":1,"dt":1,"ops":{"deliver":{"count":7.77778e+97}}})");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message().find("whole number >= 0") != std::string::npos);
  CHECK_FALSE(ParseRecordLine(
                  R"({"type":"summary","v":1,"node":"n","ops":{"deliver":{"count":-3}}})")
                  .ok());
  CHECK_FALSE(ParseRecordLine(R"({"type":"interval","v":1e300,"node":"n","phase":"p","t":1,"dt":1,"ops":{}})").ok());
  // A histogram whose buckets lie outside what Record can produce would make Merge allocate
  // billions of buckets.
  CHECK_FALSE(ParseRecordLine(
                  R"({"type":"interval","v":1,"node":"n","phase":"p","t":1,"dt":1,"ops":{"deliver":{"count":1,"hist":{"gamma":1.02,"first":-2000000000,"counts":[1]}}}})")
                  .ok());
  // Whole floats are counts (some writers print 1e3); an ordinary record still parses.
  auto whole = ParseRecordLine(
      R"({"type":"interval","v":1,"node":"n","phase":"p","t":1,"dt":1,"queue_depth":1e3,"ops":{"deliver":{"count":2.0}}})");
  REQUIRE(whole.ok());
  CHECK(std::get<IntervalRecord>(whole.value()).queue_depth == 1000);
  CHECK(std::get<IntervalRecord>(whole.value()).ops.at("deliver").count == 2);
}
