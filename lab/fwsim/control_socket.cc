#include "lab/fwsim/control_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace fwcanary::lab {
namespace {

using Clock = std::chrono::steady_clock;

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    return Status::InvalidArgument("control socket path too long: " + path);
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return sa;
}

int RemainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

}  // namespace

Result<ControlReply> ControlRequest(const std::string& socket_path, const std::string& request,
                                    double timeout_s) {
  Result<sockaddr_un> sa = Address(socket_path);
  if (!sa.ok()) return sa.status();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa.value()), sizeof(sockaddr_un)) != 0) {
    int e = errno;
    ::close(fd);
    return Status::Unavailable("cannot reach the node's fwsim at " + socket_path + ": " +
                               std::strerror(e));
  }
  std::string line = request + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return Status::FromErrno("cannot send to " + socket_path, errno);
  }
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string reply;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, RemainingMs(deadline));
    if (r == 0) {
      ::close(fd);
      return Status::Timeout("no answer from fwsim within " + std::to_string(timeout_s) + " s");
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  // The last line is "exit N".
  std::size_t end = reply.size();
  if (end > 0 && reply[end - 1] == '\n') --end;
  std::size_t start = reply.rfind('\n', end == 0 ? 0 : end - 1);
  start = start == std::string::npos ? 0 : start + 1;
  std::string last = reply.substr(start, end - start);
  if (last.rfind("exit ", 0) != 0) return Status::Unavailable("fwsim closed without an answer");
  ControlReply out;
  out.exit_code = std::atoi(last.c_str() + 5);
  out.text = reply.substr(0, start);
  return out;
}

Result<int> ListenControl(const std::string& path, unsigned gid) {
  Result<sockaddr_un> sa = Address(path);
  if (!sa.ok()) return sa.status();
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa.value()), sizeof(sockaddr_un)) != 0 ||
      ::chown(path.c_str(), 0, gid) != 0 || ::chmod(path.c_str(), 0660) != 0 ||
      ::listen(fd, 64) != 0) {
    int e = errno;
    ::close(fd);
    return Status::FromErrno("cannot listen on " + path, e);
  }
  return fd;
}

std::string ReadRequestLine(int fd, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string line;
  char c;
  while (line.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, RemainingMs(deadline)) <= 0) return "";
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return "";
    if (c == '\n') return line;
    line += c;
  }
  return "";
}

void WriteReply(int fd, const ControlReply& reply) {
  std::string text = reply.text;
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "exit " + std::to_string(reply.exit_code) + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace fwcanary::lab
