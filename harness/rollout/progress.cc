#include "harness/rollout/progress.h"

#include <ctime>

namespace fwcanary::rollout {
namespace {

std::string ClockText(double s) {
  int t = static_cast<int>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(const std::string& log_path, bool tty) : out_(log_path, std::ios::app), tty_(tty) {
  if (!tty_) return;
  redraw_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; })) Redraw();
  });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (drawn_) std::fputs("\r\033[K", stderr);
  }
  cv_.notify_all();
  if (redraw_.joinable()) redraw_.join();
}

void Progress::Log(const std::string& line) {
  std::lock_guard lock(mu_);
  std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%H:%M:%S", std::localtime(&now));
  if (drawn_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s fwcanary: %s\n", ts, line.c_str());
  out_ << ts << " " << line << "\n";
  out_.flush();
  drawn_ = false;
  if (tty_) Redraw();
}

void Progress::SetStages(std::vector<StageEstimate> stages) {
  std::lock_guard lock(mu_);
  stages_ = std::move(stages);
}

void Progress::EnterStage(const std::string& name, const std::string& detail) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i].name == name) stage_ = i;
  }
  if (name != stage_name_) stage_start_ = Clock::now();
  stage_name_ = name;
  detail_ = detail;
}

void Progress::SetNode(const std::string& node, const std::string& state) {
  std::lock_guard lock(mu_);
  nodes_[node] = state;
}

std::string Progress::StatusLine() {
  std::lock_guard lock(mu_);
  return StatusLineLocked();
}

std::string Progress::StatusLineLocked() {
  const auto now = Clock::now();
  double in_stage = std::chrono::duration<double>(now - stage_start_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string s = "[" + stage_name_ + (detail_.empty() ? "" : ": " + detail_) + " " +
                  ClockText(in_stage) + "]";
  // Node states: listed when few, counted when many.
  std::map<std::string, int> counts;
  for (const auto& [n, st] : nodes_) ++counts[st];
  std::string nodes;
  if (nodes_.size() <= 4) {
    for (const auto& [n, st] : nodes_) nodes += (nodes.empty() ? "" : ", ") + n + " " + st;
  } else {
    for (const auto& [st, c] : counts) nodes += (nodes.empty() ? "" : ", ") + std::to_string(c) + " " + st;
  }
  if (!nodes.empty()) s += " " + nodes;
  s += " | " + ClockText(elapsed) + " elapsed";
  if (!stages_.empty()) {
    double left = std::max(0.0, stages_[stage_].seconds - in_stage);
    for (std::size_t i = stage_ + 1; i < stages_.size(); ++i) left += stages_[i].seconds;
    s += ", ~" + ClockText(left) + " left if every wave passes";
  }
  return s;
}

void Progress::Redraw() {
  if (stage_name_.empty()) return;
  std::string line = StatusLineLocked();
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace fwcanary::rollout
