#pragma once
// Progress: what a person watching the run sees. Every event is a plain, timestamped log line
// (stderr and run.log). On a terminal, a status line under the log is redrawn twice a second:
// the stage and how far into it, node states (counted when there are many), elapsed and an
// estimate of what remains (from the plan's window lengths). Not on a terminal (CI, nohup,
// cron): log lines only, no control characters.
//
// Thread safety: all methods may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fwcanary::rollout {

struct StageEstimate {
  std::string name;  // "baseline", "wave1 (canary)", ...
  double seconds = 0;
};

class Progress {
 public:
  // `log_path`: run.log (appended). `tty`: redraw a status line (pass isatty(2)).
  Progress(const std::string& log_path, bool tty);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Log(const std::string& line);
  void SetStages(std::vector<StageEstimate> stages);  // the whole run, in order
  void EnterStage(const std::string& name, const std::string& detail);
  void SetNode(const std::string& node, const std::string& state);
  // For tests and the log: "wave1 (canary): post-upgrade window 35 s | node-1 active, ..."
  std::string StatusLine();

 private:
  void Redraw();                   // REQUIRES: mu_ held
  std::string StatusLineLocked();  // REQUIRES: mu_ held
  using Clock = std::chrono::steady_clock;
  std::mutex mu_;
  std::condition_variable cv_;
  std::ofstream out_;
  const bool tty_;
  bool stop_ = false;
  bool drawn_ = false;
  Clock::time_point start_ = Clock::now(), stage_start_ = Clock::now();
  std::vector<StageEstimate> stages_;
  std::size_t stage_ = 0;
  std::string stage_name_, detail_;
  std::map<std::string, std::string> nodes_;
  std::thread redraw_;
};

}  // namespace fwcanary::rollout
