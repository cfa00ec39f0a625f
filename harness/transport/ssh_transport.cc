#include "harness/transport/ssh_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

#include "common/untrusted_text.h"
#include "harness/transport/known_hosts.h"
#include "harness/scenario/command_template.h"

namespace fwcanary::transport {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point After(double s) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

int MsUntil(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

std::string LastError(LIBSSH2_SESSION* s) {
  char* msg = nullptr;
  int len = 0;
  libssh2_session_last_error(s, &msg, &len, 0);
  return msg != nullptr ? std::string(msg, static_cast<std::size_t>(len)) : "unknown error";
}

}  // namespace

struct SshTransport::Impl {
  SshOptions o;
  int sock = -1;
  LIBSSH2_SESSION* session = nullptr;
  // Keepalives only once the session is up: a keepalive sent during the key exchange breaks it.
  bool ready = false;

  ~Impl() {
    if (session != nullptr) {
      libssh2_session_set_blocking(session, 1);
      libssh2_session_disconnect(session, "fwcanary done");
      libssh2_session_free(session);
    }
    if (sock >= 0) ::close(sock);
  }

  // Waits until the socket is ready in the direction libssh2 is blocked on, sending keepalives
  // while waiting. False when the deadline passed.
  bool Wait(Clock::time_point deadline) {
    int dir = libssh2_session_block_directions(session);
    short events = 0;
    if (dir & LIBSSH2_SESSION_BLOCK_INBOUND) events |= POLLIN;
    if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
    if (events == 0) events = POLLIN;
    int next_keepalive = 0;
    if (ready) libssh2_keepalive_send(session, &next_keepalive);
    int wait = MsUntil(deadline);
    if (next_keepalive > 0) wait = std::min(wait, next_keepalive * 1000);
    pollfd p{sock, events, 0};
    ::poll(&p, 1, std::max(wait, 1));
    return Clock::now() < deadline;
  }

  // Calls `f` until it stops returning EAGAIN; returns its last result, or EAGAIN on timeout.
  template <typename F>
  auto Retry(Clock::time_point deadline, F f) -> decltype(f()) {
    while (true) {
      auto r = f();
      if (r != LIBSSH2_ERROR_EAGAIN) return r;
      if (!Wait(deadline)) return r;
    }
  }

