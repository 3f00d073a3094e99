#pragma once
// sqlite_internal::Connection: a thin RAII wrapper over one sqlite3 handle with a cache of
// prepared statements. Internal to the SQLite store.
//
// Thread-safety: none. A connection is used by one thread at a time (the writer thread owns the
// writing connection; read connections are borrowed from a pool), so handles are opened with
// SQLITE_OPEN_NOMUTEX.
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::store::sqlite_internal {

// How long a connection waits for a lock another connection holds.
constexpr int kBusyTimeoutMs = 10000;

// A prepared statement borrowed from a connection's cache; reset and unbound when released.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Binds bytes as a BLOB (never NULL, even when empty), so keys compare bytewise.
  void bindBlob(int index, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.empty() ? "" : bytes.data(),
                      static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void bindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bindNull(int index) { sqlite3_bind_null(stmt_, index); }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  int64_t columnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool columnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string columnBlob(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr || n <= 0 ? std::string() : std::string(static_cast<const char*>(p), n);
  }

 private:
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens `path` read-write (creating it when `create`), busy timeout set, no per-handle mutex.
  static core::Result<std::unique_ptr<Connection>> open(const std::string& path, bool create);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements, discarding rows.
  core::Status exec(const char* sql);
  // A cached prepared statement for `sql`; null (with `error` set) when it does not compile.
  std::unique_ptr<Statement> prepare(const std::string& sql, core::Status& error);
  // The connection's last error as an internal Status, prefixed with what was being done.
  core::Status error(std::string_view what) const;
  // Runs a single-value query ("SELECT x ..." or "PRAGMA x") and returns the first column.
  core::Result<int64_t> queryInt(const std::string& sql);

  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

}  // namespace berth::store::sqlite_internal
