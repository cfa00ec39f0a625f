#pragma once
// NodeSession: one node's connection as the rollout uses it. Connects lazily with the
// scenario's SSH settings (or locally for `transport: local`), runs commands with deadlines,
// and forgets the connection when it drops or the node reboots, so the next call reconnects.
//
// Thread safety: one NodeSession per thread.

#include <memory>
#include <string>

#include "harness/scenario/scenario.h"
#include "harness/transport/transport.h"

namespace fwcanary::rollout {

class NodeSession {
 public:
  NodeSession(const scenario::Scenario& sc, const scenario::Node& node) : sc_(sc), node_(node) {}

  // Runs a command line (already expanded and quoted). What the node printed (out, err, each
  // streamed line) comes back as SafeText: valid UTF-8 with control bytes escaped, each stream
  // capped (kMaxNodeOutput). Unavailable/Refused/Timeout when the
  // node cannot be reached (the message starts with the node's name); a non-zero exit is a
  // result, not an error.
  Result<transport::ExecResult> Run(const std::string& command, double timeout_s,
                                    const std::string& stdin_text = "",
                                    const std::function<bool(const std::string&)>& on_line = {},
                                    double silence_s = 0);
  // Whether a call that could not reach the node is tried again. Transient failures
  // (Unavailable, Timeout: the connection dropped or could not be made) are retried with
  // backoff (1 s, 2 s) for commands that may run twice; a Refused (host key) never is, and
  // neither is a command that changes the node (upgrade, rollback): whether it ran is unknown,
  // and the caller reads the version before deciding anything.
  enum class Retry { kTransient, kNever };

  // Expands `cmd` for this node, runs it, requires exit 0, returns stdout without trailing
  // newlines. Errors name the node and the command.
  Result<std::string> Ask(const scenario::TimedCommand& cmd, Retry retry = Retry::kTransient);
  Status Put(const std::string& local, const std::string& remote, int mode, double timeout_s);
  void Drop() { t_.reset(); }
  // After a Run or Ask: true when the command was handed to the connection but did not come
  // back with an exit status (it timed out, or the connection dropped while it ran), so it may
  // have run, may still be running and may still act. False when it exited (any status) or
  // never left (no connection could be made).
  bool OutcomeUnknown() const { return unknown_; }
  const scenario::Node& node() const { return node_; }

 private:
  Status Ensure();
  Status Named(const Status& s) const;  // the same error, prefixed with the node's name
  const scenario::Scenario& sc_;
  const scenario::Node& node_;
  std::unique_ptr<transport::Transport> t_;
  bool unknown_ = false;
};

}  // namespace fwcanary::rollout
