#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <future>
#include <string>
#include <utility>

#include "store/memory/watch_hub.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_internal.h"

namespace berth::store {

// Schema, kine-style, with one addition.
//
// `log` is the history: one row per write, its id the write's revision. A delete writes a
// tombstone row (deleted = 1, value NULL) carrying the key's create_rev; prev_rev links to the
// key's previous row so a watch replay can produce prevKv. `log_key_id` finds a key's rows and
// serves lists at old revisions (per key, the newest row <= rev).
//
// `live` (key -> id of its current row) is the addition: kine answers every read with a
// MAX(id)-per-key scan over the key's whole history, which grows with every update between
// compactions (leases and node status are rewritten every few seconds). With `live`, get and
// current-revision lists touch one index entry per live key, and the existence check of a create
// is one lookup. It costs one extra index write per write, inside the same transaction.
//
// `meta` keeps the revision counter (never goes backwards: compaction may delete the newest row,
// a tombstone), the compacted revision readers honour, and compact_cursor, how far the deletion
// of superseded rows got (so a compaction interrupted by a crash resumes where it stopped).
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS log(
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  value BLOB,
  create_rev INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_id ON log(key, id);
CREATE TABLE IF NOT EXISTS live(key BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(name, value) VALUES
  ('schema', 1), ('revision', 0), ('compacted', 0), ('compact_cursor', 0);
)sql";

}  // namespace

using sqlite_internal::closedStatus;

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  auto conn = Connection::open(path, /*create=*/true);
  if (!conn) return conn.status();
  Connection& db = **conn;
  // auto_vacuum only takes effect before the first table exists, so it goes first; on an
  // existing file it is a no-op (and the file keeps whatever mode it was created with).
  for (const char* pragma :
       {"PRAGMA auto_vacuum = INCREMENTAL", "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = OFF",
        // Debian builds SQLite with SECURE_DELETE, which zeroes every freed page through the
        // WAL: compaction then writes as much as it deletes. FAST zeroes deleted content only in
        // pages written anyway; vacuum overwrites or truncates the freed pages later.
        "PRAGMA secure_delete = FAST"}) {
    if (Status s = db.exec(pragma); !s.ok()) return s;
  }
  const std::string limit =
      "PRAGMA journal_size_limit = " + std::to_string(sqlite_internal::kJournalSizeLimit);
  if (Status s = db.exec(limit.c_str()); !s.ok()) return s;
  auto mode = db.queryInt("SELECT COUNT(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'");
  if (!mode || *mode != 1) return Status::internal("sqlite: cannot enable WAL on " + path);
  if (Status s = db.exec(kSchema); !s.ok()) return s;
  auto revision = db.queryInt("SELECT value FROM meta WHERE name = 'revision'");
  if (!revision) return revision.status();
  auto compacted = db.queryInt("SELECT value FROM meta WHERE name = 'compacted'");
  if (!compacted) return compacted.status();
  // Files written by something that did not keep the counter: never hand out a used revision.
  auto maxId = db.queryInt("SELECT IFNULL(MAX(id), 0) FROM log");
  if (!maxId) return maxId.status();
  int64_t rev = std::max(*revision, *maxId);
  auto checkpointer = Connection::open(path, /*create=*/false);
  if (!checkpointer) return checkpointer.status();
  std::unique_ptr<SqliteStore> store(new SqliteStore(
      path, std::move(conn).value(), std::move(checkpointer).value(), rev, *compacted));
  return store;
}

SqliteStore::SqliteStore(std::string path, std::unique_ptr<Connection> writer,
                         std::unique_ptr<Connection> checkpointer, int64_t revision,
                         int64_t compacted)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      hub_(std::make_shared<WatchHub>(revision)),
      revision_(revision),
      compacted_(compacted) {
  // Replaces SQLite's auto-checkpoint, which would run inside the writer's commits.
  sqlite3_wal_hook(writer_->handle(), &SqliteStore::walHook, this);
  hub_->start();
  checkpointThread_ = std::thread(
      [this, conn = std::move(checkpointer)]() mutable { checkpointerLoop(std::move(conn)); });
  writerThread_ = std::thread([this] { writerLoop(); });
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::close() {
  if (closed_.exchange(true)) return;
  stopAutoCompaction();
  {
    std::lock_guard lock(queueMu_);
    closing_ = true;
  }
  queueCv_.notify_all();
  if (writerThread_.joinable()) writerThread_.join();  // drains what was queued
  {
    std::lock_guard lock(checkpointMu_);
    checkpointStop_ = true;
  }
  checkpointCv_.notify_all();
  if (checkpointThread_.joinable()) checkpointThread_.join();
  hub_->stop();
  std::lock_guard lock(readersMu_);
  idleReaders_.clear();
}
Result<int64_t> SqliteStore::create(std::string_view key, std::string_view value) {
  if (closed_) return closedStatus();
  auto op = std::make_unique<WriteOp>();
  op->kind = WriteOp::Kind::kCreate;
  op->key = std::string(key);
  op->value = std::string(value);
  auto r = submit(std::move(op));
  if (!r) return r.status();
  return r->modRevision;
}

Result<int64_t> SqliteStore::update(std::string_view key, std::string_view value,
                                    int64_t expectedModRevision) {
  if (closed_) return closedStatus();
  auto op = std::make_unique<WriteOp>();
  op->kind = WriteOp::Kind::kUpdate;
  op->key = std::string(key);
  op->value = std::string(value);
  op->a = expectedModRevision;
  auto r = submit(std::move(op));
  if (!r) return r.status();
  return r->modRevision;
}

Result<KeyValue> SqliteStore::remove(std::string_view key, int64_t expectedModRevision) {
  if (closed_) return closedStatus();
  auto op = std::make_unique<WriteOp>();
  op->kind = WriteOp::Kind::kRemove;
  op->key = std::string(key);
  op->a = expectedModRevision;
  return submit(std::move(op));
}

int64_t SqliteStore::currentRevision() { return revision_.load(); }
int64_t SqliteStore::compactedRevision() { return compacted_.load(); }

}  // namespace berth::store
