// SqliteStore's reads: the read connection pool, get, list and watch replay.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <string>
#include <utility>

#include "store/memory/watch_hub.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_internal.h"

namespace berth::store {

using sqlite_internal::closedStatus;
using sqlite_internal::Connection;
using sqlite_internal::KeyRange;
using sqlite_internal::kMaxIdleReaders;
using sqlite_internal::prefixEnd;
using sqlite_internal::Statement;
using sqlite_internal::tooLargeRevision;

// A borrowed read connection, returned to the pool on destruction.
class SqliteStore::ReadLease {
 public:
  ReadLease(SqliteStore& store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~ReadLease() {
    if (conn_) store_.releaseReader(std::move(conn_));
  }
  Connection* operator->() { return conn_.get(); }
  Connection& operator*() { return *conn_; }

 private:
  SqliteStore& store_;
  std::unique_ptr<Connection> conn_;
};

std::unique_ptr<SqliteStore::Connection> SqliteStore::acquireReader(Status& error) {
  {
    std::lock_guard lock(readersMu_);
    if (!idleReaders_.empty()) {
      auto conn = std::move(idleReaders_.back());
      idleReaders_.pop_back();
      return conn;
    }
  }
  auto conn = Connection::open(path_, /*create=*/false);
  if (!conn) {
    error = conn.status();
    return nullptr;
  }
  return std::move(conn).value();
}

void SqliteStore::releaseReader(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(readersMu_);
  if (!closed_ && idleReaders_.size() < kMaxIdleReaders) idleReaders_.push_back(std::move(conn));
}

namespace {

// Ends a read transaction however the read returns.
class ReadTxn {
 public:
  explicit ReadTxn(Connection& db) : db_(db) { status_ = db_.exec("BEGIN"); }
  ~ReadTxn() {
    if (!sqlite3_get_autocommit(db_.handle())) (void)db_.exec("COMMIT");
  }
  const Status& status() const { return status_; }

