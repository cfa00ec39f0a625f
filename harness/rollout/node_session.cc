#include "harness/rollout/node_session.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/untrusted_text.h"
#include "harness/rollout/plan.h"
#include "harness/scenario/command_template.h"
#include "harness/transport/local_transport.h"
#include "harness/transport/ssh_transport.h"

namespace fwcanary::rollout {

Status NodeSession::Named(const Status& s) const {
  return s.Prefixed(node_.name + ": ");
}

Status NodeSession::Ensure() {
  if (t_) return Status::Ok();
  if (sc_.transport == "local") {
    t_ = std::make_unique<transport::LocalTransport>();
    return Status::Ok();
  }
  transport::SshOptions o;
  o.host = node_.host;
  o.port = node_.port;
  o.user = node_.user.empty() ? sc_.ssh.user : node_.user;
  o.identity_file = sc_.ssh.identity_file;
  o.known_hosts = sc_.ssh.known_hosts;
  o.host_keys = sc_.ssh.host_keys;
  o.connect_timeout_s = sc_.ssh.connect_timeout_s;
  o.keepalive_s = sc_.ssh.keepalive_s;
  if (const char* p = std::getenv("FWCANARY_SSH_PASSPHRASE")) o.passphrase = p;
  if (const char* p = std::getenv("FWCANARY_SSH_PASSWORD")) o.password = p;
  auto t = transport::SshTransport::Connect(o);
  if (!t.ok()) return Status(t.status());
  t_ = std::move(t.value());
  return Status::Ok();
}

Result<transport::ExecResult> NodeSession::Run(
    const std::string& command, double timeout_s, const std::string& stdin_text,
    const std::function<bool(const std::string&)>& on_line, double silence_s) {
  unknown_ = false;
  if (Status s = Ensure(); !s.ok()) return Named(s);
  unknown_ = true;  // until it comes back with an exit status
  // Everything a node prints is untrusted: made safe here, once, before anything stores, logs
  // or compares it (common/untrusted_text.h).
  std::function<bool(const std::string&)> safe_line;
  if (on_line) safe_line = [&on_line](const std::string& l) { return on_line(SafeText(l)); };
  auto r = t_->Exec(command, timeout_s, stdin_text, safe_line, silence_s);
  if (!r.ok()) {
    Drop();  // the connection is gone: reconnect next time
    return Named(r.status());
  }
  unknown_ = r->timed_out;
  r->out = SafeText(r->out);
  r->err = SafeText(r->err);
  r->signal = SafeText(r->signal);
  return r;
}

Result<std::string> NodeSession::Ask(const scenario::TimedCommand& cmd, Retry retry) {
  auto line = scenario::Expand(cmd.run, NodeValues(sc_, node_));
  if (!line.ok()) return line.status();
  auto r = Run(line.value(), cmd.timeout_s);
  for (int attempt = 1; retry == Retry::kTransient && attempt < 3 && !r.ok() &&
                        r.status().code() != Status::Code::kRefused;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(attempt));  // 1 s, then 2 s
    r = Run(line.value(), cmd.timeout_s);
  }
  if (!r.ok()) return r.status();
  if (r->timed_out) {
    return Status::Timeout(node_.name + ": `" + line.value() + "` did not finish in " +
                           std::to_string(static_cast<int>(cmd.timeout_s)) + " s");
  }
  if (r->exit_code != 0) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Status::Unavailable(node_.name + ": `" + line.value() + "` exited " +
                               (r->signal.empty() ? std::to_string(r->exit_code) : "on SIG" + r->signal) +
                               (err.empty() ? "" : ": " + err));
  }
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

Status NodeSession::Put(const std::string& local, const std::string& remote, int mode,
                        double timeout_s) {
  if (Status s = Ensure(); !s.ok()) return Named(s);
  Status s = t_->Put(local, remote, mode, timeout_s);
  if (s.code() == Status::Code::kUnavailable) Drop();
  return s.ok() ? s : Named(s);
}

}  // namespace fwcanary::rollout
