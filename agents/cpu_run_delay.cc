#include "agents/cpu_run_delay.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fwcanary {

std::optional<uint64_t> ParseSchedstatWaitNs(const std::string& line) {
  std::istringstream in(line);
  std::string on_cpu, wait, slices, extra;
  if (!(in >> on_cpu >> wait >> slices) || (in >> extra)) return std::nullopt;
  for (const std::string* f : {&on_cpu, &wait, &slices}) {
    if (f->empty() || f->size() > 19 || f->find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
  }
  return std::stoull(wait);
}

CpuRunDelay::CpuRunDelay(std::string task_dir) : task_dir_(std::move(task_dir)) {
  auto now = Read();
  readable_ = now.has_value();
  if (now) last_ns_ = std::move(*now);
}

std::optional<std::map<std::string, uint64_t>> CpuRunDelay::Read() const {
  std::error_code ec;
  std::filesystem::directory_iterator it(task_dir_, ec);
  if (ec) return std::nullopt;
  std::map<std::string, uint64_t> waits;
  for (const auto& entry : it) {
    std::ifstream f(entry.path() / "schedstat");
    std::string line;
    if (!f || !std::getline(f, line)) continue;  // the thread exited while we looked
    if (auto ns = ParseSchedstatWaitNs(line)) waits[entry.path().filename().string()] = *ns;
  }
  if (waits.empty()) return std::nullopt;
  return waits;
}

std::optional<double> CpuRunDelay::Take() {
  auto now = Read();
  std::optional<double> us;
  if (now && readable_) {
    uint64_t ns = 0;
    for (const auto& [tid, wait] : *now) {
      auto was = last_ns_.find(tid);
      // A thread started since the last call waited all of its wait in between. A TID the
      // kernel reused for a new thread has a smaller count: also counted from 0.
      ns += was == last_ns_.end() || wait < was->second ? wait : wait - was->second;
    }
    us = static_cast<double>(ns) / 1000.0;
  }
  readable_ = now.has_value();
  last_ns_ = now ? std::move(*now) : std::map<std::string, uint64_t>{};
  return us;
}

}  // namespace fwcanary
