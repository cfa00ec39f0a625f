#include "common/sqlite_db.h"

#include <sqlite3.h>

namespace fwcanary {

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool create, const std::string& schema) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError(path + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  std::string init = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" + schema;
  if (sqlite3_exec(db, init.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db);
    return Status::IOError(path + ": " + m);
  }
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

Status SqliteDb::Exec(const std::string& sql, const std::vector<std::string>& args) const {
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
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Status::IOError(path_ + ": " + sqlite3_errmsg(db_));
  return Status::Ok();
}

std::vector<std::vector<std::string>> SqliteDb::Query(const std::string& sql,
                                                      const std::vector<std::string>& args,
                                                      Status* error) const {
  std::lock_guard lock(mu_);
  std::vector<std::vector<std::string>> rows;
  auto failed = [&](const char* what) {
    if (error != nullptr) *error = Status::IOError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
    return std::vector<std::vector<std::string>>{};
  };
  if (error != nullptr) *error = Status::Ok();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return failed("cannot read");
  for (std::size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* v = sqlite3_column_text(st, c);
      row.emplace_back(v ? reinterpret_cast<const char*>(v) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return failed("read failed");
  return rows;
}

}  // namespace fwcanary
