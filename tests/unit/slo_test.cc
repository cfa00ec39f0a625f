// Absolute service levels (harness/judge/slo.h): one-sided bounds against a limit, per client
// and phase, in the units people write SLOs in (issue 21).
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "harness/judge/slo.h"

namespace fwcanary::judge {
namespace {

// A run of `n` 1 s intervals per phase; deliver latencies lognormal around `median_ms` (sd 0.3
// on the log scale), `rate` completions per second, `errors` failed deliveries per interval.
Run SloRun(const std::string& node, double median_ms, int n = 60, uint64_t rate = 30, uint64_t errors = 0,
           unsigned seed = 1) {
  Run run;
  run.node = node;
  run.id = node;
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> lat(std::log(median_ms * 1000), 0.3);
  for (const char* phase : {"steady", "surge"}) {
    Window w;
    w.phase = phase;
    for (int i = 0; i < n; ++i) {
      IntervalRecord r;
      r.phase = phase;
      r.t = i + 1;
      r.dt = 1;
      r.intended_rate = static_cast<double>(rate);
      r.offered_rate = static_cast<double>(rate);
      r.achieved_rate = static_cast<double>(rate);
      OpStats& d = r.ops["deliver"];
      d.count = rate;
      d.errors = errors;
      for (uint64_t k = 0; k < rate; ++k) d.hist.Record(static_cast<uint64_t>(lat(rng)));
      w.intervals.push_back(std::move(r));
    }
    run.windows.push_back(std::move(w));
  }
  return run;
}

}  // namespace

TEST_CASE("slo: clearly within PASSes, clearly beyond FAILs, at the limit is INCONCLUSIVE") {
  std::vector<Run> runs = {SloRun("node-1", 10, 60, 30, 0, 1), SloRun("node-2", 10, 60, 30, 0, 2)};
  // p99 of a lognormal(median 10 ms, sd 0.3) is ~20 ms.
  SloJudgment ok = JudgeSlos({{"p99", "deliver", "surge", 200, false}}, runs, "wave1", 0.01);
  INFO(RenderSloTable(ok));
  CHECK(ok.overall == Verdict::kPass);
  REQUIRE(ok.checks.size() == 2);  // one per client, only the surge phase
  CHECK(ok.checks[0].phase == "surge");
  CHECK(ok.checks[0].value > 15);
  CHECK(ok.checks[0].value < 25);
  CHECK(ok.checks[0].bad < 200);
  CHECK(ok.checks[0].sentence.find("node-1: deliver p99 in surge ") == 0);
  CHECK(ok.checks[0].sentence.find("meets its SLO of at most 200 ms") != std::string::npos);

  SloJudgment bad = JudgeSlos({{"p99", "deliver", "", 8, false}}, runs, "wave1", 0.01);
  CHECK(bad.overall == Verdict::kFail);
  CHECK(bad.checks.size() == 4);  // both phases of both clients
  CHECK(bad.reason.find("breaks its SLO of at most 8 ms (at least ") != std::string::npos);
  CHECK(bad.checks[0].good > 8);

  // The limit at the measured value: neither side can be shown.
  const double at = ok.checks[0].value;
  SloJudgment edge = JudgeSlos({{"p99", "deliver", "surge", at, false}}, {runs[0]}, "wave1", 0.01);
  CHECK(edge.overall == Verdict::kInconclusive);
  CHECK(edge.reason.find("cannot be told from its SLO") != std::string::npos);
}

TEST_CASE("slo: throughput is a lower limit, the error rate is in percent, baseline-only limits, a phase with no data") {
  std::vector<Run> runs = {SloRun("node-1", 10, 60, 30, 0)};
  CHECK(JudgeSlos({{"throughput", "deliver", "steady", 20, false}}, runs, "wave1", 0.01).overall == Verdict::kPass);
  SloJudgment slow = JudgeSlos({{"throughput", "deliver", "steady", 40, false}}, runs, "wave1", 0.01);
  CHECK(slow.overall == Verdict::kFail);
  CHECK(slow.reason.find("breaks its SLO of at least 40 ops/s") != std::string::npos);

  // 3 errors in 30 per interval: 10%.
  std::vector<Run> failing = {SloRun("node-1", 10, 60, 30, 3)};
  SloJudgment err = JudgeSlos({{"error_rate", "deliver", "steady", 1, false}}, failing, "wave1", 0.01);
  INFO(RenderSloTable(err));
  CHECK(err.overall == Verdict::kFail);
  CHECK(err.checks[0].value > 5);
  CHECK(JudgeSlos({{"error_rate", "deliver", "steady", 1, false}}, runs, "wave1", 0.01).overall != Verdict::kFail);

  // Only the limits marked baseline are judged on the baseline.
  SloJudgment base = JudgeSlos({{"p99", "deliver", "", 8, false}, {"p99", "deliver", "", 200, true}}, runs,
                               "baseline", 0.01, true);
  CHECK(base.overall == Verdict::kPass);
  CHECK(base.checks.size() == 2);

  // A class the window never saw: the SLO cannot be shown.
  SloJudgment none = JudgeSlos({{"p99", "retrieve", "steady", 200, false}}, runs, "wave1", 0.01);
  CHECK(none.overall == Verdict::kInconclusive);
  REQUIRE(none.missing.size() == 1);
  CHECK(none.missing[0].find("node-1: no retrieve p99 in steady") == 0);
  nlohmann::json j = ToJson(none);
  CHECK(j["verdict"] == "INCONCLUSIVE");
}

}  // namespace fwcanary::judge
