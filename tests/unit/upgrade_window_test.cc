// The upgrade window's judge (harness/judge/upgrade_window.h): stalls found in open-loop
// records, the limits, controls that stalled too, a rebooted client (issue 21).
#include <string>

#include <catch2/catch.hpp>

#include "harness/judge/upgrade_window.h"

namespace fwcanary::judge {
namespace {

// A during window of `n` 1 s intervals at 30 ops/s offered; the intervals in [from, to) complete
// nothing (the storage holds I/O) while the backlog grows; after it, 2 intervals catch up at
// 3x before the rate is back. `completions_in_stall` > 0 makes the "stall" a slow spell.
Run DuringRun(const std::string& node, int n, int from = -1, int to = -1, uint64_t completions_in_stall = 0,
              int from2 = -1, int to2 = -1) {
  Run run;
  run.node = node;
  run.has_summary = true;
  Window w{"during", {}, false, std::nullopt};
  uint64_t backlog = 0;
  int since_stall = 100;
  for (int i = 0; i < n; ++i) {
    IntervalRecord r;
    r.phase = "during";
    r.t = i + 1;
    r.dt = 1;
    r.intended_rate = 30;
    r.offered_rate = 30;
    const bool stalled = (i >= from && i < to) || (i >= from2 && i < to2);
    uint64_t done = 30;
    if (stalled) {
      done = completions_in_stall;
      backlog += 30 - done;
      since_stall = 0;
    } else if (backlog > 0 && since_stall < 2) {
      done = 30 + backlog / 2;
      backlog -= backlog / 2;
      ++since_stall;
    } else if (backlog > 0) {
      done = 30 + backlog;
      backlog = 0;
      ++since_stall;
    }
    r.achieved_rate = static_cast<double>(done);
    r.queue_depth = backlog;
    OpStats& d = r.ops["deliver"];
    d.count = done;
    for (uint64_t k = 0; k < done; ++k) d.hist.Record(1000);
    w.intervals.push_back(std::move(r));
  }
  run.windows.push_back(std::move(w));
  return run;
}

UpgradeClientInput Client(const std::string& node, bool upgraded, const Run* run) {
  UpgradeClientInput c;
  c.node = node;
  c.upgraded = upgraded;
  c.run = run;
  c.baseline_rate = 30;
  return c;
}

TEST_CASE("upgrade window: stalls are runs of intervals with work due and nothing completed") {
  SECTION("a stall in the middle, with its length, place and the recovery after it") {
    Run r = DuringRun("node-1", 60, 10, 55 - 10 + 10);  // 45 intervals stalled: [10, 55)
    int count = 0;
    Stall s = LongestStall(r.windows[0], &count);
    CHECK(s.seconds == 45);
    CHECK(s.t_begin == 10);
    CHECK(s.t_end == 55);
    CHECK_FALSE(s.open);
    CHECK(count == 1);
  }
  SECTION("a stall at the window's start") {
    Run r = DuringRun("node-1", 30, 0, 4);
    Stall s = LongestStall(r.windows[0]);
    CHECK(s.seconds == 4);
    CHECK(s.t_begin == 0);
  }
  SECTION("a stall still going when the window ended is open") {
    Run r = DuringRun("node-1", 30, 20, 30);
    Stall s = LongestStall(r.windows[0]);
    CHECK(s.seconds == 10);
    CHECK(s.open);
  }
  SECTION("two stalls: the longest is reported, both are counted") {
    Run r = DuringRun("node-1", 40, 5, 8, 0, 20, 26);
    int count = 0;
    Stall s = LongestStall(r.windows[0], &count);
    CHECK(s.seconds == 6);
    CHECK(s.t_begin == 20);
    CHECK(count == 2);
  }
  SECTION("a pause shorter than the resolution (every interval completes something) is no stall") {
    Run r = DuringRun("node-1", 30, 10, 20, 3);  // 3 ops/s instead of 30: slow, never stopped
    CHECK(LongestStall(r.windows[0]).seconds == 0);
  }
  SECTION("an idle interval (nothing offered, no backlog) is not a stall") {
    Run r = DuringRun("node-1", 30);
    for (int i = 10; i < 20; ++i) {
      auto& iv = r.windows[0].intervals[static_cast<std::size_t>(i)];
      iv.offered_rate = 0;
      iv.achieved_rate = 0;
      iv.ops["deliver"] = OpStats{};
    }
    CHECK(LongestStall(r.windows[0]).seconds == 0);
  }
}

TEST_CASE("upgrade window: a canary stalled beyond the limit FAILs with one sentence, a brief pause PASSes") {
  UpgradeLimits lim;  // 15 s, no errors
  Run canary = DuringRun("node-1", 70, 5, 50);
  Run control = DuringRun("node-2", 70);
  UpgradeJudgment u = JudgeUpgradeWindow({Client("node-1", true, &canary), Client("node-2", false, &control)}, lim);
  CHECK(u.overall == Verdict::kFail);
  INFO(u.reason);
  CHECK(u.reason.find("node-1: I/O stalled 45 s during the upgrade (limit 15 s; 1 s resolution)") == 0);
  CHECK(u.reason.find("deliveries queued 1,350 deep") != std::string::npos);
  CHECK(u.reason.find("back to baseline throughput 3.0 s after") != std::string::npos);
  REQUIRE(u.clients.size() == 2);
  CHECK(u.clients[1].verdict == Verdict::kPass);
  CHECK(u.clients[0].peak_backlog == 1350);
  REQUIRE(u.clients[0].recovery_s.has_value());
  CHECK(*u.clients[0].recovery_s == 3);

  Run brief = DuringRun("node-1", 40, 5, 8, 0, 20, 23);  // takeover and giveback, 3 s each
  UpgradeJudgment ok = JudgeUpgradeWindow({Client("node-1", true, &brief), Client("node-2", false, &control)}, lim);
  CHECK(ok.overall == Verdict::kPass);
  CHECK(ok.clients[0].stalls == 2);
  CHECK(ok.clients[0].longest.seconds == 3);
  nlohmann::json j = ToJson(ok);
  CHECK(j["verdict"] == "PASS");
  CHECK(j["clients"][0]["longest_stall_s"] == 3);
  CHECK(j["clients"][0]["stalls"] == 2);
}

TEST_CASE("upgrade window: errors, refusals and lost messages FAIL, a control's do not") {
  UpgradeLimits lim;
  Run canary = DuringRun("node-1", 30);
  canary.windows[0].intervals[5].ops["deliver"].errors = 4;
  canary.windows[0].intervals[6].ops["deliver"].refused = 2;
  Run control = DuringRun("node-2", 30);
  control.windows[0].intervals[5].ops["retrieve"].errors = 9;
  UpgradeJudgment u = JudgeUpgradeWindow({Client("node-1", true, &canary), Client("node-2", false, &control)}, lim);
  CHECK(u.overall == Verdict::kFail);
  CHECK(u.reason.find("node-1: 4 operation(s) failed and 2 deliveries were refused during the upgrade (limit 0): deliver 6") == 0);
  CHECK(u.clients[1].verdict == Verdict::kPass);
  CHECK(u.clients[1].failed_by_class.at("retrieve") == 9);
  // A stall within its limit follows the breach as context, never leads the sentence.
  canary.windows[0].intervals[10].ops.clear();
  canary.windows[0].intervals[11].ops.clear();
  UpgradeJudgment both = JudgeUpgradeWindow({Client("node-1", true, &canary)}, lim);
  INFO(both.reason);
  CHECK(both.reason.find("node-1: 4 operation(s) failed") == 0);
  CHECK(both.reason.find("; I/O stalled 2.0 s during the upgrade (limit 15 s") != std::string::npos);
  lim.max_errors = 6;
  CHECK(JudgeUpgradeWindow({Client("node-1", true, &canary)}, lim).overall == Verdict::kPass);

  Run lost = DuringRun("node-1", 30);
  lost.lost = {"m1"};
  UpgradeJudgment l = JudgeUpgradeWindow({Client("node-1", true, &lost)}, UpgradeLimits{});
  CHECK(l.overall == Verdict::kFail);
  CHECK(l.reason.find("1 message(s) lost") != std::string::npos);
}

TEST_CASE("upgrade window: a stall every control saw at the same time is the lab's, a rebooted client's is not judged") {
  UpgradeLimits lim;
  Run canary = DuringRun("node-1", 70, 5, 50);
  Run c2 = DuringRun("node-2", 70, 10, 40);
  Run c3 = DuringRun("node-3", 70, 12, 45);
  UpgradeJudgment u = JudgeUpgradeWindow(
      {Client("node-1", true, &canary), Client("node-2", false, &c2), Client("node-3", false, &c3)}, lim);
  CHECK(u.overall == Verdict::kInconclusive);
  CHECK(u.reason.find("the lab's stall, not the firmware's") != std::string::npos);
  // One control that did not stall: the canary's stall is its own.
  Run c3ok = DuringRun("node-3", 70);
  CHECK(JudgeUpgradeWindow({Client("node-1", true, &canary), Client("node-2", false, &c2),
                            Client("node-3", false, &c3ok)},
                           lim)
            .overall == Verdict::kFail);
  // A disruptive upgrade ended this agent with its node: what it recorded is judged, not the stop.
  Run rebooted = DuringRun("node-1", 40, 15, 40);  // 25 s, open: the reboot
  UpgradeClientInput ci = Client("node-1", true, &rebooted);
  ci.ended_with_reboot = true;
  UpgradeJudgment r = JudgeUpgradeWindow({ci}, lim);
  CHECK(r.overall == Verdict::kPass);
  CHECK(ToJson(r)["clients"][0]["ended_with_reboot"] == true);
  // No records at all: said, not judged (the window's own error is the run's).
  UpgradeJudgment none = JudgeUpgradeWindow({Client("node-1", true, nullptr)}, lim);
  CHECK(none.overall == Verdict::kPass);
  CHECK(none.clients[0].finding.find("no records of the upgrade window") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary::judge
