// The knee of a ramp (agents/records/ramp_knee.h) on synthetic records from a queue model: a
// node serving at most `capacity` ops/s, open-loop Poisson arrivals, what it cannot serve
// queued; latency the service time plus the wait behind the queue (issue 22).
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "agents/records/ramp_knee.h"
#include "harness/judge/headroom.h"

namespace fwcanary {
namespace {

struct QueueNode {
  double capacity = 300;     // ops/s it can complete
  double capacity_sd = 0;    // interval-to-interval noise of it, fraction (a noisy plateau)
  double service_ms = 8;     // latency when nothing waits
  double error_fraction = 0;
};

// A ramp of `steps` (multipliers of `base` ops/s), `step_s` 1 s intervals each.
std::vector<IntervalRecord> Ramp(const QueueNode& n, const std::vector<double>& steps, double base = 100,
                                 int step_s = 10, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::vector<IntervalRecord> out;
  double backlog = 0;
  double t = 0;
  for (double m : steps) {
    for (int i = 0; i < step_s; ++i) {
      std::poisson_distribution<int> arrivals(base * m);
      std::normal_distribution<double> wobble(1.0, n.capacity_sd);
      const double offered = arrivals(rng);
      const double cap = n.capacity * std::max(0.1, n.capacity_sd > 0 ? wobble(rng) : 1.0);
      const double done = std::min(offered + backlog, cap);
      backlog += offered - done;
      IntervalRecord r;
      r.node = "node-1";
      r.phase = "ramp";
      r.ramp_step = m;
      r.t = ++t;
      r.dt = 1;
      r.intended_rate = base * m;
      r.offered_rate = offered;
      r.achieved_rate = done;
      r.queue_depth = static_cast<uint64_t>(backlog / 2);  // half of the operations are deliveries
      const double wait_ms = 1000 * backlog / cap;
      std::lognormal_distribution<double> lat(std::log((n.service_ms + wait_ms) * 1000), 0.3);
      for (const char* cls : {"deliver", "retrieve"}) {
        OpStats& s = r.ops[cls];
        s.count = static_cast<uint64_t>(done / 2);
        s.errors = static_cast<uint64_t>(n.error_fraction * static_cast<double>(s.count));
        for (uint64_t k = 0; k < s.count; ++k) s.hist.Record(lat(rng));
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

const std::vector<double> kSteps = {1, 1.5, 2, 3, 4, 6};

TEST_CASE("ramp knee: a clean knee lands on the last step under the node's capacity, with what decided it") {
  QueueNode n;
  n.capacity = 250;  // 2.5x of 100 ops/s
  RampKnees k = FindKnees(Ramp(n, kSteps), KneeRule{});
  REQUIRE(k.steps.size() == kSteps.size());
  CHECK(k.base_rate == Approx(100));
  REQUIRE(k.node.knee);
  CHECK(*k.node.knee == 2);
  REQUIRE(k.node.next);
  CHECK(*k.node.next == 3);
  // The most it served is its capacity: between the knee and the next step.
  CHECK(k.node.served == Approx(2.5).margin(0.05));
  INFO(k.node.how);
  CHECK(k.node.how.find("keeps up to 2x the steady rate; at 3x: served 8") == 0);
  CHECK(k.node.how.find("(it served at most 2.5x)") != std::string::npos);
  // Every class of the node shares its rate: the same knee.
  CHECK(*k.classes.at("deliver").knee == 2);
  CHECK(*k.classes.at("retrieve").knee == 2);
  CHECK(k.steps[2].KeptUp());
  CHECK_FALSE(k.steps[3].KeptUp());
}

TEST_CASE("ramp knee: a node that keeps up at every step has no knee within the ramp") {
  QueueNode n;
  n.capacity = 2000;
  RampKnees k = FindKnees(Ramp(n, kSteps), KneeRule{});
  REQUIRE(k.node.knee);
  CHECK(*k.node.knee == 6);
  CHECK_FALSE(k.node.next);
  CHECK(k.node.how == "keeps up at every step, to 6x (the ramp's last): its knee is beyond the ramp");
  CHECK(k.node.served == Approx(6).margin(0.3));
}

TEST_CASE("ramp knee: a noisy plateau does not move the knee") {
  QueueNode n;
  n.capacity = 250;
  n.capacity_sd = 0.15;  // +-15% from second to second
  for (unsigned seed = 1; seed <= 20; ++seed) {
    RampKnees k = FindKnees(Ramp(n, kSteps, 100, 10, seed), KneeRule{});
    INFO("seed " << seed << ": " << k.node.how);
    REQUIRE(k.node.knee);
    // 2x < 2.5x < 3x. At 2x a noisy capacity queues now and then: its p99 jumps, its median
    // does not; past the knee both do.
    CHECK(*k.node.knee == 2);
    CHECK(k.node.served == Approx(2.5).margin(0.3));
  }
}

TEST_CASE("ramp knee: a node that collapses at the first step has no knee at all") {
  QueueNode n;
  n.capacity = 60;  // below even the steady rate
  RampKnees k = FindKnees(Ramp(n, kSteps), KneeRule{});
  CHECK_FALSE(k.node.knee);
  REQUIRE(k.node.next);
  CHECK(*k.node.next == 1);
  INFO(k.node.how);
  CHECK(k.node.how.find("does not keep up at the ramp's first step, 1x: served 5") == 0);
}

TEST_CASE("ramp knee: latency beyond its SLO or its factor over the first step, errors and refusals end a step") {
  QueueNode n;
  n.capacity = 2000;
  std::vector<IntervalRecord> recs = Ramp(n, kSteps);
  // Retrieve slows 10x from 3x on, at a rate the node still keeps up with.
  for (auto& r : recs) {
    if (r.ramp_step < 3) continue;
    OpStats slow;
    slow.count = r.ops["retrieve"].count;
    for (uint64_t k = 0; k < slow.count; ++k) slow.hist.Record(80000);
    r.ops["retrieve"] = slow;
  }
  RampKnees k = FindKnees(recs, KneeRule{});
  CHECK(*k.classes.at("retrieve").knee == 2);
  CHECK_FALSE(k.classes.at("deliver").next);  // deliver kept up throughout
  CHECK(*k.node.knee == 2);                   // the node is as good as its worst class
  INFO(k.node.how);
  CHECK(k.node.how.find("at 3x: retrieve median 80 ms, ") != std::string::npos);
  CHECK(k.node.how.find("at the first step (at most 4.0x): it queues") != std::string::npos);

  // An SLO on p99 is a limit besides: 5 ms on deliver, whose p99 is ~16 ms from the first step.
  KneeRule slo;
  slo.p99_limit_us["deliver"] = 5000;
  RampKnees s = FindKnees(recs, slo);
  CHECK_FALSE(s.classes.at("deliver").knee);
  CHECK(s.classes.at("deliver").how.find("deliver: does not keep up at the ramp's first step, 1x: p99 ") == 0);
  CHECK(s.classes.at("deliver").how.find("over its SLO of 5.0 ms") != std::string::npos);
  CHECK(*s.classes.at("retrieve").knee == 2);  // its own limit is still the factor

  // Failed operations, and refused deliveries.
  std::vector<IntervalRecord> errs = recs;
  for (auto& r : errs) {
    if (r.ramp_step >= 4) r.ops["deliver"].errors = r.ops["deliver"].count / 10;
    if (r.ramp_step >= 2) r.ops["retrieve"] = recs.front().ops["retrieve"];
  }
  RampKnees e = FindKnees(errs, KneeRule{});
  INFO(e.node.how);
  CHECK(*e.node.knee == 3);
  CHECK(e.node.how.find("at 4x: deliver 9.") != std::string::npos);
  CHECK(e.node.how.find("% of its operations failed") != std::string::npos);
  std::vector<IntervalRecord> refused = errs;
  refused[25].ops["deliver"].refused = 3;  // one second of the 2x step
  RampKnees f = FindKnees(refused, KneeRule{});
  INFO(f.node.how);
  CHECK(*f.node.knee == 1.5);
  CHECK(f.node.how.find("at 2x: 3 deliveries refused") != std::string::npos);
}

TEST_CASE("ramp knee: steps are written as people write multipliers, records carry the step") {
  CHECK(StepText(2) == "2x");
  CHECK(StepText(1.5) == "1.5x");
  CHECK(StepText(1.25) == "1.25x");
  IntervalRecord r;
  r.node = "n";
  r.phase = "ramp";
  r.ramp_step = 1.5;
  auto back = IntervalRecord::FromJson(r.ToJson());
  REQUIRE(back.ok());
  CHECK(back.value().ramp_step == 1.5);
  IntervalRecord plain;
  plain.node = "n";
  plain.phase = "steady";
  CHECK_FALSE(plain.ToJson().contains("ramp_step"));  // records outside a ramp are unchanged
  nlohmann::json bad = r.ToJson();
  bad["ramp_step"] = -2;
  CHECK_FALSE(IntervalRecord::FromJson(bad).ok());
}

judge::Run RampRun(const std::string& node, double capacity, unsigned seed = 7) {
  QueueNode n;
  n.capacity = capacity;
  judge::Run r;
  r.node = node;
  r.id = node;
  r.ramp = Ramp(n, kSteps, 100, 10, seed);
  for (auto& iv : r.ramp) iv.node = node;
  return r;
}

TEST_CASE("headroom: a candidate below the expected surge FAILs, one that covers it PASSes, controls set the change") {
  judge::HeadroomConfig cfg;  // expected surge 3x
  // The incident: 4x of headroom before, 2x after (capacity 450 -> 250 ops/s on 100 ops/s).
  judge::HeadroomJudgment h = judge::JudgeHeadroom({RampRun("node-1", 450), RampRun("node-2", 450, 9)},
                                                   {RampRun("node-1", 250, 11)}, {RampRun("node-2", 450, 13)}, cfg,
                                                   "wave1");
  INFO(h.reason);
  CHECK(h.overall == judge::Verdict::kFail);
  CHECK(h.reason.find("node-1 keeps up to 2x the steady rate after the upgrade (4x before); the expected surge is "
                      "3x: keeps up to 2x the steady rate; at 3x: served ") == 0);
  REQUIRE(h.nodes.size() == 2);
  CHECK(h.nodes[0].role == "candidate");
  CHECK(h.nodes[1].role == "control");
  CHECK(h.control_change == Approx(1));
  nlohmann::json j = judge::ToJson(h);
  CHECK(j["verdict"] == "FAIL");
  CHECK(j["nodes"][0]["after"]["knee"] == 2.0);
  CHECK(j["nodes"][0]["before"]["knee"] == 4.0);
  CHECK(j["nodes"][0]["after"]["steps"].size() == kSteps.size());
  CHECK(j["nodes"][0]["after"]["steps"][3]["kept_up"] == false);
  CHECK(judge::RenderHeadroomTable(h).find("node-1       candidate before 4x") != std::string::npos);

  // The same firmware on a node that covers the surge: PASS, the fall within a step.
  judge::HeadroomJudgment ok = judge::JudgeHeadroom({RampRun("node-1", 450)}, {RampRun("node-1", 350, 11)},
                                                    {RampRun("node-2", 450, 13)}, cfg, "wave1");
  INFO(ok.reason);
  CHECK(ok.overall == judge::Verdict::kPass);
  CHECK(ok.nodes[0].sentence.find("node-1 keeps up to 3x the steady rate after the upgrade (4x before)") == 0);
}

TEST_CASE("headroom: a fall of two steps beyond the controls' FAILs when critical, is reported otherwise") {
  judge::HeadroomConfig cfg;
  cfg.expected_surge = 1.5;  // covered either way: the relative rule decides
  const auto base = std::vector<judge::Run>{RampRun("node-1", 650), RampRun("node-2", 650, 9)};
  judge::HeadroomJudgment h =
      judge::JudgeHeadroom(base, {RampRun("node-1", 350, 11)}, {RampRun("node-2", 650, 13)}, cfg, "wave1");
  INFO(h.reason);
  CHECK(h.overall == judge::Verdict::kFail);  // 6x -> 3x: -50%
  CHECK(h.reason.find("its headroom fell -50% (tolerance -35%)") != std::string::npos);
  cfg.critical = false;
  judge::HeadroomJudgment note =
      judge::JudgeHeadroom(base, {RampRun("node-1", 350, 11)}, {RampRun("node-2", 650, 13)}, cfg, "wave1");
  CHECK(note.overall == judge::Verdict::kPass);
  CHECK(note.nodes[0].sentence.find("reported only") != std::string::npos);
  // When the controls fell as much (the host, not the firmware), the candidate's fall is theirs.
  cfg.critical = true;
  judge::HeadroomJudgment host =
      judge::JudgeHeadroom(base, {RampRun("node-1", 350, 11)}, {RampRun("node-2", 350, 13)}, cfg, "wave1");
  INFO(host.reason);
  CHECK(host.control_change == Approx(0.5));
  CHECK(host.overall == judge::Verdict::kPass);
}

TEST_CASE("headroom: a ramp that ends below the expected surge cannot tell, no ramp after the upgrade is unknown") {
  judge::HeadroomConfig cfg;
  cfg.expected_surge = 8;  // beyond the ramp's 6x
  judge::HeadroomJudgment h =
      judge::JudgeHeadroom({RampRun("node-1", 2000)}, {RampRun("node-1", 2000, 11)}, {}, cfg, "wave1");
  CHECK(h.overall == judge::Verdict::kInconclusive);
  CHECK(h.reason.find("at least 6x") != std::string::npos);
  CHECK(h.reason.find("beyond the ramp's last step") != std::string::npos);
  judge::Run none;
  none.node = "node-1";
  judge::HeadroomJudgment gone = judge::JudgeHeadroom({RampRun("node-1", 2000)}, {none}, {}, judge::HeadroomConfig{},
                                                      "wave1");
  CHECK(gone.overall == judge::Verdict::kInconclusive);
  CHECK(gone.reason == "node-1: no ramp in the wave1 window: its headroom after the upgrade is unknown");
  // And a collapse at the first step FAILs whatever the baseline.
  judge::HeadroomJudgment dead =
      judge::JudgeHeadroom({RampRun("node-1", 2000)}, {RampRun("node-1", 50, 11)}, {}, judge::HeadroomConfig{}, "wave1");
  CHECK(dead.overall == judge::Verdict::kFail);
  CHECK(dead.reason.find("node-1 keeps up to below 1x") == std::string::npos);  // worded as a collapse
  CHECK(dead.reason.find("does not keep up at the ramp's first step") != std::string::npos);
}

}  // namespace
}  // namespace fwcanary
