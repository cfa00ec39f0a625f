#include "harness/rollout/journal.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>

namespace fwcanary::rollout {
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
                                   what TEXT NOT NULL);
)";

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string NowText() { return std::to_string(Now()); }

const char* kNodeStates[] = {"ready", "flash_sent", "active", "failed", "rollback_sent", "rolled_back"};

NodeState ParseNodeState(const std::string& s) {
  for (int i = 0; i < 6; ++i) {
    if (s == kNodeStates[i]) return static_cast<NodeState>(i);
  }
  return NodeState::kFailed;  // an unknown state is treated as the unsafe one
}

Result<std::unique_ptr<Journal>> OpenDb(const std::string& path, bool create,
                                        Journal* (*make)(sqlite3*, std::string)) {
  namespace fs = std::filesystem;
  if (create && fs::exists(path)) return Status::Refused(path + ": a journal already exists");
  if (!create && !fs::exists(path)) return Status::NotFound(path + ": no journal (is this a run directory?)");
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError(path + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  // WAL + FULL: a committed record survives the controller's SIGKILL and the host's crash.
  std::string init = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") + kSchema;
  if (sqlite3_exec(db, init.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db);
    return Status::IOError(path + ": " + m);
  }
  return std::unique_ptr<Journal>(make(db, path));
}

}  // namespace

const char* NodeStateName(NodeState s) { return kNodeStates[static_cast<int>(s)]; }

Journal::~Journal() { sqlite3_close(db_); }

Result<std::unique_ptr<Journal>> Journal::Create(const std::string& path) {
  return OpenDb(path, true, [](sqlite3* db, std::string p) { return new Journal(db, std::move(p)); });
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  return OpenDb(path, false, [](sqlite3* db, std::string p) { return new Journal(db, std::move(p)); });
}

Status Journal::Exec(const std::string& sql, const std::vector<std::string>& args) const {
  std::lock_guard lock(mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::IOError(path_ + ": " + sqlite3_errmsg(db_));
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::IOError(path_ + ": " + sqlite3_errmsg(db_));
  return Status::Ok();
}

std::vector<std::vector<std::string>> Journal::Query(const std::string& sql,
                                                     const std::vector<std::string>& args) const {
  std::lock_guard lock(mu_);
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return rows;
  for (std::size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* v = sqlite3_column_text(st, c);
      row.emplace_back(v ? reinterpret_cast<const char*>(v) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  return rows;
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
  Status s = Exec("INSERT OR REPLACE INTO steps VALUES (?, 'started', ?, ?)", {step, data.dump(), NowText()});
  if (!s.ok()) return s;
  return Event("begin " + step);
}

Status Journal::FinishStep(const std::string& step, const nlohmann::json& data) {
  Status s = Exec("INSERT OR REPLACE INTO steps VALUES (?, 'done', ?, ?)", {step, data.dump(), NowText()});
  if (!s.ok()) return s;
  return Event("done " + step);
}

StepState Journal::Step(const std::string& step) const {
  auto rows = Query("SELECT state FROM steps WHERE name = ?", {step});
  if (rows.empty()) return StepState::kNotStarted;
  return rows[0][0] == "done" ? StepState::kDone : StepState::kStarted;
}

nlohmann::json Journal::StepData(const std::string& step) const {
  auto rows = Query("SELECT data FROM steps WHERE name = ?", {step});
  if (rows.empty()) return nlohmann::json::object();
  return nlohmann::json::parse(rows[0][0], nullptr, false);
}

Status Journal::SetNode(const std::string& node, const JournalNode& n) {
  Status s = Exec("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?, ?, ?)",
                  {node, n.version_before, n.boot_before, NodeStateName(n.state), n.detail, NowText()});
  if (!s.ok()) return s;
  return Event(node + " " + NodeStateName(n.state) + (n.detail.empty() ? "" : ": " + n.detail));
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

Status Journal::Event(const std::string& what) {
  return Exec("INSERT INTO events (t, what) VALUES (?, ?)", {NowText(), what});
}

std::vector<std::string> Journal::Events() const {
  std::vector<std::string> out;
  for (auto& r : Query("SELECT t, what FROM events ORDER BY seq", {})) out.push_back(r[0] + " " + r[1]);
  return out;
}

}  // namespace fwcanary::rollout
