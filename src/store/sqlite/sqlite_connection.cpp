#include "store/sqlite/sqlite_connection.h"

#include <string>

namespace berth::store::sqlite_internal {

using core::Status;

core::Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::internal("sqlite: cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  // Readers in WAL mode wait only during recovery or a truncating checkpoint; the writer only
  // when another process holds the file.
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Connection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status::internal(std::string("sqlite: ") + msg + " (in: " + sql + ")");
}

std::unique_ptr<Statement> Connection::prepare(const std::string& sql, Status& error) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      error = this->error("prepare " + sql);
      sqlite3_finalize(stmt);
      return nullptr;
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return std::make_unique<Statement>(it->second);
}

Status Connection::error(std::string_view what) const {
  return Status::internal("sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

core::Result<int64_t> Connection::queryInt(const std::string& sql) {
  Status err;
  auto stmt = prepare(sql, err);
  if (!stmt) return err;
  int rc = stmt->step();
  if (rc == SQLITE_ROW) return stmt->columnInt(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return error(sql);
}

}  // namespace berth::store::sqlite_internal
