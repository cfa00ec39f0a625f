#pragma once
// Transport: how the controller reaches a node. One small interface (ninja's DiskInterface
// idea): the rollout logic is tested against it, and the real implementations are SSH
// (libssh2, ssh_transport.h) and local processes (local_transport.h, `transport: local`).
//
// Every call has a deadline. Failures are Status values the rollout classifies:
//   Unavailable  the node could not be reached or the connection dropped (transient: retry)
//   Refused      a safety check said no: unknown or changed host key (fatal: never retried)
//   Timeout      the deadline passed before the connection or call completed
// A command that ran and exited non-zero is not an error: it is an ExecResult.
//
// Thread safety: one Transport per thread (a libssh2 session is not thread-safe).

#include <functional>
#include <string>

#include "common/status.h"

namespace fwcanary::transport {

struct ExecResult {
  int exit_code = -1;       // -1 when it did not exit (killed by a signal, timed out)
  std::string signal;       // the signal that killed it ("KILL"), if any
  std::string out, err;
  bool timed_out = false;   // the deadline passed; the command was abandoned (channel closed)
  bool silent = false;      // abandoned (timed_out too) after silence_s without any output
  double seconds = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Runs `command` (a complete shell command line: values must already be shell-quoted)
  // feeding `stdin_text`, and collects stdout and stderr (read together, so neither can stall
  // the other). `on_line`, if set, receives each stdout line as it arrives (streamed exec); it
  // returns false to stop reading (the command is then abandoned like a timeout). `silence_s`
  // > 0: a command that prints nothing (stdout or stderr) for that long is abandoned as hung,
  // long before its deadline.
  virtual Result<ExecResult> Exec(const std::string& command, double timeout_s,
                                  const std::string& stdin_text = "",
                                  const std::function<bool(const std::string&)>& on_line = {},
                                  double silence_s = 0) = 0;

  // Copies a local file to `remote_path` (through a temporary name, then renamed, so a reader
  // never sees half a file) with `mode`.
  virtual Status Put(const std::string& local_path, const std::string& remote_path, int mode,
                     double timeout_s) = 0;

  // "ssh fwlab@127.0.1.1:22" / "local": for logs and messages.
  virtual std::string Describe() const = 0;
};

}  // namespace fwcanary::transport