  Status TcpConnect(Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(o.port);
    if (int e = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); e != 0) {
      return Status::Unavailable("cannot resolve " + o.host + ": " + gai_strerror(e));
    }
    Status last = Status::Unavailable("no address for " + o.host);
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, MsUntil(deadline)) == 1) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          r = err == 0 ? 0 : -1;
          errno = err;
        } else {
          errno = ETIMEDOUT;
          r = -1;
        }
      }
      if (r == 0) {
        sock = fd;
        freeaddrinfo(res);
        return Status::Ok();
      }
      last = Status::Unavailable("cannot connect to " + o.host + ":" + port + ": " +
                                 std::strerror(errno));
      ::close(fd);
    }
    freeaddrinfo(res);
    return last;
  }

  Status VerifyHostKey() {
    return CheckHostKey(session, HostKeyPolicy{o.known_hosts, o.host_keys == "accept-new"}, o.host, o.port);
  }

  Status Authenticate(Clock::time_point deadline) {
    if (!o.identity_file.empty()) {
      int r = Retry(deadline, [&] {
        return libssh2_userauth_publickey_fromfile_ex(
            session, o.user.c_str(), static_cast<unsigned>(o.user.size()), nullptr,
            o.identity_file.c_str(), o.passphrase.empty() ? nullptr : o.passphrase.c_str());
      });
      if (r == LIBSSH2_ERROR_EAGAIN) return Status::Timeout("authentication to " + o.host + " timed out");
      if (r != 0) {
        return Status::IOError("key authentication as " + o.user + "@" + o.host + " with " +
                               o.identity_file + " failed: " + LastError(session));
      }
      return Status::Ok();
    }
    // ssh-agent. Connecting to it and listing its keys is a local socket; the login itself
    // talks to the node, so it stays non-blocking under the connect deadline: a node whose sshd
    // stalls at login times out alone instead of stalling the whole fan-out.
    LIBSSH2_AGENT* agent = libssh2_agent_init(session);
    Status st = Status::IOError("no ssh-agent identity accepted for " + o.user + "@" + o.host);
    if (agent != nullptr && libssh2_agent_connect(agent) == 0 &&
        libssh2_agent_list_identities(agent) == 0) {
      libssh2_agent_publickey* id = nullptr;
      libssh2_agent_publickey* prev = nullptr;
      while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
        int r = Retry(deadline, [&] { return libssh2_agent_userauth(agent, o.user.c_str(), id); });
        if (r == 0) {
          st = Status::Ok();
          break;
        }
        if (r == LIBSSH2_ERROR_EAGAIN) {
          st = Status::Timeout("authentication to " + o.host + " timed out");
          break;
        }
        prev = id;
      }
      libssh2_agent_disconnect(agent);
    } else {
      st = Status::IOError("no identity_file given and no ssh-agent reachable (SSH_AUTH_SOCK)");
    }
    if (agent != nullptr) libssh2_agent_free(agent);
    if (st.code() == Status::Code::kTimeout) return st;
    if (!st.ok() && !o.password.empty()) {
      // The password is sent, never shown: errors name the user and host only.
      int r = Retry(deadline, [&] {
        return libssh2_userauth_password_ex(session, o.user.c_str(), static_cast<unsigned>(o.user.size()),
                                            o.password.c_str(), static_cast<unsigned>(o.password.size()), nullptr);
      });
      if (r == LIBSSH2_ERROR_EAGAIN) return Status::Timeout("authentication to " + o.host + " timed out");
      if (r != 0) return Status::IOError("password authentication as " + o.user + "@" + o.host + " failed");
      return Status::Ok();
    }
    return st;
  }
};

SshTransport::SshTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SshTransport::~SshTransport() = default;

std::string SshTransport::Describe() const {
  return "ssh " + impl_->o.user + "@" + impl_->o.host + ":" + std::to_string(impl_->o.port);
}

Result<std::unique_ptr<SshTransport>> SshTransport::Connect(const SshOptions& o) {
  InitOnce();
  auto impl = std::make_unique<Impl>();
  impl->o = o;
  auto deadline = After(o.connect_timeout_s);
  if (Status s = impl->TcpConnect(deadline); !s.ok()) return s;
  impl->session = libssh2_session_init();
  if (impl->session == nullptr) return Status::IOError("libssh2_session_init failed");
  libssh2_session_set_blocking(impl->session, 0);
  // Pinned: a node known by an ed25519 key is asked for ed25519, so it cannot be talked into
  // presenting another type (and one that only has another is refused at the handshake).
  const std::string known = PreferredHostKeyMethods(impl->session, o.known_hosts, o.host, o.port);
  if (!known.empty()) libssh2_session_method_pref(impl->session, LIBSSH2_METHOD_HOSTKEY, known.c_str());
  libssh2_keepalive_config(impl->session, 1, static_cast<unsigned>(std::max(1.0, o.keepalive_s)));
  int r = impl->Retry(deadline, [&] { return libssh2_session_handshake(impl->session, impl->sock); });
  if (r == LIBSSH2_ERROR_EAGAIN) return Status::Timeout("SSH handshake with " + o.host + " timed out");
  if (r != 0) {
    return Status::Unavailable("SSH handshake with " + o.host + " failed: " + LastError(impl->session) +
                               (known.empty() ? "" : " (" + o.known_hosts + " knows it only by " + known +
                                                         " keys, so only those are accepted: pinned)"));
  }
  if (Status s = impl->VerifyHostKey(); !s.ok()) return s;
  if (Status s = impl->Authenticate(deadline); !s.ok()) return s;
  impl->ready = true;
  return std::unique_ptr<SshTransport>(new SshTransport(std::move(impl)));
}

