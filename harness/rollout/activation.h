#pragma once
// Activation: after an upgrade (or a rollback) command, wait until the node is really running
// the expected firmware. Confirmed by the version command AND a stability window (the node
// answers, health checks pass and the boot id stays the same for stable_s), not by a boot-id
// change alone: some firmware activates without a reboot, and a node that comes back only to
// fall over again is not upgraded. When the driver says the node reboots, the boot id must
// also differ from the one read before the flash (the reboot really happened).
//
// Thread safety: uses the caller's NodeSession (one per thread).

#include <functional>
#include <string>

#include "harness/rollout/node_session.h"

namespace fwcanary::rollout {

struct Activation {
  std::string version;  // what the node reports
  std::string boot_id;
  double seconds = 0;   // from the call until confirmed
};

// `stop`, if set, ends the wait early (Unavailable "stopped") when it returns true.
// Errors: Timeout naming what was last seen ("came back with version 1.0", "never answered",
// "boot id unchanged: it did not reboot").
Result<Activation> WaitForActivation(const scenario::Scenario& sc, NodeSession& session,
                                     const std::string& expected_version,
                                     const std::string& old_boot_id,
                                     const std::function<void(const std::string&)>& log,
                                     bool (*stop)() = nullptr);

// Runs every health check; the first failure as an error naming check and node.
Status RunHealthChecks(const scenario::Scenario& sc, NodeSession& session);

}  // namespace fwcanary::rollout
