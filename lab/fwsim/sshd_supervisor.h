#pragma once
// SshdSupervisor: the simulated node's management side, a real OpenSSH sshd.
//
// Stop(kKeepSessions) is a management restart during a non-disruptive upgrade: the listener
// goes away (new connections are refused) but sessions already open, such as an agent
// streaming its records, carry on. Stop(kKillEverything) is a host reboot: every process the
// node started (listener, sessions, what they run) is killed. fwsim is a child subreaper, so
// processes that detach from their session still count as the node's.
//
// Thread safety: one controlling thread. Reaped() is called from its SIGCHLD handling.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace fwcanary::lab {

class SshdSupervisor {
 public:
  enum class StopMode { kKeepSessions, kKillEverything };

  SshdSupervisor(std::string config_path, std::string log_path, std::string address, int port)
      : config_(std::move(config_path)),
        log_(std::move(log_path)),
        address_(std::move(address)),
        port_(port) {}

  // Starts `sshd -D -e -f CONFIG` (stderr to the log) and waits until it accepts connections.
  Status Start(double timeout_s = 10);
  void Stop(StopMode mode);
  // Tells the supervisor a child exited; true if it was the listener.
  bool Reaped(pid_t pid);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  std::string config_, log_, address_;
  int port_;
  pid_t pid_ = -1;
};

// Every process whose parent chain leads to `ancestor` (from /proc).
std::vector<pid_t> Descendants(pid_t ancestor);

}  // namespace fwcanary::lab
