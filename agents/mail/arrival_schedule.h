#pragma once
// ArrivalSchedule: when operations arrive in an open-loop phase, and of which class.
//
// Arrivals form a Poisson process at the phase's rate (exponential gaps: real mail arrives
// independently), or a uniform one (the first at 0, then exactly 1/rate apart, as wrk2 paces:
// a phase of T seconds holds exactly rate x T arrivals, which a fidelity benchmark needs); each
// arrival's class is drawn by the mix weights. The schedule is a pure function of (rate, mix,
// seed, kind): the engine
// measures each operation's latency from its scheduled time, so a stalled storage shows up as
// latency instead of silently lowering the offered load (no coordinated omission).
// Thread safety: none; the engine draws from it under its queue lock.

#include <cstdint>
#include <limits>
#include <random>

#include "agents/spec/workload_spec.h"

namespace fwcanary {

enum class OpClass { kDeliver = 0, kRetrieve = 1, kScan = 2 };
inline constexpr int kOpClassCount = 3;
const char* OpClassName(OpClass op);

// u uniform in [0,1) -> class, by the mix weights.
OpClass PickClass(const OperationMix& mix, double u);

class ArrivalSchedule {
 public:
  struct Arrival {
    double t;  // seconds since the schedule started; +inf when the rate is 0
    OpClass op;
  };

  ArrivalSchedule(double rate, const OperationMix& mix, uint64_t seed, bool poisson = true);
  Arrival Next();

 private:
  double rate_;
  bool poisson_;
  OperationMix mix_;
  std::mt19937_64 rng_;
  double t_ = 0;
  uint64_t n_ = 0;  // uniform: arrivals so far (t = n / rate, no accumulated rounding)
};

}  // namespace fwcanary
