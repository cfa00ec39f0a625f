#include "agents/progress.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace fwcanary {

Progress::Progress(double log_every_s)
    : tty_(::isatty(STDERR_FILENO) == 1), log_every_s_(log_every_s) {}

void Progress::Update(const std::string& line) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    dirty_ = true;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (last_.time_since_epoch().count() != 0 &&
      std::chrono::duration<double>(now - last_).count() < log_every_s_) {
    return;
  }
  last_ = now;
  Log(line);
}

void Progress::Log(const std::string& line) {
  Finish();
  std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", std::localtime(&t));
  std::fprintf(stderr, "%s fwcanary-agent: %s\n", stamp, line.c_str());
  std::fflush(stderr);
}

void Progress::Finish() {
  if (dirty_) {
    std::fputc('\n', stderr);
    dirty_ = false;
  }
}

}  // namespace fwcanary
