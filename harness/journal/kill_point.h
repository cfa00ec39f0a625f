#pragma once
// Kill points: crash-safety testing of the journal. With FWCANARY_TEST_KILL_AT_NEW_STATE=FILE
// in the environment, the controller SIGKILLs itself right after it has committed a state
// (a step started or done, a node's state) that FILE does not list yet, having appended it to
// FILE first. Running `fwcanary run`, then `fwcanary resume` in a loop until it exits on its own
// kills the controller once at every state the run passes through, in order, each time at the
// worst moment: the state is durable, the action it announces has not been taken.
// Without the variable this is one getenv per state change.
//
// Thread safety: takes its own lock (per-node threads commit their nodes' states concurrently).

#include <string>

namespace fwcanary::journal {

// Called by the journal after it committed `kind:subject:state`.
void KillPointAfterCommit(const std::string& kind, const std::string& subject, const std::string& state);

}  // namespace fwcanary::journal
