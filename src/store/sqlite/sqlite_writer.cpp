// SqliteStore's writer thread: group commit of queued operations. Compaction slices and the WAL
// checkpoints are in sqlite_compaction.cpp.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <string>
#include <utility>

#include "store/memory/watch_hub.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_internal.h"

namespace berth::store {

using sqlite_internal::closedStatus;
using sqlite_internal::kMaxGroup;

Result<KeyValue> SqliteStore::submit(std::unique_ptr<WriteOp> op) {
  auto future = op->done.get_future();
  {
    std::lock_guard lock(queueMu_);
    if (closing_) return closedStatus();
    queue_.push_back(std::move(op));
  }
  queueCv_.notify_one();
  return future.get();
}

void SqliteStore::writerLoop() {
  std::vector<std::unique_ptr<WriteOp>> group;
  std::vector<Event> events;
  while (true) {
    group.clear();
    {
      std::unique_lock lock(queueMu_);
      queueCv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and everything queued is done
      while (!queue_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    events.clear();
    runGroup(group, events);
    // Events first, then acknowledgements: a watch started after a write returned has that
    // write at or below its floor, so it is replayed, never delivered twice or lost.
    if (!events.empty()) hub_->publish(std::move(events));
    events = {};
    for (auto& op : group) op->done.set_value(std::move(*op->outcome));
  }
}

void SqliteStore::runGroup(std::vector<std::unique_ptr<WriteOp>>& group,
                           std::vector<Event>& events) {
  Connection& db = *writer_;
  const int64_t startRevision = revision_.load();
  int64_t revision = startRevision;
  Status failure = db.exec("BEGIN IMMEDIATE");
  if (failure.ok()) {
    for (auto& op : group) {
      applyOp(*op, revision, events);
      // A failing SQL statement (not a failed precondition) poisons the transaction.
      if (op->outcome && !op->outcome->ok() && op->outcome->status().code() == 500) {
        failure = op->outcome->status();
        break;
      }
    }
  }
  if (failure.ok() && revision != startRevision) {
    Status err;
    auto st = db.prepare("UPDATE meta SET value = ?1 WHERE name = 'revision'", err);
    if (!st) {
      failure = err;
    } else {
      st->bindInt(1, revision);
      if (st->step() != SQLITE_DONE) failure = db.error("update revision");
    }
  }
  if (failure.ok()) failure = db.exec("COMMIT");
  if (!failure.ok()) {
    if (!sqlite3_get_autocommit(db.handle())) (void)db.exec("ROLLBACK");
    for (auto& op : group) op->outcome = failure;
    events.clear();
    return;
  }
  revision_.store(revision);
}

void SqliteStore::applyOp(WriteOp& op, int64_t& revision, std::vector<Event>& events) {
  switch (op.kind) {
    case WriteOp::Kind::kCreate:
    case WriteOp::Kind::kUpdate:
    case WriteOp::Kind::kRemove:
      return applyKeyWrite(op, revision, events);
    case WriteOp::Kind::kSetCompacted:
    case WriteOp::Kind::kCompactBatch:
    case WriteOp::Kind::kVacuumStep:
      return applyCompaction(op);
  }
  op.outcome = Status::internal("sqlite: unknown write operation");
}

void SqliteStore::applyKeyWrite(WriteOp& op, int64_t& revision, std::vector<Event>& events) {
  using Kind = WriteOp::Kind;
  Connection& db = *writer_;
  Status err;
  auto fail = [&](std::string_view what) { op.outcome = db.error(what); };

  // The key's live row decides the preconditions.
  bool exists = false;
  int64_t curId = 0;
  int64_t curCreate = 0;
  std::string curValue;
  {
    auto st = db.prepare(
        "SELECT l.id, l.create_rev, l.value FROM live v JOIN log l ON l.id = v.id "
        "WHERE v.key = ?1",
        err);
    if (!st) return void(op.outcome = err);
    st->bindBlob(1, op.key);
    int rc = st->step();
    if (rc == SQLITE_ROW) {
      exists = true;
      curId = st->columnInt(0);
      curCreate = st->columnInt(1);
      curValue = st->columnBlob(2);
    } else if (rc != SQLITE_DONE) {
      return fail("read key");
    }
  }
  int64_t prevRow = curId;
  if (op.kind == Kind::kCreate) {
    if (exists) return void(op.outcome = keyExists(op.key));
    auto st = db.prepare("SELECT IFNULL(MAX(id), 0) FROM log WHERE key = ?1", err);
    if (!st) return void(op.outcome = err);
    st->bindBlob(1, op.key);
    if (st->step() != SQLITE_ROW) return fail("read key history");
    prevRow = st->columnInt(0);
  } else {
    if (!exists) return void(op.outcome = keyNotFound(op.key));
    if (op.a != 0 && op.a != curId) return void(op.outcome = revisionConflict(op.key));
  }

  const int64_t rev = revision + 1;
  const bool isDelete = op.kind == Kind::kRemove;
  const int64_t createRev = op.kind == Kind::kCreate ? rev : curCreate;
  {
    auto st = db.prepare(
        "INSERT INTO log(id, key, value, create_rev, prev_rev, deleted) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        err);
    if (!st) return void(op.outcome = err);
    st->bindInt(1, rev);
    st->bindBlob(2, op.key);
    if (isDelete) {
      st->bindNull(3);
    } else {
      st->bindBlob(3, op.value);
    }
    st->bindInt(4, createRev);
    st->bindInt(5, prevRow);
    st->bindInt(6, isDelete ? 1 : 0);
    if (st->step() != SQLITE_DONE) return fail("insert log row");
  }
  {
    auto st = isDelete ? db.prepare("DELETE FROM live WHERE key = ?1", err)
                       : db.prepare(
                             "INSERT INTO live(key, id) VALUES(?1, ?2) "
                             "ON CONFLICT(key) DO UPDATE SET id = excluded.id",
                             err);
    if (!st) return void(op.outcome = err);
    st->bindBlob(1, op.key);
    st->bindInt(2, rev);
    if (st->step() != SQLITE_DONE) return fail("update live row");
  }
  revision = rev;

  Event e;
  e.type = isDelete ? Event::Type::kDelete : Event::Type::kPut;
  e.kv = KeyValue{op.key, isDelete ? std::string() : op.value, createRev, rev};
  if (exists) e.prevKv = KeyValue{op.key, curValue, curCreate, curId};
  if (isDelete) {
    op.outcome = KeyValue{op.key, std::move(curValue), curCreate, rev};
  } else {
    op.outcome = KeyValue{op.key, std::string(), createRev, rev};
  }
  events.push_back(std::move(e));
}

}  // namespace berth::store
