#pragma once
// RunChild: one child process with its stdin fed, stdout and stderr read together (neither can
// stall the other), a deadline, a silence watchdog and bounded memory. The one child-process
// implementation: `transport: local` and the agent's fio engine both run their children here.
//
// Why not Boost.Process: its pipes are created without O_CLOEXEC, so a child spawned by one
// thread inherits the pipe ends another thread holds at that instant. Two agents started at
// once by the controller then each held the other's stdin open: the agent reading its spec
// from stdin never saw EOF and printed nothing until the silence watchdog abandoned it (issue
// 28, 2 runs in 7). Here every pipe is O_CLOEXEC and only the child's own three ends are
// dup2'ed into it (posix_spawn), so a child holds nothing of anyone else's.
//
// The child runs in its own process group: a timeout, a silence or a stop kills the whole
// group (a `sleep` the shell started, holding the output pipe, would keep the read going).
//
// Thread safety: reentrant; any number of calls at once from different threads.

#include <atomic>
#include <csignal>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/untrusted_text.h"

namespace fwcanary {

struct ChildOptions {
  std::string stdin_text;  // written, then stdin is closed
  double timeout_s = 0;    // > 0: the group is killed when it passes
  double silence_s = 0;    // > 0: killed after that long without a byte on stdout or stderr
  // Each stdout line as it arrives, without its newline; the last line also when it has none.
  // Returns false to stop: the group is killed. When set, stdout is not also kept in `out`.
  std::function<bool(const std::string&)> on_line;
  std::size_t max_kept = kMaxNodeOutput;  // of stdout, of stderr, and of one streamed line
  // When set and it turns true, `interrupt_signal` is sent once to the child (not its group):
  // a graceful stop, as fio's SIGINT (it still prints its final stats); the deadline stays.
  const std::atomic<bool>* interrupt = nullptr;
  int interrupt_signal = SIGINT;
};

struct ChildResult {
  int exit_code = -1;      // -1 when it did not exit on its own
  int signal = 0;          // the signal that ended it, if any (0: none)
  std::string out, err;    // what was kept (CappedText::Text: a note says what was dropped)
  bool timed_out = false;  // killed: the deadline or the silence passed
  bool silent = false;     // ... and it was the silence
  bool stopped = false;    // killed because on_line returned false
  bool interrupted = false;  // `interrupt` turned true and the signal was sent
  double seconds = 0;
};

// `argv[0]` is a path, or a name looked up in PATH. Errors: IOError when the pipes cannot be
// made or the program cannot be started (naming it); everything after that is a ChildResult.
Result<ChildResult> RunChild(const std::vector<std::string>& argv, const ChildOptions& o);

// The executable a name resolves to: itself when it holds a '/', else the first match in PATH;
// empty when there is none (so a caller can say "not found" before starting anything).
std::string FindProgram(const std::string& name);

}  // namespace fwcanary
