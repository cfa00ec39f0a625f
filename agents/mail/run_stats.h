#pragma once
// RunStats: where workers record completed operations, and where the engine closes intervals.
//
// Workers call Record*() as operations finish; the engine's control thread calls TakeWindow()
// at each interval boundary, which returns what completed since the last call and starts a new
// window. Phase and run totals are merged from the windows, so every figure in a summary is the
// sum of the interval records that preceded it.
//
// Thread safety: all methods are safe to call concurrently (one mutex; held for microseconds).

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agents/mail/arrival_schedule.h"
#include "agents/mail/mail_ops.h"
#include "agents/records/records.h"

namespace fwcanary {

struct StatsWindow {
  std::array<OpStats, kOpClassCount> ops;
  // Keyed by the step's name literal: a handful of entries, searched without allocating.
  std::vector<std::pair<const char*, OpStats>> steps;
  uint64_t arrivals = 0;
  uint64_t completions = 0;
  uint64_t integrity_failures = 0;
  uint64_t accepted = 0;   // deliveries whose queue file was fsynced
  uint64_t delivered = 0;  // deliveries readable in a mailbox
  uint64_t retrieved = 0;  // retrieved and verified

  std::map<std::string, OpStats> StepsByName() const;
};

class RunStats {
 public:
  void CountArrival() {
    std::lock_guard<std::mutex> l(mu_);
    ++window_.arrivals;
  }
  // An arrival refused (a delivery: low space or backlog cap; any class: the queue of waiting
  // operations is full): no latency recorded.
  void CountRefused(OpClass op = OpClass::kDeliver);
  // A finished operation; `latency_us` runs from its intended start to out.done.
  void Record(OpClass op, const OpOutcome& out, double latency_us);
  // A retry of a deferred message: its steps count, its latency is not a new arrival's.
  void RecordRedelivery(const OpOutcome& out);
  // A lost or corrupt message found outside an operation (the final sweep).
  void RecordIntegrityFailure(const std::string& id, bool lost, const std::string& why);

  StatsWindow TakeWindow();
  std::vector<std::string> lost() const;
  std::vector<std::string> corrupt() const;
  std::vector<std::string> TakeNewErrors();  // for stderr diagnostics, rate-limited by caller

 private:
  mutable std::mutex mu_;
  StatsWindow window_;
  std::vector<std::string> lost_, corrupt_;
  std::vector<std::string> errors_;
};

}  // namespace fwcanary
