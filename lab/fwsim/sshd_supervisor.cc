#include "lab/fwsim/sshd_supervisor.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

namespace fwcanary::lab {
namespace {

bool Accepts(const std::string& address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::vector<pid_t> Descendants(pid_t ancestor) {
  std::map<pid_t, pid_t> parent;
  DIR* d = opendir("/proc");
  if (d == nullptr) return {};
  while (dirent* e = readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/stat");
    std::string stat;
    std::getline(in, stat);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; ppid follows the last ')'.
    std::size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    parent[pid] = static_cast<pid_t>(std::atoi(stat.c_str() + close + 4));
  }
  closedir(d);
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent) {
    for (pid_t p = ppid, hops = 0; p > 1 && hops < 64; ++hops) {
      if (p == ancestor) {
        out.push_back(pid);
        break;
      }
      auto it = parent.find(p);
      if (it == parent.end()) break;
      p = it->second;
    }
  }
  return out;
}

Status SshdSupervisor::Start(double timeout_s) {
  if (pid_ > 0) return Status::Ok();
  int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return Status::FromErrno("cannot open " + log_, errno);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return Status::FromErrno("fork", errno);
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // fwsim blocks signals for its signalfd
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", config_.c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Accepts(address_, port_)) return Status::Ok();
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("sshd exited at start (status " + std::to_string(status) +
                                 "); see " + log_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Timeout("sshd did not accept on " + address_ + ":" + std::to_string(port_) +
                         " within " + std::to_string(timeout_s) + " s; see " + log_);
}

void SshdSupervisor::Stop(StopMode mode) {
  if (mode == StopMode::kKillEverything) {
    for (pid_t p : Descendants(::getpid())) ::kill(p, SIGKILL);
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // Sessions that were killed are reaped here; surviving ones by the SIGCHLD handling later.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool SshdSupervisor::Reaped(pid_t pid) {
  if (pid != pid_ || pid_ <= 0) return false;
  pid_ = -1;
  return true;
}

}  // namespace fwcanary::lab
