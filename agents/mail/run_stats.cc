#include "agents/mail/run_stats.h"

#include <cstring>
#include <string_view>

namespace fwcanary {
namespace {

void AddStep(StatsWindow& w, const StepTime& st) {
  OpStats* s = nullptr;
  for (auto& [name, stats] : w.steps) {
    if (name == st.step || std::strcmp(name, st.step) == 0) s = &stats;
  }
  if (s == nullptr) s = &w.steps.emplace_back(st.step, OpStats()).second;
  s->count += 1;
  s->hist.Record(st.micros);
}

}  // namespace

void RunStats::CountRefused(OpClass op) {
  std::lock_guard<std::mutex> l(mu_);
  window_.ops[static_cast<int>(op)].refused += 1;
}

void RunStats::Record(OpClass op, const OpOutcome& out, double latency_us) {
  std::lock_guard<std::mutex> l(mu_);
  OpStats& s = window_.ops[static_cast<int>(op)];
  using K = OpOutcome::Kind;
  for (const StepTime& st : out.steps) AddStep(window_, st);
  if (op == OpClass::kDeliver && !out.steps.empty() &&
      std::string_view(out.steps.front().step) == "queue_write") {
    window_.accepted += 1;
  }
  if (out.kind == K::kEmpty) {  // a POP session on an empty box: served, but reads nothing
    s.empty += 1;
    window_.completions += 1;
    return;
  }
  if (out.kind == K::kRefused) {
    s.refused += 1;
    return;
  }
  s.count += 1;
  s.bytes += out.bytes;
  s.hist.Record(latency_us);
  window_.completions += 1;
  if (out.kind == K::kOk) {
    if (op == OpClass::kDeliver) window_.delivered += 1;
    if (op == OpClass::kRetrieve) window_.retrieved += 1;
    return;
  }
  s.errors += 1;
  if (out.kind == K::kLost || out.kind == K::kCorrupt) {
    window_.integrity_failures += 1;
    (out.kind == K::kLost ? lost_ : corrupt_).push_back(out.message_id);
  }
  if (errors_.size() < 1000) errors_.push_back(std::string(OpClassName(op)) + ": " + out.error);
}

void RunStats::RecordRedelivery(const OpOutcome& out) {
  std::lock_guard<std::mutex> l(mu_);
  for (const StepTime& st : out.steps) AddStep(window_, st);
  using K = OpOutcome::Kind;
  if (out.kind == K::kOk) window_.delivered += 1;
  if (out.kind == K::kLost || out.kind == K::kCorrupt) {
    window_.integrity_failures += 1;
    (out.kind == K::kLost ? lost_ : corrupt_).push_back(out.message_id);
  }
  if (out.kind != K::kOk && errors_.size() < 1000) errors_.push_back("redeliver: " + out.error);
}

void RunStats::RecordIntegrityFailure(const std::string& id, bool lost, const std::string& why) {
  std::lock_guard<std::mutex> l(mu_);
  window_.integrity_failures += 1;
  (lost ? lost_ : corrupt_).push_back(id);
  if (errors_.size() < 1000) errors_.push_back("verify: " + why);
}

std::map<std::string, OpStats> StatsWindow::StepsByName() const {
  std::map<std::string, OpStats> out;
  for (const auto& [name, s] : steps) out[name].Merge(s);
  return out;
}

StatsWindow RunStats::TakeWindow() {
  std::lock_guard<std::mutex> l(mu_);
  StatsWindow w = std::move(window_);
  window_ = StatsWindow();
  return w;
}

std::vector<std::string> RunStats::lost() const {
  std::lock_guard<std::mutex> l(mu_);
  return lost_;
}

std::vector<std::string> RunStats::corrupt() const {
  std::lock_guard<std::mutex> l(mu_);
  return corrupt_;
}

std::vector<std::string> RunStats::TakeNewErrors() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> e;
  e.swap(errors_);
  return e;
}

}  // namespace fwcanary
