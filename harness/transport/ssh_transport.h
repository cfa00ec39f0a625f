#pragma once
// SshTransport: Transport over SSH with libssh2, in non-blocking mode with our own poll loop.
//
// Why non-blocking: with libssh2 1.10 in blocking mode and keepalive configured, a read on a
// command that prints nothing for longer than the keepalive interval fails with
// LIBSSH2_ERROR_TIMEOUT. Here every wait is a poll() on the socket in the directions libssh2
// asks for, bounded by the call's deadline and woken at least every keepalive interval to send
// a keepalive; stdout and stderr are drained in the same loop.
//
// Host keys are verified against a known_hosts file (OpenSSH format, hashed entries included):
// a changed key is always refused; an unknown key is refused unless host_keys is "accept-new",
// which then records it. Authentication: a private key file, or the ssh-agent when none is
// given. Passwords are not supported.
//
// Thread safety: one SshTransport per thread. libssh2_init runs once per process.

#include <memory>
#include <string>

#include "harness/transport/transport.h"

namespace fwcanary::transport {

struct SshOptions {
  std::string host;
  int port = 22;
  std::string user;
  std::string identity_file;   // empty: ssh-agent
  // Secrets: from the controller's environment only (FWCANARY_SSH_PASSPHRASE for an encrypted
  // identity_file, FWCANARY_SSH_PASSWORD when neither a key nor the agent is accepted); never
  // from a scenario, never in a message, a log or a report.
  std::string passphrase;
  std::string password;
  std::string known_hosts;
  std::string host_keys = "strict";  // strict | accept-new
  double connect_timeout_s = 10;
  double keepalive_s = 15;
};

class SshTransport : public Transport {
 public:
  // Connects, verifies the host key, authenticates. Errors: Unavailable (cannot connect),
  // Refused (host key), Timeout, IOError (auth failed).
  static Result<std::unique_ptr<SshTransport>> Connect(const SshOptions& o);
  ~SshTransport() override;

  Result<ExecResult> Exec(const std::string& command, double timeout_s,
                          const std::string& stdin_text = "",
                          const std::function<bool(const std::string&)>& on_line = {}, double silence_s = 0) override;
  Status Put(const std::string& local_path, const std::string& remote_path, int mode,
             double timeout_s) override;
  std::string Describe() const override;

  struct Impl;

 private:
  explicit SshTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fwcanary::transport
