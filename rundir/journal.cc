#include "rundir/journal.h"

#include <chrono>
#include <filesystem>
#include <iterator>

#include "common/sqlite_db.h"
#include "rundir/kill_point.h"

namespace fwcanary::journal {
namespace {

const char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (name TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL,
                                  updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (name TEXT PRIMARY KEY, version_before TEXT, boot_before TEXT,
                                  state TEXT NOT NULL, detail TEXT, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS drift (node TEXT, check_name TEXT, output TEXT,
                                  PRIMARY KEY (node, check_name));
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, t REAL NOT NULL,
                                   what TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'note',
                                   subject TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '');
)";

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string NowText() { return std::to_string(Now()); }

// Step data holds what nodes said: never let one bad byte throw here (it is SafeText already;
// this is the second line).
std::string Dump(const nlohmann::json& data) {
  return data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char* kNodeStates[] = {"ready",  "flash_sent",    "flash_acked",    "active",
                             "failed", "rollback_sent", "rollback_acked", "rolled_back",
                             "flash_unknown", "rollback_unknown"};

NodeState ParseNodeState(const std::string& s) {
  for (int i = 0; i < static_cast<int>(std::size(kNodeStates)); ++i) {
    if (s == kNodeStates[i]) return static_cast<NodeState>(i);
  }
  return NodeState::kFailed;  // an unknown state is treated as the unsafe one
}

Result<std::unique_ptr<Journal>> OpenDb(const std::string& path, bool create,
                                        Journal* (*make)(std::unique_ptr<SqliteDb>)) {
  namespace fs = std::filesystem;
  if (create && fs::exists(path)) return Status::Refused(path + ": a journal already exists");
  if (!create && !fs::exists(path)) return Status::NotFound(path + ": no journal (is this a run directory?)");
  // WAL + FULL (SqliteDb): a committed record survives the controller's SIGKILL and the host's crash.
  auto db = SqliteDb::Open(path, create, kSchema);
  if (!db.ok()) return db.status();
  return std::unique_ptr<Journal>(make(std::move(db.value())));
}

}  // namespace

const char* NodeStateName(NodeState s) { return kNodeStates[static_cast<int>(s)]; }

Journal::Journal(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
Journal::~Journal() = default;

Result<std::unique_ptr<Journal>> Journal::Create(const std::string& path) {
  return OpenDb(path, true, [](std::unique_ptr<SqliteDb> db) { return new Journal(std::move(db)); });
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  return OpenDb(path, false, [](std::unique_ptr<SqliteDb> db) { return new Journal(std::move(db)); });
}

Status Journal::Exec(const std::string& sql, const std::vector<std::string>& args) const {
  return db_->Exec(sql, args);
}

std::vector<std::vector<std::string>> Journal::Query(const std::string& sql,
                                                     const std::vector<std::string>& args) const {
  Status error;
  auto rows = db_->Query(sql, args, &error);
  if (!error.ok()) {
    std::lock_guard lock(error_mu_);
    if (read_error_.ok()) read_error_ = error;
  }
  return rows;
}

Status Journal::ReadError() const {
  std::lock_guard lock(error_mu_);
  return read_error_;
}

Status Journal::SetFact(const std::string& key, const std::string& value) {
  return Exec("INSERT OR REPLACE INTO facts VALUES (?, ?)", {key, value});
}

std::optional<std::string> Journal::Fact(const std::string& key) const {
  auto rows = Query("SELECT value FROM facts WHERE key = ?", {key});
  if (rows.empty()) return std::nullopt;
  return rows[0][0];
}

Status Journal::BeginStep(const std::string& step, const nlohmann::json& data) {
  Status s = Exec("INSERT OR REPLACE INTO steps VALUES (?, 'started', ?, ?)", {step, Dump(data), NowText()});
  if (!s.ok()) return s;
  return Record("step", step, "started", "begin " + step);
}

Status Journal::FinishStep(const std::string& step, const nlohmann::json& data) {
  Status s = Exec("INSERT OR REPLACE INTO steps VALUES (?, 'done', ?, ?)", {step, Dump(data), NowText()});
  if (!s.ok()) return s;
  return Record("step", step, "done", "done " + step);
}

StepState Journal::Step(const std::string& step) const {
  auto rows = Query("SELECT state FROM steps WHERE name = ?", {step});
  if (rows.empty()) return StepState::kNotStarted;
  return rows[0][0] == "done" ? StepState::kDone : StepState::kStarted;
}

nlohmann::json Journal::StepData(const std::string& step) const {
  auto rows = Query("SELECT data FROM steps WHERE name = ?", {step});
  if (rows.empty()) return nlohmann::json::object();
  nlohmann::json data = nlohmann::json::parse(rows[0][0], nullptr, false);
  if (data.is_discarded() || !data.is_object()) {
    std::lock_guard lock(error_mu_);
    if (read_error_.ok()) read_error_ = Status::Corruption(db_->path() + ": step " + step + ": unreadable data");
    return nlohmann::json::object();
  }
  return data;
}

Status Journal::SetNode(const std::string& node, const JournalNode& n) {
  if (TestWriteFails("node", node, NodeStateName(n.state))) {
    return Status::IOError(db_->path() + ": write refused (FWCANARY_TEST_FAIL_JOURNAL_WRITE)");
  }
  Status s = Exec("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?, ?, ?)",
                  {node, n.version_before, n.boot_before, NodeStateName(n.state), n.detail, NowText()});
  if (!s.ok()) return s;
  return Record("node", node, NodeStateName(n.state),
                node + " " + NodeStateName(n.state) + (n.detail.empty() ? "" : ": " + n.detail));
}

std::map<std::string, JournalNode> Journal::Nodes() const {
  std::map<std::string, JournalNode> out;
  for (auto& r : Query("SELECT name, version_before, boot_before, state, detail FROM nodes", {})) {
    out[r[0]] = JournalNode{r[1], r[2], ParseNodeState(r[3]), r[4]};
  }
  return out;
}

Status Journal::SetDrift(const std::string& node, const std::string& check, const std::string& output) {
  return Exec("INSERT OR REPLACE INTO drift VALUES (?, ?, ?)", {node, check, output});
}

std::map<std::string, std::string> Journal::Drift(const std::string& node) const {
  std::map<std::string, std::string> out;
  for (auto& r : Query("SELECT check_name, output FROM drift WHERE node = ?", {node})) out[r[0]] = r[1];
  return out;
}

Status Journal::Event(const std::string& what) { return Record("note", "", "", what); }

Status Journal::Record(const std::string& kind, const std::string& subject, const std::string& state,
                       const std::string& what) {
  Status s = Exec("INSERT INTO events (t, what, kind, subject, state) VALUES (?, ?, ?, ?, ?)",
                  {NowText(), what, kind, subject, state});
  if (s.ok()) KillPointAfterCommit(kind, subject, state);
  return s;
}

std::vector<JournalEvent> Journal::EventLog() const {
  std::vector<JournalEvent> out;
  for (auto& r : Query("SELECT t, kind, subject, state, what FROM events ORDER BY seq", {})) {
    out.push_back(JournalEvent{std::stod(r[0]), r[1], r[2], r[3], r[4]});
  }
  return out;
}

std::vector<std::string> Journal::Events() const {
  std::vector<std::string> out;
  for (auto& r : Query("SELECT t, what FROM events ORDER BY seq", {})) out.push_back(r[0] + " " + r[1]);
  return out;
}

}  // namespace fwcanary::journal
