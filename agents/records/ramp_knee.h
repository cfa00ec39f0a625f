#pragma once
// The knee of a ramp: the highest offered load a node still keeps up with (issue 22). One rule
// for the agent, which stops climbing once a step is past the knee (a ramp must never wreck the
// storage under test), and for the judge, which turns the knee into the node's headroom.
//
// A ramp phase offers its spec's rate times each step's multiplier in turn, `step_s` each; its
// interval records carry the step (IntervalRecord::step). A step keeps up when, over its
// intervals after the first (the backlog of the step before is still draining in it):
//   - the node completed at least `keep_up` of what was offered (open loop: what is not
//     completed queues), and the delivery backlog did not grow by more than the rest;
//   - nothing was refused (the backlog limit or the queue's minimum free space was reached);
//   - per class, errors stayed under 1% of its operations, its p99 within its SLO when the
//     scenario sets one, and its median within `latency_factor` x its median at the first step
//     (a node that keeps pace by queueing inside is not keeping up). The median, not the p99:
//     a step of a few seconds holds a few hundred operations, whose p99 is their few slowest
//     and moves by itself; past the knee everything waits, the median too.
// The knee is the last step before the first that does not keep up; a node that keeps up at
// every step has no knee within the ramp (its headroom is at least the last step: censored);
// one that fails the first step has none at all. The knee is only known to a step: it lies in
// [knee, next step), and the most the node served (`served`, in multiples of the base rate) is
// where between them its capacity was seen.
//
// Thread safety: pure functions.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agents/records/records.h"

namespace fwcanary {

struct KneeRule {
  double keep_up = 0.95;
  double latency_factor = 4;
  std::map<std::string, double> p99_limit_us;  // by class: an SLO on p99 in any phase or the ramp
};

inline constexpr double kKneeErrorFraction = 0.01;

struct RampStep {
  double multiplier = 0;
  double seconds = 0;           // judged seconds (the step's first interval left out)
  double offered = 0, achieved = 0;  // ops/s over the judged seconds
  double backlog_growth = 0;    // deliveries/s the backlog grew over the judged seconds
  uint64_t refused = 0;
  std::map<std::string, double> p50_us, p99_us;  // by class (absent: too few operations)
  std::map<std::string, std::string> class_why;  // by class: why it did not keep up ("" = it did)
  std::string why;  // why the node did not keep up, node-wide ("" = it did)

  bool KeptUp(const std::string& cls = "") const;
  // Why it did not keep up (node-wide, else the class's, else the first class's); "" = it did.
  std::string Why(const std::string& cls = "") const;
};

struct Knee {
  std::optional<double> knee;  // highest step kept up; unset: not even the first
  std::optional<double> next;  // the first step not kept up; unset: none within the ramp
  double served = 0;           // most the node completed at any step, multiples of the base rate
  std::string how;             // the sentence: what decided it
};

struct RampKnees {
  double base_rate = 0;          // ops/s at multiplier 1
  std::vector<RampStep> steps;   // in the order they ran
  Knee node;                     // every class at once: the node's headroom
  std::map<std::string, Knee> classes;
};

// One step's figures and whether it kept up; `first`: the ramp's first step (the latency
// reference), null when this is it.
RampStep JudgeRampStep(const std::vector<IntervalRecord>& step, const KneeRule& rule, const RampStep* first);

// The knees of one node's ramp: `ramp` is its ramp phase's interval records in order.
RampKnees FindKnees(const std::vector<IntervalRecord>& ramp, const KneeRule& rule);

// "2x", "1.5x": how a step is written.
std::string StepText(double multiplier);

}  // namespace fwcanary