 private:
  Connection& db_;
  Status status_;
};

KeyValue rowToKv(Statement& st) {
  return KeyValue{st.columnBlob(0), st.columnBlob(1), st.columnInt(2), st.columnInt(3)};
}

}  // namespace

Result<KeyValue> SqliteStore::get(std::string_view key) {
  if (closed_) return closedStatus();
  Status err;
  auto conn = acquireReader(err);
  if (!conn) return err;
  ReadLease db(*this, std::move(conn));
  auto st = db->prepare(
      "SELECT v.key, l.value, l.create_rev, l.id FROM live v JOIN log l ON l.id = v.id "
      "WHERE v.key = ?1",
      err);
  if (!st) return err;
  st->bindBlob(1, key);
  int rc = st->step();
  if (rc == SQLITE_ROW) return rowToKv(*st);
  if (rc == SQLITE_DONE) return keyNotFound(key);
  return db->error("get");
}

Result<ListResult> SqliteStore::list(const ListOptions& options) {
  if (closed_) return closedStatus();
  if (options.revision < 0 || options.limit < 0) {
    return Status::badRequest("negative revision or limit");
  }
  Status err;
  auto conn = acquireReader(err);
  if (!conn) return err;
  ReadLease db(*this, std::move(conn));
  ReadTxn txn(*db);
  if (!txn.status().ok()) return txn.status();
  // Both counters as of this transaction's snapshot.
  auto current = db->queryInt("SELECT value FROM meta WHERE name = 'revision'");
  if (!current) return current.status();
  auto compacted = db->queryInt("SELECT value FROM meta WHERE name = 'compacted'");
  if (!compacted) return compacted.status();
  const int64_t revision = options.revision == 0 ? *current : options.revision;
  if (revision < *compacted) return revisionCompacted(revision, *compacted);
  if (revision > *current) return tooLargeRevision(revision, *current);
  const bool historical = revision < *current;

  ListResult result;
  result.revision = revision;
  const KeyRange range = KeyRange::forList(options);
  // A row of `log l` that is its key's state at ?1: streams in key order from log_key_id (one
  // index probe per row, stops at the limit), where a GROUP BY would materialize the range.
  static const std::string kNewestAtRevision =
      "l.id <= ?1 AND l.deleted = 0 AND NOT EXISTS (SELECT 1 FROM log n "
      "WHERE n.key = l.key AND n.id > l.id AND n.id <= ?1)";
  // Current state comes from `live`; an older state picks each key's newest row <= revision.
  std::string sql =
      historical ? "SELECT l.key, l.value, l.create_rev, l.id FROM log l WHERE " +
                       range.sql("l.key") + " AND " + kNewestAtRevision +
                       " ORDER BY l.key LIMIT ?2"
                 : "SELECT v.key, l.value, l.create_rev, l.id FROM live v JOIN log l "
                   "ON l.id = v.id WHERE " +
                       range.sql("v.key") + " ORDER BY v.key LIMIT ?2";
  {
    auto st = db->prepare(sql, err);
    if (!st) return err;
    range.bind(*st);
    st->bindInt(1, revision);
    st->bindInt(2, options.limit > 0 ? options.limit + 1 : -1);
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) result.items.push_back(rowToKv(*st));
    if (rc != SQLITE_DONE) return db->error("list");
  }
  if (options.limit > 0 && static_cast<int64_t>(result.items.size()) > options.limit) {
    result.items.pop_back();
    result.more = true;
    KeyRange rest = range;
    rest.lower = result.items.back().key;
    rest.lowerExclusive = true;
    std::string countSql =
        historical ? "SELECT COUNT(*) FROM log l WHERE " + rest.sql("l.key") + " AND " +
                         kNewestAtRevision
                   : "SELECT COUNT(*) FROM live WHERE " + rest.sql("key") + "";
    auto st = db->prepare(countSql, err);
    if (!st) return err;
    rest.bind(*st);
    st->bindInt(1, revision);
    if (st->step() != SQLITE_ROW) return db->error("list count");
    result.remaining = st->columnInt(0);
  }
  return result;
}

// ---- watch ----

Result<std::unique_ptr<Watch>> SqliteStore::watch(std::string_view prefix, int64_t afterRevision,
                                                  WatchCallback callback) {
  if (closed_) return closedStatus();
  if (afterRevision < 0) return Status::badRequest("negative watch revision");
  if (afterRevision != 0 && afterRevision < compacted_.load()) {
    return revisionCompacted(afterRevision, compacted_.load());
  }
  auto watcher = hub_->add(prefix, afterRevision, std::move(callback));
  auto fail = [&](Status s) -> Result<std::unique_ptr<Watch>> {
    hub_->cancel(watcher);
    return s;
  };
  std::vector<Event> replay;
  if (afterRevision != 0 && afterRevision < watcher->floor) {
    // Everything up to the floor was committed before it was published, so this snapshot has it.
    Status err;
    auto conn = acquireReader(err);
    if (!conn) return fail(err);
    ReadLease db(*this, std::move(conn));
    ReadTxn txn(*db);
    if (!txn.status().ok()) return fail(txn.status());
    auto compacted = db->queryInt("SELECT value FROM meta WHERE name = 'compacted'");
    if (!compacted) return fail(compacted.status());
    // A compaction may have raced the check above; this snapshot tells for sure.
    if (afterRevision < *compacted) return fail(revisionCompacted(afterRevision, *compacted));
    KeyRange range;
    range.lower = std::string(prefix);
    range.upper = prefixEnd(prefix);
    auto st = db->prepare(
        "SELECT l.key, l.value, l.create_rev, l.id, l.deleted, p.id, p.value, p.create_rev, "
        "p.deleted FROM log l LEFT JOIN log p ON p.id = l.prev_rev "
        "WHERE l.id > ?1 AND l.id <= ?2 AND " +
            range.sql("l.key") + " ORDER BY l.id",
        err);
    if (!st) return fail(err);
    st->bindInt(1, afterRevision);
    st->bindInt(2, watcher->floor);
    range.bind(*st);
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Event e;
      const bool deleted = st->columnInt(4) != 0;
      e.type = deleted ? Event::Type::kDelete : Event::Type::kPut;
      e.kv = rowToKv(*st);
      if (deleted) e.kv.value.clear();
      const bool hasPrev = !st->columnIsNull(5) && st->columnInt(8) == 0;
      if (hasPrev && (deleted || e.kv.createRevision != e.kv.modRevision)) {
        e.prevKv = KeyValue{e.kv.key, st->columnBlob(6), st->columnInt(7), st->columnInt(5)};
      }
      replay.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return fail(db->error("watch replay"));
  }
  hub_->activate(watcher, std::move(replay));
  return hub_->handle(std::move(watcher));
}

}  // namespace berth::store

