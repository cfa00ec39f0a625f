#include "rundir/kill_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>

namespace fwcanary::journal {

bool TestWriteFails(const std::string& kind, const std::string& subject, const std::string& state) {
  const char* at = std::getenv("FWCANARY_TEST_FAIL_JOURNAL_WRITE");
  return at != nullptr && *at != '\0' && kind + ":" + subject + ":" + state == at;
}

void KillPointAfterCommit(const std::string& kind, const std::string& subject, const std::string& state) {
  if (const char* at = std::getenv("FWCANARY_TEST_THROW_AT_STATE"); at != nullptr && *at != '\0') {
    static std::atomic<bool> thrown{false};
    if (kind + ":" + subject + ":" + state == at && !thrown.exchange(true)) {
      throw std::runtime_error("test: thrown at " + std::string(at));
    }
  }
  const char* file = std::getenv("FWCANARY_TEST_KILL_AT_NEW_STATE");
  if (file == nullptr || *file == '\0' || kind == "note") return;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const std::string line = kind + ":" + subject + ":" + state;
  std::set<std::string> seen;
  {
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) seen.insert(l);
  }
  if (seen.count(line) != 0) return;
  // Durable before dying, so the next resume passes this state and dies at the next one.
  int fd = ::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = line + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::fsync(fd);
  ::close(fd);
  if (written) ::kill(::getpid(), SIGKILL);
}

}  // namespace fwcanary::journal
