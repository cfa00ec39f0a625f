#pragma once
// Journal: the run's durable memory, an SQLite database in the run directory (journal.db).
// Every state change is committed (synchronous=FULL) BEFORE the controller acts on it, so
// after a crash or SIGKILL at any point `fwcanary resume RUN_DIR` knows what was done, what
// was under way, and what was never started:
//   facts  - what the run is: scenario file and its hash, image, version, run id, options
//   steps  - preflight, baseline, wave<N>.during/activation/after/judge, rollback, postflight:
//            started or done, with their data (sample files, verdicts) as JSON
//   nodes  - per node: firmware and boot id before, and its state (see NodeState below)
//   drift  - per node and check: the output snapshotted in preflight
//   events - an append-only list of what happened, for the report and for a human
//
// Thread safety: one Journal per process; calls are serialized by an internal mutex, so the
// per-node threads of a wave may record their own node's state.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"


namespace fwcanary {
class SqliteDb;
}

namespace fwcanary::journal {

// A node's life in one run. `flash_sent` is written before the upgrade command goes out,
// `flash_acked` once the node accepted it (likewise for a rollback). A resumed run never sends
// an acknowledged command again; one only `sent` it sends again only when the node showed no
// sign of it for firmware.resend_after_s (the controller died before the command left).
// `flash_unknown` (`rollback_unknown`): the command left, but the controller stopped waiting
// for it (it timed out, or the connection dropped while it ran), so it may still act at any
// time. Such a command is never sent again; the node is watched for the version it would bring,
// and it is never reported rolled back on a version read alone.
enum class NodeState {
  kReady, kFlashSent, kFlashAcked, kActive, kFailed, kRollbackSent, kRollbackAcked, kRolledBack,
  kFlashUnknown, kRollbackUnknown
};
const char* NodeStateName(NodeState s);

struct JournalNode {
  std::string version_before, boot_before;
  NodeState state = NodeState::kReady;
  std::string detail;  // why it failed, what it reported
};

enum class StepState { kNotStarted, kStarted, kDone };

// One line of the event log: what the report's timeline is drawn from.
struct JournalEvent {
  double t = 0;         // unix time, seconds
  std::string kind;     // "step", "node" or "note"
  std::string subject;  // the step or node name; "" for a note
  std::string state;    // step: started|done; node: a NodeStateName
  std::string what;     // the human sentence
};

class Journal {
 public:
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Create refuses an existing journal; Open refuses a missing one. Errors name the file.
  static Result<std::unique_ptr<Journal>> Create(const std::string& path);
  static Result<std::unique_ptr<Journal>> Open(const std::string& path);

  Status SetFact(const std::string& key, const std::string& value);
  std::optional<std::string> Fact(const std::string& key) const;

  Status BeginStep(const std::string& step, const nlohmann::json& data = nlohmann::json::object());
  Status FinishStep(const std::string& step, const nlohmann::json& data);
  StepState Step(const std::string& step) const;
  nlohmann::json StepData(const std::string& step) const;  // {} when none

  Status SetNode(const std::string& node, const JournalNode& n);
  std::map<std::string, JournalNode> Nodes() const;

  // The first read that failed (or found unreadable data) since the journal was opened; OK if
  // none. A read that failed returns what "nothing recorded" looks like (no rows, kNotStarted),
  // so a caller that decides from what it read (resume: which nodes are flashed) checks this
  // before acting.
  Status ReadError() const;

  Status SetDrift(const std::string& node, const std::string& check, const std::string& output);
  std::map<std::string, std::string> Drift(const std::string& node) const;  // check -> output

  Status Event(const std::string& what);
  std::vector<std::string> Events() const;  // "<unix time> <what>", oldest first
  std::vector<JournalEvent> EventLog() const;  // oldest first

 private:
  explicit Journal(std::unique_ptr<SqliteDb> db);
  Status Record(const std::string& kind, const std::string& subject, const std::string& state,
                const std::string& what);
  Status Exec(const std::string& sql, const std::vector<std::string>& args) const;
  std::vector<std::vector<std::string>> Query(const std::string& sql,
                                              const std::vector<std::string>& args) const;
  std::unique_ptr<SqliteDb> db_;
  mutable std::mutex error_mu_;
  mutable Status read_error_;
};

}  // namespace fwcanary::journal
