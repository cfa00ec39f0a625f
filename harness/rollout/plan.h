#pragma once
// Plan: which target is flashed in which wave, and the exact commands, resolved before anything
// is touched (`fwcanary plan` prints it and stops). Wave sizes follow Ansible's `serial`: counts
// or percentages of the targets (a percentage is at least one node), the last size repeating
// until every target has a wave. Wave 1 is the canary; targets not yet upgraded are the
// control for the wave being judged.
//
// Thread safety: plain values, pure functions.

#include <map>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"

namespace fwcanary::rollout {

struct Wave {
  int number = 0;  // 1-based; 1 is the canary
  std::vector<const scenario::Node*> nodes;
};

struct Plan {
  std::vector<Wave> waves;
};

// REQUIRES: the scenario loaded (inventory finished, at least one target).
Plan MakePlan(const scenario::Scenario& sc);

// Template values for one node: image, version, node.name, node.host, node.<var>.
std::map<std::string, std::string> NodeValues(const scenario::Scenario& sc,
                                              const scenario::Node& n);

// The plan as a person reads it: nodes and roles, waves, and every command per node.
std::string RenderPlan(const scenario::Scenario& sc, const Plan& plan);

}  // namespace fwcanary::rollout
