#pragma once
// Did an upgrade or rollback command reach the node? Asked by `fwcanary resume` about a node
// whose journal says the command was about to be sent (flash_sent, rollback_sent) but not that
// the node accepted it: the controller died in between, and the command may never have left.
// Sending it again to a node that is already flashing risks a double flash; never sending it
// leaves the node to time out. So the node is watched for resend_after_s: it went down, booted
// again (boot id other than `boot_before`) or reports `target` — the command arrived. Up all the
// time, on the same boot and another version — it did not, and may be sent again.
//
// Thread safety: uses the caller's NodeSession (one per thread).

#include <string>

#include "harness/rollout/node_session.h"

namespace fwcanary::rollout {

struct Arrival {
  bool arrived = false;
  std::string evidence;  // "went down", "new boot id", "reports 1.1", or what it showed instead
};

// `boot_before` may be empty (not known): then only "down" or the target version count.
// `stop`, if set and returning true, ends the watch early and answers `arrived` (never resend
// on a stop).
Arrival WatchForArrival(const scenario::Scenario& sc, NodeSession& session, const std::string& target,
                        const std::string& boot_before, bool (*stop)() = nullptr);

}  // namespace fwcanary::rollout
