// Stalls (harness/judge/stalls.h), honest degrees of freedom for the controls' run-to-run noise
// (PoolRunVariance), and what the overall reason leads with (issue 19).
#include <cmath>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "harness/judge/comparison.h"
#include "harness/judge/judge.h"
#include "harness/judge/stalls.h"
#include "harness/judge/stats.h"
#include "tests/unit/judge_host_model.h"

namespace fwcanary::judge {
namespace {

// A window of `n` 1 s intervals, 50 operations per class per interval at a fixed latency; the
// intervals in [slow_from, slow_to) are `factor` times slower in `classes` classes (0-3).
Window FlatWindow(int n, int slow_from = -1, int slow_to = -1, double factor = 1,
                  int classes = 3) {
  Window w{"steady", {}, false, std::nullopt};
  const char* names[] = {"deliver", "retrieve", "scan"};
  for (int i = 0; i < n; ++i) {
    IntervalRecord r;
    r.t = i + 1;
    r.dt = 1;
    for (int c = 0; c < 3; ++c) {
      OpStats& s = r.ops[names[c]];
      const bool slow = i >= slow_from && i < slow_to && c < classes;
      for (int k = 0; k < 50; ++k) {
        s.hist.Record((1000.0 + 10 * (k % 10)) * (slow ? factor : 1));
        ++s.count;
      }
    }
    w.intervals.push_back(std::move(r));
  }
  return w;
}

TEST_CASE("stalls: a 2 s stall at 20x is found, described and left out of the latency", "[judge]") {
  Window w = FlatWindow(100, 40, 42, 20);
  WindowStalls s = FindStalls(w);
  REQUIRE(s.spans.size() == 1);
  CHECK(s.spans[0].seconds == 2);
  CHECK(s.spans[0].factor == Approx(20).epsilon(0.1));
  CHECK(s.spans[0].t_begin == 40);
  CHECK(s.excised);
  REQUIRE(s.skip.size() == 100);
  CHECK(s.skip[40] == 1);
  CHECK(s.skip[41] == 1);
  CHECK(s.skip[39] == 0);
  CHECK(s.skip[42] == 0);
  CHECK(DescribeStall(s.spans[0]) == "I/O stalled 2 s at t=40 s (latency x20)");
}

TEST_CASE("stalls: a slow spell, one slow class, a short window and many stalls are not "
          "left out", "[judge]") {
  // 20 s at 20x: the window's behaviour, judged with it.
  WindowStalls spell = FindStalls(FlatWindow(200, 50, 70, 20));
  REQUIRE(spell.spans.size() == 1);
  CHECK_FALSE(spell.excised);
  CHECK(spell.skip.empty());
  // One class slow alone is that class's regression, not a stall of the node.
  CHECK(FindStalls(FlatWindow(100, 40, 42, 20, 1)).spans.empty());
  // Two of three classes: the median class is slow, so it is.
  CHECK(FindStalls(FlatWindow(100, 40, 42, 20, 2)).spans.size() == 1);
  // Too few intervals to know what is typical.
  CHECK(FindStalls(FlatWindow(19, 5, 7, 20)).spans.empty());
  // 4x is slow, not stalled.
  CHECK(FindStalls(FlatWindow(100, 40, 42, 4)).spans.empty());
  // Four stalls in one window are more than kMaxExcisedSpans: kept in.
  Window many = FlatWindow(400);
  for (int at : {50, 150, 250, 350}) {
    for (int i = at; i < at + 2; ++i) {
      for (auto& [cls, ops] : many.intervals[static_cast<std::size_t>(i)].ops) {
        LatencyHistogram h;
        for (int k = 0; k < 50; ++k) h.Record(20000);
        ops.hist = h;
      }
    }
  }
  WindowStalls m = FindStalls(many);
  CHECK(m.spans.size() == 4);
  CHECK_FALSE(m.excised);
}

TEST_CASE("stats: the binomial upper tail matches textbook values", "[judge]") {
  CHECK(BinomialUpperTail(8, 10, 0.5) == Approx(56.0 / 1024));
  CHECK(BinomialUpperTail(0, 10, 0.3) == 1);
  CHECK(BinomialUpperTail(11, 10, 0.3) == 0);
  CHECK(BinomialUpperTail(1, 1, 0.25) == Approx(0.25));
  CHECK(BinomialUpperTail(2, 4, 0.5) == Approx(11.0 / 16));
}

TEST_CASE("judge: pooled run-to-run noise has the degrees of freedom the groups really carry",
          "[judge]") {
  // Three controls, six groups. Host-wide: each control's deviation is the same in every
  // group, so the six groups carry what one does (k - 1 = 2 df), not 12.
  std::vector<ControlDiffs> host(6), independent(6);
  const double node[] = {0.03, -0.01, -0.02};
  for (int g = 0; g < 6; ++g) {
    for (int j = 0; j < 3; ++j) {
      host[static_cast<std::size_t>(g)].nodes.push_back("k" + std::to_string(j));
      host[static_cast<std::size_t>(g)].d.push_back(node[j] + 0.0001 * ((g * 7 + j * 3) % 5));
      host[static_cast<std::size_t>(g)].within.push_back(0);
      // Per group: a different pattern in every group, no node in common.
      independent[static_cast<std::size_t>(g)].nodes.push_back("k" + std::to_string(j));
      independent[static_cast<std::size_t>(g)].d.push_back(node[(j + g) % 3] * (g % 2 ? 1 : -1));
      independent[static_cast<std::size_t>(g)].within.push_back(0);
    }
  }
  RunVariance h = PoolRunVariance(host);
  RunVariance i = PoolRunVariance(independent);
  INFO("host-wide: var " << h.var << " df " << h.df << " node share " << h.node_share
                         << "; independent: var " << i.var << " df " << i.df);
  CHECK(h.df < 2.5);
  CHECK(h.node_share > 0.9);
  CHECK(i.df > 6);
  CHECK(i.node_share < 0.2);
  // The variance itself is the same mean square either way (about the nodes' spread).
  CHECK(h.var == Approx(Variance({node[0], node[1], node[2]})).epsilon(0.1));
  // Two controls under one name: no node part to separate, the spread as it is.
  std::vector<ControlDiffs> same(2);
  for (auto& g : same) {
    g.nodes = {"k", "k"};
    g.d = {0.02, -0.02};
    g.within = {0, 0};
  }
  RunVariance s = PoolRunVariance(same);
  CHECK(s.var == Approx(0.0008));
  CHECK(s.df == 2);
  // An earlier estimate adds its degrees of freedom.
  RunVariance both = CombineRunVariance(h, RunVariance{0.0004, 8, 0});
  CHECK(both.df == Approx(h.df + 8));
  CHECK(both.var == Approx((h.df * h.var + 8 * 0.0004) / (h.df + 8)));
}

TEST_CASE("judge: one stall in the canary's window is a finding, not a FAIL, and the latency "
          "is judged without it", "[judge]") {
  testing::HostModel m;
  m.steady_s = 120;
  m.surge_s = 80;
  m.random_stalls = false;
  testing::PlacedStall stall{0, true, "surge", 40, 2};
  auto c = testing::HostModelCanary(2, m, testing::HostEffect{}, {stall}, 5);
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
  REQUIRE(r.stalls.size() == 1);
  CHECK(r.stalls[0].rfind("candidate node-1: I/O stalled 2 s at t=16", 0) == 0);
  CHECK(r.stalls[0].find("in the surge window; latency judged without it") != std::string::npos);
  CHECK(r.overall != Verdict::kFail);
  bool said_with = false;
  for (const auto& v : r.metrics) {
    if (v.node != "node-1" || v.phase != "surge" || v.metric != "p99" || v.cls != "deliver") continue;
    REQUIRE(v.with_stalls.has_value());
    CHECK(*v.with_stalls > v.vs_baseline.effect);  // the stall made it look worse
    said_with = v.sentence.find("judged without the stalled seconds (with them: ") != std::string::npos;
  }
  CHECK(said_with);
  for (const auto& v : r.metrics) {
    if (v.metric == "stalls") CHECK(v.verdict == Verdict::kPass);
  }
}

TEST_CASE("judge: a canary that stalls again and again, when the others do not, FAILs on it",
          "[judge]") {
  testing::HostModel m;
  m.steady_s = 300;
  m.surge_s = 200;
  m.random_stalls = false;
  testing::HostEffect effect;
  effect.stalls_per_window = 3;
  auto c = testing::HostModelCanary(2, m, effect, {}, 9);
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
  INFO(r.reason);
  CHECK(r.overall == Verdict::kFail);
  bool stall_fail = false;
  for (const auto& v : r.metrics) {
    if (v.metric == "stalls" && v.node == "node-1") {
      stall_fail = v.verdict == Verdict::kFail;
      CHECK(v.sentence.find("stalls: 6 in node-1's 2 candidate window(s)") == 0);
      CHECK(v.sentence.find("the canary stalls again and again") != std::string::npos);
    }
  }
  CHECK(stall_fail);
  CHECK(r.reason.rfind("stalls: 6", 0) == 0);
}

// The second model with a 60 s steady and a 40 s surge: quick, and noisy enough to matter.
testing::HostModel ShortModel() {
  testing::HostModel m;
  m.steady_s = 60;
  m.surge_s = 40;
  return m;
}

TEST_CASE("judge: an earlier judgment's noise without controls in this one is not a control",
          "[judge]") {
  auto c = testing::HostModelCanary(0, ShortModel(), testing::HostEffect{}, {}, 3);
  JudgeConfig cfg;
  cfg.control_run_var["p50"] = {0.0004, 6};
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, cfg);
  for (const auto& v : r.metrics) {
    INFO(v.sentence);
    CHECK_FALSE(v.vs_control.available);
    CHECK(std::isfinite(v.vs_baseline.effect));
    CHECK(std::isfinite(v.vs_baseline.se));
  }
}

TEST_CASE("judge: the stall verdict is critical only where the scenario's critical list says",
          "[judge]") {
  auto c = testing::HostModelCanary(2, ShortModel(), testing::HostEffect{}, {}, 4);
  JudgeConfig cfg;
  cfg.critical = {"throughput", "p50"};
  JudgeResult r = Judge({c.baseline, c.candidate, c.control}, cfg);
  int seen = 0;
  for (const auto& v : r.metrics) {
    if (v.metric != "stalls") continue;
    ++seen;
    CHECK_FALSE(v.critical);
  }
  CHECK(seen == 1);
}

TEST_CASE("judge: the overall reason leads with the class that moved, and its advice is "
          "capped and actionable", "[judge]") {
  // Reads 4x slower, deliver untouched (the lab's read-path firmware): whatever the verdict,
  // the reason is about retrieve.
  const testing::HostModel m = ShortModel();
  testing::HostEffect reads;
  reads.cls = "retrieve";
  reads.body_x = 4;
  const std::regex factor(R"(about ([0-9.]+)x)");
  int inconclusive = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto c = testing::HostModelCanary(2, m, reads, {}, seed);
    JudgeResult r = Judge({c.baseline, c.candidate, c.control}, JudgeConfig{});
    INFO(r.reason);
    CHECK(r.overall != Verdict::kPass);
    CHECK(r.reason.find("retrieve ") != std::string::npos);
    CHECK(r.reason.find("deliver ") == std::string::npos);
    // A/A on short windows: INCONCLUSIVE often, and the advice is something a person can do.
    auto aa = testing::HostModelCanary(2, m, testing::HostEffect{}, {}, seed + 100);
    JudgeResult a = Judge({aa.baseline, aa.candidate, aa.control}, JudgeConfig{});
    INFO(a.reason);
    if (a.overall != Verdict::kInconclusive) continue;
    ++inconclusive;
    CHECK(a.reason.find("repeat the runs about") == std::string::npos);
    std::smatch match;
    if (std::regex_search(a.reason, match, factor)) CHECK(std::stod(match[1]) <= 8);
    CHECK((a.reason.find("control node") != std::string::npos ||
           a.reason.find("longer") != std::string::npos ||
           a.reason.find("calibrate") != std::string::npos));
  }
  CHECK(inconclusive > 0);  // the advice was looked at
}

}  // namespace
}  // namespace fwcanary::judge
