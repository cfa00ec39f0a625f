#include "common/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace fwcanary {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

Clock::time_point After(Clock::time_point from, double s) {
  return from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// Splits streamed stdout into lines, keeping at most `cap` bytes of any one line.
class LineSplitter {
 public:
  LineSplitter(std::size_t cap, const std::function<bool(const std::string&)>& fn)
      : cap_(cap), fn_(fn) {}
  // False once fn said stop.
  bool Feed(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n && go_; ++i) {
      if (p[i] == '\n') {
        go_ = fn_(line_);
        line_.clear();
      } else if (line_.size() < cap_) {
        line_ += p[i];
      }
    }
    return go_;
  }
  void Finish() {
    if (go_ && !line_.empty()) go_ = fn_(line_);
    line_.clear();
  }

 private:
  std::size_t cap_;
  const std::function<bool(const std::string&)>& fn_;
  std::string line_;
  bool go_ = true;
};

// write() that turns a child's closed stdin into EPIPE without a SIGPIPE for the whole process
// (not every caller ignores SIGPIPE): the signal is blocked for this thread around the write and
// a pending one consumed.
ssize_t WriteNoSigpipe(int fd, const char* data, std::size_t len) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t w = ::write(fd, data, len);
  int err = errno;
  if (w < 0 && err == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return w;
}

}  // namespace

Result<ChildResult> RunChild(const std::vector<std::string>& argv, const ChildOptions& o) {
  if (argv.empty()) return Status::InvalidArgument("RunChild: no program");
  const auto start = Clock::now();
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  Fd in_r{in[0]}, in_w{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  Fd out_r{out[0]}, out_w{out[1]};
  if (::pipe2(err, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  Fd err_r{err[0]}, err_w{err[1]};

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.fd, 0);  // dup2 clears O_CLOEXEC on 0, 1, 2 only
  posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);  // the controller ignores it; the child must not inherit that
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::FromErrno("cannot start " + argv[0], rc);
  in_r.Close();
  out_w.Close();
  err_w.Close();
  for (int fd : {in_w.fd, out_r.fd, err_r.fd})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  ChildResult res;
  CappedText kept_out(o.max_kept), kept_err(o.max_kept);
  LineSplitter lines(o.max_kept, o.on_line);
  std::size_t sent = 0;
  if (o.stdin_text.empty()) in_w.Close();
  auto last_output = start;
  const auto deadline = o.timeout_s > 0 ? After(start, o.timeout_s) : Clock::time_point::max();
  bool kill_group = false;
  char buf[16384];
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    auto until = deadline;
    if (o.silence_s > 0) until = std::min(until, After(last_output, o.silence_s));
    auto now = Clock::now();
    if (now >= until) {
      res.timed_out = true;
      res.silent = now < deadline;
      kill_group = true;
      break;
    }
    pollfd p[3];
    int n = 0;
    for (int fd : {out_r.fd, err_r.fd}) {
      if (fd >= 0) p[n++] = {fd, POLLIN, 0};
    }
    if (in_w.fd >= 0) p[n++] = {in_w.fd, POLLOUT, 0};
    if (o.interrupt != nullptr && !res.interrupted && o.interrupt->load()) {
      ::kill(pid, o.interrupt_signal);
      res.interrupted = true;
    }
    long ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    // An interrupt flag is polled every 100 ms (it is set from a signal handler: no wake-up).
    long cap = o.interrupt != nullptr && !res.interrupted ? 100L : 1000L;
    int ready = ::poll(p, static_cast<nfds_t>(n), static_cast<int>(std::min(ms, cap)));
    if (ready < 0 && errno != EINTR) {
      kill_group = true;
      break;
    }
    for (int i = 0; i < n && ready > 0; ++i) {
      if (p[i].revents == 0) continue;
      if (p[i].fd == in_w.fd) {
        ssize_t w = WriteNoSigpipe(in_w.fd, o.stdin_text.data() + sent, o.stdin_text.size() - sent);
        if (w > 0) sent += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == o.stdin_text.size())
          in_w.Close();
        continue;
      }
      ssize_t r = ::read(p[i].fd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {  // EOF (or an error: nothing more will come)
        if (p[i].fd == out_r.fd) {
          out_r.Close();
        } else {
          err_r.Close();
        }
        continue;
      }
      last_output = Clock::now();
      if (p[i].fd == err_r.fd) {
        kept_err.Append(std::string_view(buf, static_cast<std::size_t>(r)));
      } else if (o.on_line) {
        if (!lines.Feed(buf, static_cast<std::size_t>(r))) {
          res.stopped = true;
          kill_group = true;
        }
      } else {
        kept_out.Append(std::string_view(buf, static_cast<std::size_t>(r)));
      }
    }
    if (kill_group) break;
  }
  if (kill_group) {
    ::kill(-pid, SIGKILL);
  } else if (o.on_line) {
    lines.Finish();
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!res.timed_out && !res.stopped) {
    if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  }
  res.out = kept_out.Text();
  res.err = kept_err.Text();
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return res;
}

std::string FindProgram(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= dirs.size()) {
    std::size_t to = dirs.find(':', from);
    if (to == std::string::npos) to = dirs.size();
    std::string dir = dirs.substr(from, to - from);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    from = to + 1;
  }
  return "";
}

}  // namespace fwcanary
