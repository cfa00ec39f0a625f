#pragma once
// Progress: tells a human what a long run is doing, on stderr (stdout carries the records).
// On a terminal one status line is redrawn in place; elsewhere (CI logs, a controller reading
// over SSH) plain timestamped lines, at most one every `log_every_s` seconds.
// Thread safety: call from one thread.

#include <chrono>
#include <string>

namespace fwcanary {

class Progress {
 public:
  explicit Progress(double log_every_s = 10.0);
  // A status line that may be dropped when one was shown recently (not on a terminal).
  void Update(const std::string& line);
  // A line always shown (phase changes, warnings).
  void Log(const std::string& line);
  // Ends a redrawn line so later output starts on a fresh line.
  void Finish();

 private:
  bool tty_;
  bool dirty_ = false;
  double log_every_s_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace fwcanary
