// The controller's pieces that need no node: the journal (what resume stands on), the bounded
// fan-out (what 200 nodes stand on) and the progress line.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "rundir/journal.h"
#include "harness/rollout/fan_out.h"
#include "harness/rollout/progress.h"
#include "tests/unit/scratch.h"

namespace fwcanary::rollout {

using journal::Journal;
using journal::JournalNode;
using journal::NodeState;
using journal::NodeStateName;
using journal::StepState;
namespace {

using TempDir = testing::Scratch;

TEST_CASE("journal: what was written is what a reopened journal reads") {
  TempDir d;
  const std::string db = d.path + "/journal.db";
  {
    auto j = Journal::Create(db);
    REQUIRE(j.ok());
    Journal& jj = *j.value();
    CHECK(jj.SetFact("image", "1.1").ok());
    CHECK(jj.BeginStep("baseline", {{"attempt", 1}}).ok());
    CHECK(jj.Step("baseline") == StepState::kStarted);
    CHECK(jj.FinishStep("preflight", nlohmann::json::object()).ok());
    CHECK(jj.SetNode("node-1", {"1.0", "boot-a", NodeState::kFlashSent, "1.1"}).ok());
    CHECK(jj.SetDrift("node-1", "settings", "inbound_smtp = 1\n").ok());
    // A value with quotes and SQL in it is data, not SQL.
    CHECK(jj.SetFact("note", "it's'); DROP TABLE facts; --").ok());
  }
  auto j = Journal::Open(db);
  REQUIRE(j.ok());
  Journal& jj = *j.value();
  CHECK(jj.Fact("image") == std::optional<std::string>("1.1"));
  CHECK(jj.Fact("note") == std::optional<std::string>("it's'); DROP TABLE facts; --"));
  CHECK(!jj.Fact("missing").has_value());
  CHECK(jj.Step("preflight") == StepState::kDone);
  CHECK(jj.Step("baseline") == StepState::kStarted);
  CHECK(jj.StepData("baseline")["attempt"] == 1);
  CHECK(jj.Step("wave1.during") == StepState::kNotStarted);
  auto nodes = jj.Nodes();
  REQUIRE(nodes.count("node-1") == 1);
  CHECK(nodes["node-1"].state == NodeState::kFlashSent);
  CHECK(nodes["node-1"].boot_before == "boot-a");
  CHECK(jj.Drift("node-1")["settings"] == "inbound_smtp = 1\n");
  auto events = jj.Events();
  REQUIRE(events.size() == 3);  // begin baseline, done preflight, node-1 flash_sent
  CHECK(events[2].find("node-1 flash_sent: 1.1") != std::string::npos);
}

TEST_CASE("journal: create refuses an existing journal, open a missing one") {
  TempDir d;
  const std::string db = d.path + "/journal.db";
  REQUIRE(Journal::Create(db).ok());
  auto again = Journal::Create(db);
  REQUIRE(!again.ok());
  CHECK(again.status().message().find("already exists") != std::string::npos);
  auto missing = Journal::Open(d.path + "/nope.db");
  REQUIRE(!missing.ok());
  CHECK(missing.status().message().find("nope.db") != std::string::npos);
}

TEST_CASE("fan-out: every item once, never more than the limit at a time") {
  std::vector<int> items(200);
  for (int i = 0; i < 200; ++i) items[i] = i;
  std::atomic<int> running{0}, peak{0};
  std::vector<std::atomic<int>> seen(200);
  FanOut<int>(items, 32, [&](const int& i) {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    ++seen[i];
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --running;
  });
  for (auto& s : seen) CHECK(s.load() == 1);
  CHECK(peak.load() <= 32);
  CHECK(peak.load() > 1);  // it did run in parallel
}

TEST_CASE("progress: the status line names the stage, counts many nodes, estimates what is left") {
  TempDir d;
  Progress p(d.path + "/run.log", false);
  p.SetStages({{"baseline", 60}, {"wave1", 100}, {"postflight", 2}});
  p.EnterStage("wave1", "post-upgrade window");
  for (int i = 0; i < 3; ++i) p.SetNode("node-" + std::to_string(i), "ready");
  std::string few = p.StatusLine();
  CHECK(few.find("[wave1: post-upgrade window 0:00]") != std::string::npos);
  CHECK(few.find("node-0 ready, node-1 ready, node-2 ready") != std::string::npos);
  CHECK(few.find("~1:42 left") != std::string::npos);
  for (int i = 3; i < 200; ++i) p.SetNode("node-" + std::to_string(i), i < 10 ? "active" : "ready");
  std::string many = p.StatusLine();
  CHECK(many.find("7 active, 193 ready") != std::string::npos);
  p.Log("a plain line");
  std::ifstream in(d.path + "/run.log");
  std::string line;
  std::getline(in, line);
  CHECK(line.find("a plain line") != std::string::npos);
  CHECK(line.find('\033') == std::string::npos);
}

}  // namespace
}  // namespace fwcanary::rollout
