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
      for (uint64_t k = 0; k < rate; ++k) d.hist.Record(lat(rng));
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
  CHECK(bad.reason.find("breaks its SLO of at most 8 ms (") != std::string::npos);
  CHECK(bad.reason.find("slower than the limit, 1% allowed; at least ") != std::string::npos);
  CHECK(bad.checks[0].good > 8);

  // The limit at the measured value: neither side can be shown.
  const double at = ok.checks[0].value;
  SloJudgment edge = JudgeSlos({{"p99", "deliver", "surge", at, false}}, {runs[0]}, "wave1", 0.01);
  CHECK(edge.overall == Verdict::kInconclusive);
  CHECK(edge.reason.find("cannot be told from its SLO") != std::string::npos);
}

TEST_CASE("slo: a p99 far inside its limit is shown met on a short window, slow operations in bursts widen the bound") {
  // A p99 of ~20 ms against 1000 ms. The p99 of a few blocks of intervals could not bound this
  // (CI measured 56 ms [2.1, 1518] on a minute's window); the share of operations slower than
  // the limit does.
  // A minute of it (900 operations) shows it met; 15 s (225) cannot: none of 225 slower bounds
  // the share at 2.3% at 99% confidence, over the 1% a p99 allows.
  std::vector<Run> minute = {SloRun("node-1", 10, 60, 15, 0, 3)};
  const std::vector<SloLimit> limits = {{"p99", "deliver", "steady", 1000, false}, {"p99", "deliver", "surge", 1000, false}};
  SloJudgment ok = JudgeSlos(limits, minute, "wave1", 0.01);
  INFO(RenderSloTable(ok));
  CHECK(ok.overall == Verdict::kPass);
  CHECK(ok.checks[0].bad < 1000);
  CHECK(ok.checks[0].sentence.find("(0% of 900 slower than the limit, 1% allowed; at most ") != std::string::npos);
  SloJudgment quarter = JudgeSlos(limits, {SloRun("node-1", 10, 15, 15, 0, 3)}, "wave1", 0.01);
  INFO(RenderSloTable(quarter));
  CHECK(quarter.overall == Verdict::kInconclusive);
  CHECK(quarter.reason.find("a longer window would") != std::string::npos);

  // 2% of operations over a 40 ms limit: spread evenly over a minute, that breaks "p99 <= 40 ms";
  // the same count packed into three seconds (a stall) is as likely a burst of a p99 that holds
  // otherwise: the bound widens and it cannot be told.
  auto with_slow = [](bool burst) {
    Run r = SloRun("node-1", 5, 60, 50, 0, 4);
    Window& w = r.windows[0];
    for (std::size_t i = 0; i < w.intervals.size(); ++i) {
      OpStats& d = w.intervals[i].ops["deliver"];
      d.hist.Clear();
      uint64_t slow = burst ? (i < 3 ? 20 : 0) : 1;  // 60 slow of 3000 either way
      d.hist.Record(5000, d.count - slow);
      if (slow > 0) d.hist.Record(80000, slow);
    }
    return r;
  };
  SloJudgment even = JudgeSlos({{"p99", "deliver", "steady", 40, false}}, {with_slow(false)}, "wave1", 0.01);
  SloJudgment bursty = JudgeSlos({{"p99", "deliver", "steady", 40, false}}, {with_slow(true)}, "wave1", 0.01);
  INFO(RenderSloTable(even) << RenderSloTable(bursty));
  CHECK(even.overall == Verdict::kFail);
  CHECK(bursty.overall == Verdict::kInconclusive);
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

TEST_CASE("slo: a breach FAILs any relative verdict, an unshown level holds only a PASS, a met one changes nothing") {
  std::vector<Run> runs = {SloRun("node-1", 10)};
  SloJudgment met = JudgeSlos({{"p99", "deliver", "", 200, false}}, runs, "wave1", 0.01);
  SloJudgment breaks = JudgeSlos({{"p99", "deliver", "", 2, false}}, runs, "wave1", 0.01);
  SloJudgment unshown = JudgeSlos({{"p99", "retrieve", "", 200, false}}, runs, "wave1", 0.01);
  REQUIRE(met.overall == Verdict::kPass);
  REQUIRE(breaks.overall == Verdict::kFail);
  REQUIRE(unshown.overall == Verdict::kInconclusive);
  struct Case {
    Verdict before;
    const SloJudgment* slo;
    Verdict after;
    bool reason_is_slo;
  };
  for (const Case& c : {Case{Verdict::kPass, &met, Verdict::kPass, false},
                        Case{Verdict::kInconclusive, &met, Verdict::kInconclusive, false},
                        Case{Verdict::kPass, &breaks, Verdict::kFail, true},
                        Case{Verdict::kInconclusive, &breaks, Verdict::kFail, true},
                        Case{Verdict::kFail, &breaks, Verdict::kFail, false},  // the relative FAIL's reason stays
                        Case{Verdict::kPass, &unshown, Verdict::kInconclusive, true},
                        Case{Verdict::kInconclusive, &unshown, Verdict::kInconclusive, false},
                        Case{Verdict::kFail, &unshown, Verdict::kFail, false}}) {
    Verdict v = c.before;
    std::string reason = "relative";
    HoldToServiceLevels(*c.slo, &v, &reason);
    INFO(VerdictName(c.before) << " with SLO " << VerdictName(c.slo->overall));
    CHECK(v == c.after);
    CHECK((reason.rfind("service level: ", 0) == 0) == c.reason_is_slo);
    if (c.reason_is_slo) CHECK(reason == "service level: " + c.slo->reason);
  }
}

}  // namespace fwcanary::judge
