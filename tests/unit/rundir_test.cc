// The run directory's one owner (rundir/): step names, paths, drift snapshots, and the samples
// reader the reports use, which must judge the same seconds the judge does.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "harness/judge/samples.h"
#include "rundir/drift_snapshot.h"
#include "rundir/run_layout.h"
#include "rundir/samples_file.h"

namespace fwcanary::rundir {
namespace {

TEST_CASE("run dir: wave step names round-trip, anything else is not one") {
  for (WaveStep s : {WaveStep::kDuring, WaveStep::kActivation, WaveStep::kAfter, WaveStep::kJudge,
                     WaveStep::kRollback}) {
    auto parsed = ParseStepName(StepName(12, s));
    REQUIRE(parsed);
    CHECK(parsed->first == 12);
    CHECK(parsed->second == s);
  }
  CHECK(StepName(1, WaveStep::kJudge) == "wave1.judge");
  CHECK(StepName(3, WaveStep::kDuring) == "wave3.during");
  for (const char* other : {"baseline", "preflight", "wave1", "wave.judge", "wave0.judge",
                            "wave1.judged", "wavex.after", "wave-1.after"}) {
    INFO(other);
    CHECK_FALSE(ParseStepName(other));
  }
}

TEST_CASE("run dir: the layout's paths") {
  RunLayout l("/r/20261202-demo");
  CHECK(l.JournalPath() == "/r/20261202-demo/journal.db");
  CHECK(l.SamplesPath("wave1-during", "node-2") ==
        "/r/20261202-demo/samples/wave1-during-node-2.jsonl");
  CHECK(l.VerdictJsonPath(2) == "/r/20261202-demo/verdict-wave2.json");
  CHECK(l.DriftAfterPath("node-1") == "/r/20261202-demo/drift-after-node-1.txt");
  CHECK(RunLayout::SamplesDisplayName("/elsewhere/samples/baseline-node-1.jsonl") ==
        "samples/baseline-node-1.jsonl");
  // A run directory copied elsewhere still finds its own samples.
  RunLayout fixture(std::string(FWCANARY_FIXTURES) + "/run-2node-surge");
  CHECK(fixture.LocateSamples("/gone/runs/x/samples/baseline-node-1.jsonl") ==
        fixture.SamplesDir() + "/baseline-node-1.jsonl");
  CHECK(fixture.LocateSamples("/gone/nothing-like-it.jsonl") == "/gone/nothing-like-it.jsonl");
}

TEST_CASE("run dir: drift snapshots round-trip, and a node's output cannot pose as a check",
          "[bad-input]") {
  std::vector<std::pair<std::string, std::string>> checks = {
      {"mail settings", "inbound_smtp=1\nqueue=on"},
      {"empty", ""},
      {"trailing newline", "x\n"},
      // Untrusted output: lines that look like a section header or start with the escape.
      {"hostile", "## inbound_smtp\n0\n\\## not a header\n\\"},
  };
  std::string text = FormatDriftSnapshot(checks);
  CHECK(text.rfind("## mail settings\ninbound_smtp=1\nqueue=on\n## empty\n\n", 0) == 0);
  std::map<std::string, std::string> back = ParseDriftSnapshot(text);
  REQUIRE(back.size() == checks.size());
  for (const auto& [name, output] : checks) {
    INFO(name);
    CHECK(back.at(name) == output);
  }
  CHECK(back.count("inbound_smtp") == 0);
  // Files written before the escape existed read as they always did.
  CHECK(ParseDriftSnapshot("## a\n1\n## b\n2\n") ==
        std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("run dir: the samples reader judges the seconds the judge judges") {
  const std::string dir = std::string(FWCANARY_FIXTURES) + "/run-2node-surge/samples/";
  for (const char* name :
       {"baseline-node-1.jsonl", "wave1-node-2.jsonl", "wave1-during-node-1.jsonl"}) {
    INFO(name);
    SamplesFile f = ReadSamplesFile(dir + name);
    CHECK(f.error.empty());
    REQUIRE(f.judged.size() == f.intervals.size());
    auto runs = judge::LoadRuns(dir + name, judge::LoadOptions{});
    REQUIRE(runs.ok());
    REQUIRE(runs->size() == 1);
    // The same intervals, in order: the judge's windows flattened vs the reader's judged ones.
    std::vector<double> by_judge, by_reader;
    std::size_t dropped = 0;
    for (const auto& w : runs->front().windows) {
      for (const auto& iv : w.intervals) by_judge.push_back(iv.t);
    }
    for (std::size_t i = 0; i < f.intervals.size(); ++i) {
      if (f.judged[i]) by_reader.push_back(f.intervals[i].t);
      dropped += !f.judged[i];
    }
    std::sort(by_judge.begin(), by_judge.end());
    CHECK(by_reader == by_judge);
    if (std::string(name).rfind("baseline", 0) == 0) CHECK(dropped >= 4);  // its warm-up
  }
}

}  // namespace
}  // namespace fwcanary::rundir