Result<ExecResult> SshTransport::Exec(const std::string& command, double timeout_s,
                                      const std::string& stdin_text,
                                      const std::function<bool(const std::string&)>& on_line,
                                      double silence_s) {
  Impl& m = *impl_;
  auto start = Clock::now();
  auto deadline = After(timeout_s);
  LIBSSH2_CHANNEL* ch = nullptr;
  while ((ch = libssh2_channel_open_session(m.session)) == nullptr) {
    if (libssh2_session_last_errno(m.session) != LIBSSH2_ERROR_EAGAIN) {
      return Status::Unavailable("cannot open a channel to " + m.o.host + ": " + LastError(m.session));
    }
    if (!m.Wait(deadline)) return Status::Timeout("opening a channel to " + m.o.host + " timed out");
  }
  auto fail = [&](Status s) {
    libssh2_channel_free(ch);
    return s;
  };
  int r = m.Retry(deadline, [&] { return libssh2_channel_exec(ch, command.c_str()); });
  if (r != 0) {
    return fail(r == LIBSSH2_ERROR_EAGAIN ? Status::Timeout("starting a command timed out")
                                          : Status::Unavailable("cannot start a command on " +
                                                                m.o.host + ": " + LastError(m.session)));
  }
  ExecResult res;
  std::size_t sent = 0;
  bool eof_sent = false, stop = false;
  std::string line;
  CappedText out(kMaxNodeOutput), err(kMaxNodeOutput);
  char buf[16384];
  auto last_output = Clock::now();
  while (true) {
    bool progress = false;
    if (!eof_sent) {
      if (sent < stdin_text.size()) {
        ssize_t n = libssh2_channel_write(ch, stdin_text.data() + sent, stdin_text.size() - sent);
        if (n > 0) {
          sent += static_cast<std::size_t>(n);
          progress = true;
        } else if (n != LIBSSH2_ERROR_EAGAIN) {
          return fail(Status::Unavailable("writing to a command on " + m.o.host + " failed"));
        }
      }
      if (sent == stdin_text.size() && libssh2_channel_send_eof(ch) != LIBSSH2_ERROR_EAGAIN) {
        eof_sent = true;
      }
    }
    ssize_t n = libssh2_channel_read(ch, buf, sizeof buf);
    if (n > 0) {
      progress = true;
      if (on_line) {
        // Streamed: lines go to on_line, not also into `out`; a line past the cap is cut (the
        // rest, up to its newline, dropped), so memory stays bounded whatever the node prints.
        for (ssize_t i = 0; i < n && !stop; ++i) {
          if (buf[i] == '\n') {
            stop = !on_line(line);
            line.clear();
          } else if (line.size() < kMaxNodeOutput) {
            line += buf[i];
          }
        }
      } else {
        out.Append(std::string_view(buf, static_cast<std::size_t>(n)));
      }
    } else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
      return fail(Status::Unavailable("connection to " + m.o.host + " lost: " + LastError(m.session)));
    }
    ssize_t e = libssh2_channel_read_stderr(ch, buf, sizeof buf);
    if (e > 0) {
      progress = true;
      err.Append(std::string_view(buf, static_cast<std::size_t>(e)));
    } else if (e < 0 && e != LIBSSH2_ERROR_EAGAIN) {
      return fail(Status::Unavailable("connection to " + m.o.host + " lost: " + LastError(m.session)));
    }
    if (stop) break;
    if (libssh2_channel_eof(ch) && n <= 0 && e <= 0) break;
    if (n > 0 || e > 0) last_output = Clock::now();
    auto until = deadline;
    if (silence_s > 0) {
      until = std::min(until, last_output + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(silence_s)));
    }
    if (!progress && !m.Wait(until)) {
      res.timed_out = true;
      res.silent = Clock::now() < deadline;
      break;
    }
  }
  if (on_line && !stop && !line.empty() && !res.timed_out) on_line(line);
  res.out = out.Text();
  res.err = err.Text();
  if (res.timed_out || stop) {
    // Abandon it: closing the channel makes sshd hang up on the command (SIGHUP for a pty-less
    // session is not guaranteed: the command may keep running until its output pipe breaks).
    libssh2_channel_close(ch);
    libssh2_channel_free(ch);
    res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return res;
  }
  auto close_deadline = After(5);
  m.Retry(close_deadline, [&] { return libssh2_channel_close(ch); });
  m.Retry(close_deadline, [&] { return libssh2_channel_wait_closed(ch); });
  char* sig = nullptr;
  std::size_t sig_len = 0;
  libssh2_channel_get_exit_signal(ch, &sig, &sig_len, nullptr, nullptr, nullptr, nullptr);
  if (sig != nullptr) {
    res.signal.assign(sig, sig_len);
    libssh2_free(m.session, sig);
  } else {
    res.exit_code = libssh2_channel_get_exit_status(ch);
  }
  libssh2_channel_free(ch);
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return res;
}

