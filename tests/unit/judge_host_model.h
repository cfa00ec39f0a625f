#pragma once
// The judge's second synthetic model: a shared host, written apart from judge_synthetic.h so
// the judge is checked on data it was not tuned on (issue 19). It differs from the first model
// where the first one was kind to the judge:
//
// - Run-to-run offsets are mostly host-wide: one offset per run (node x time window) shared by
//   every class and phase of that run (host_run_sd), and a smaller one per class
//   (class_run_sd). The first model gave each class its own independent offset, so pooling
//   the run-to-run noise over classes and phases looked like many degrees of freedom.
// - Inside a window, latency follows two AR(1) processes: one host-wide (every class moves
//   together), one per class.
// - Random short stalls: 0, 1 or 2 per window (40/40/20%), 1-2 s each, during which every
//   operation that arrives is x20 slower, as a GC pause, a noisy neighbour or a controller
//   failover makes it (completions still land in the same second: throughput holds).
// - Operations are a mixture (95% body lognormal, sigma 0.35; 5% tail at 5x, sigma 0.5), not
//   one lognormal, so p99 sits in a tail of its own and can move without p50.
// - Arrivals and operation draws come from one workload seed shared by every window (what the
//   controller does: the same agent seed on every node and window); the storage's noise
//   (offsets, AR levels, stalls) is drawn per window.
//
// Seeded and deterministic. Shapes: the shipped scenarios' (deliver/retrieve/scan 45/40/15 at
// 300 ops/s, steady then a 3x surge), lengths given.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <string>
#include <vector>

#include "harness/judge/samples.h"

namespace fwcanary::judge::testing {

struct HostModel {
  int steady_s = 900;
  int surge_s = 600;
  double ops_per_s = 300;
  double surge_rate_x = 3;
  double surge_latency_x = 1.6;
  double host_run_sd = 0.012;  // per run, shared by every class and phase (log scale)
  double class_run_sd = 0.005; // per run and class
  double time_sd = 0.03;       // per time window, shared by every node
  double node_sd = 0.05;       // per node, persistent
  double rho = 0.85;           // AR(1) coefficient, 1 s steps
  double host_ar_sd = 0.03;    // stationary sd of the host-wide AR(1) level
  double class_ar_sd = 0.03;   // stationary sd of each class's AR(1) level
  bool random_stalls = true;   // 0-2 per window
  double stall_x = 20;
  bool same_arrivals = true;   // one workload seed for every window
};

// A change to the canary's candidate window (what a firmware does).
struct HostEffect {
  std::string cls;    // "" = every class
  std::string phase;  // "" = every phase
  double body_x = 1;  // every operation's latency (moves p50 and p99)
  double tail_x = 1;  // the tail component only (moves p99, p50 stays)
  double rate_x = 1;  // completions (throughput)
  int stalls_per_window = 0;  // extra random stalls (1-2 s) in each of the canary's candidate windows
};

// A stall placed by hand: node index (0 = the canary), side, phase and time within the phase.
struct PlacedStall {
  int node = 0;
  bool candidate = true;
  std::string phase = "surge";
  double at_s = 100;
  double dur_s = 2;
};

struct HostCase {
  std::vector<Run> baseline, candidate, control;
};

// node-1 is the canary; node-2.. are `controls` control nodes, each with a baseline and a
// candidate window.
HostCase HostModelCanary(int controls, const HostModel& m, const HostEffect& effect,
                         const std::vector<PlacedStall>& placed, uint64_t seed);

}  // namespace fwcanary::judge::testing
