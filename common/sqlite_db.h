#pragma once
// SqliteDb: the one way fwcanary talks to SQLite (the run journal, the run history): open with
// the pragmas that make a commit durable, run a statement with bound text parameters (never
// values spliced into SQL), read rows as strings. Errors name the database file.
//
// Thread safety: calls are serialized by an internal mutex (SQLITE_OPEN_FULLMUTEX as well).

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace fwcanary {

class SqliteDb {
 public:
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // WAL and synchronous=FULL: a committed row survives a SIGKILL and a host crash. `schema` is
  // run once at open (CREATE TABLE IF NOT EXISTS ...).
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool create, const std::string& schema);

  Status Exec(const std::string& sql, const std::vector<std::string>& args = {}) const;
  // The rows; on a failed read none, and `error` (if given) says why, so that a caller for whom
  // "no rows" means "nothing was done yet" can tell it from "could not read".
  std::vector<std::vector<std::string>> Query(const std::string& sql, const std::vector<std::string>& args = {},
                                              Status* error = nullptr) const;
  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  mutable std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace fwcanary