Status SshTransport::Put(const std::string& local_path, const std::string& remote_path, int mode,
                         double timeout_s) {
  Impl& m = *impl_;
  std::ifstream in(local_path, std::ios::binary);
  if (!in) return Status::NotFound(local_path + ": cannot open");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto deadline = After(timeout_s);
  LIBSSH2_SFTP* sftp = nullptr;
  while ((sftp = libssh2_sftp_init(m.session)) == nullptr) {
    if (libssh2_session_last_errno(m.session) != LIBSSH2_ERROR_EAGAIN || !m.Wait(deadline)) {
      return Status::Unavailable("cannot start SFTP on " + m.o.host + ": " + LastError(m.session));
    }
  }
  const std::string tmp = remote_path + ".fwcanary-upload";
  LIBSSH2_SFTP_HANDLE* h = nullptr;
  while ((h = libssh2_sftp_open_ex(sftp, tmp.c_str(), static_cast<unsigned>(tmp.size()),
                                   LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
                                   mode, LIBSSH2_SFTP_OPENFILE)) == nullptr) {
    if (libssh2_session_last_errno(m.session) != LIBSSH2_ERROR_EAGAIN || !m.Wait(deadline)) {
      libssh2_sftp_shutdown(sftp);
      return Status::IOError("cannot create " + tmp + " on " + m.o.host + ": " + LastError(m.session));
    }
  }
  std::size_t off = 0;
  Status st;
  while (off < data.size()) {
    ssize_t n = libssh2_sftp_write(h, data.data() + off, data.size() - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n != LIBSSH2_ERROR_EAGAIN || !m.Wait(deadline)) {
      st = n == LIBSSH2_ERROR_EAGAIN ? Status::Timeout("upload to " + m.o.host + " timed out")
                                     : Status::IOError("writing " + tmp + " failed: " + LastError(m.session));
      break;
    }
  }
  m.Retry(deadline, [&] { return libssh2_sftp_close_handle(h); });
  m.Retry(deadline, [&] { return libssh2_sftp_shutdown(sftp); });
  if (!st.ok()) return st;
  // sftp-server's rename does not replace an existing file; mv -f on the node does, atomically.
  char octal[16];
  std::snprintf(octal, sizeof octal, "%o", static_cast<unsigned>(mode & 07777));
  std::string mv = "chmod " + std::string(octal) + " " + scenario::ShellQuote(tmp) + " && mv -f " +
                   scenario::ShellQuote(tmp) + " " + scenario::ShellQuote(remote_path);
  auto r = Exec(mv, std::max(1.0, std::chrono::duration<double>(deadline - Clock::now()).count()));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return Status::IOError("cannot move the upload into place: " + r->err);
  return Status::Ok();
}

}  // namespace fwcanary::transport
