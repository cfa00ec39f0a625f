#pragma once
// Synthetic agent runs with realistic noise, for the judge's property tests and bench/judge:
// latency and throughput levels follow an AR(1) process inside a run (a slow spell lasts
// seconds), each run has its own offset, each node its own persistent offset, and every
// operation's latency is lognormal around the level. Seeded: the same seed gives the same runs.
//
// The default shape is the smallest one (deliver only, one steady phase); `ScenarioShape()`
// gives the shape of the shipped scenarios (deliver, retrieve and scan; steady then a 3x surge),
// where every class has its own levels and offsets.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "harness/judge/samples.h"

namespace fwcanary::judge::testing {

struct SyntheticClass {
  std::string name;
  double share;    // of the phase's operations
  double base_us;  // median latency
};

struct SyntheticPhase {
  std::string name;
  int intervals;      // 1 s intervals
  double rate_x;      // arrival multiplier (3 = surge)
  double latency_x;   // latency multiplier (busier storage), the same on both sides
};

struct SyntheticNoise {
  int intervals = 600;        // 1 s intervals per window (the property tests: kDefaultSteadyS)
  double ops_per_s = 50;      // operations per second (all classes)
  double rho = 0.9;           // AR(1) coefficient of the level from one interval to the next
  double latent_sd = 0.05;    // stationary sd of the log latency level inside a run
  double tp_latent_sd = 0.02; // stationary sd of the log throughput level inside a run
  double time_sd = 0.04;      // sd of what every node sees in one time window (host load)
  double run_sd = 0.01;       // sd of a window's own, node-specific offset (log scale)
  double node_sd = 0.05;      // sd of a node's persistent offset (log scale)
  double op_sigma = 0.5;      // sd of one operation's log latency around the level
  double base_us = 2000;      // median deliver latency (single-class shape)
  // Empty: deliver only (base_us) in one "steady" phase of `intervals`.
  std::vector<SyntheticClass> classes;
  std::vector<SyntheticPhase> phases;
  // Each operation's lognormal factor from a table of 65,536 equally likely quantiles (one
  // random word per operation, not a normal draw and an exp): the large shapes need it to stay
  // fast; quantiles to p99.99 are resolved.
  bool table_ops = false;
};

// The shipped scenarios' shape (scenarios/*.yaml): deliver/retrieve/scan 45/40/15 at 300 ops/s
// (nightly's rate), a steady phase and a 3x surge (latency x1.5 during it), by default 600 s
// and 300 s (shorter than the judge's default run length, 900 s + 600 s); table_ops on.
SyntheticNoise ScenarioShape(int steady_s = 600, int surge_s = 300);

// One run of node `node` (one window per phase). The shifts apply to every class and phase.
Run SyntheticRun(const std::string& node, double node_offset, double time_offset,
                 double latency_shift,
                 double throughput_shift, const SyntheticNoise& n, std::mt19937_64& rng);

// A canary judgment: node-1 (the canary) and `controls` control nodes, each with a baseline and
// a candidate window; the canary's candidate carries the shifts (+0.10 = 10% slower; -0.05 =
// 5% less throughput).
struct CanaryCase {
  std::vector<Run> baseline, candidate, control;
};
CanaryCase SyntheticCanary(int controls, double latency_shift, double throughput_shift,
                           const SyntheticNoise& n, uint64_t seed);

}  // namespace fwcanary::judge::testing
