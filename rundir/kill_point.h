#pragma once
// Kill points: crash-safety testing of the journal. With FWCANARY_TEST_KILL_AT_NEW_STATE=FILE
// in the environment, the controller SIGKILLs itself right after it has committed a state
// (a step started or done, a node's state) that FILE does not list yet, having appended it to
// FILE first. Running `fwcanary run`, then `fwcanary resume` in a loop until it exits on its own
// kills the controller once at every state the run passes through, in order, each time at the
// worst moment: the state is durable, the action it announces has not been taken.
// With FWCANARY_TEST_THROW_AT_STATE=kind:subject:state it throws std::runtime_error once, right
// after committing that state, in whichever thread committed it: the controller's guard must
// journal it and roll the wave back (no exception may escape the run loop).
// Without the variables this is two getenvs per state change.
//
// Thread safety: takes its own lock (per-node threads commit their nodes' states concurrently).

#include <string>

namespace fwcanary::journal {

// With FWCANARY_TEST_FAIL_JOURNAL_WRITE=kind:subject:state the journal refuses that one write
// (as a full disk or an I/O error would): the controller must not act on what it could not
// record. True when the write of `kind:subject:state` is to fail.
bool TestWriteFails(const std::string& kind, const std::string& subject, const std::string& state);

// Called by the journal after it committed `kind:subject:state`.
void KillPointAfterCommit(const std::string& kind, const std::string& subject, const std::string& state);

}  // namespace fwcanary::journal
