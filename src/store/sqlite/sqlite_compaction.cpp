// SqliteStore's housekeeping: compaction (deleting superseded history), incremental vacuum (giving
// the space back to the file system) and WAL checkpoints, all arranged so that writers keep their
// normal latency while it runs.
//
// - Deletes and vacuum run on the writer thread as operations queued like writes, so they share
//   the writers' group commits instead of contending for SQLite's write lock. Each operation is a
//   time-boxed slice (kMaintenanceSlice) and the compactor pauses between slices, so a write
//   waits for at most one slice, and most groups carry none.
// - The writer never checkpoints the WAL synchronously after a commit (SQLite's auto-checkpoint
//   copies thousands of pages and fsyncs the database inside some unlucky write's latency, and a
//   vacuum fills the WAL quickly). A checkpointer thread does that on its own connection in
//   PASSIVE mode, which never holds writers off; the writer only copies the small remainder when
//   the WAL is long, so that the WAL starts over instead of growing.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/sqlite/sqlite_store.h"

namespace berth::store {

using sqlite_internal::closedStatus;
using sqlite_internal::Connection;
using sqlite_internal::kCheckpointFrames;
using sqlite_internal::kCompactBatchRows;
using sqlite_internal::kCompactPause;
using sqlite_internal::kCompactPauseFactor;
using sqlite_internal::kMaintenanceSlice;
using sqlite_internal::kVacuumPagesPerStep;
using sqlite_internal::kWalLimitFrames;
using sqlite_internal::kWalRemainderFrames;
using sqlite_internal::kWalRestartFrames;

namespace {
using Clock = std::chrono::steady_clock;
// At most one background checkpoint per interval: each one fsyncs the database file, and the
// writer's WAL fsyncs share the disk with it.
constexpr auto kCheckpointInterval = std::chrono::milliseconds(50);
}  // namespace

// ---- compaction, driven from the caller's thread ----

Status SqliteStore::compact(int64_t revision) {
  if (closed_) return closedStatus();
  std::lock_guard compactLock(compactMu_);
  if (revision > revision_.load()) {
    return Status::badRequest("compaction revision " + std::to_string(revision) +
                              " is in the future (current " + std::to_string(revision_.load()) +
                              ")");
  }
  // The pause after a slice grows with what the slice's group commit took (its wait in the
  // queue, the slice, its share of the WAL write and fsync), so compaction takes a bounded share
  // of the writer and the disk, whatever their speed.
  Clock::duration pause = kCompactPause;
  auto run = [&](WriteOp::Kind kind, int64_t a) {
    auto op = std::make_unique<WriteOp>();
    op->kind = kind;
    op->a = a;
    const auto start = Clock::now();
    auto r = submit(std::move(op));
    pause = std::max<Clock::duration>(kCompactPause, kCompactPauseFactor * (Clock::now() - start));
    return r;
  };
  if (revision > compacted_.load()) {
    // Readers honour the new floor before any row goes.
    auto r = run(WriteOp::Kind::kSetCompacted, revision);
    if (!r) return r.status();
    compacted_.store(revision);
  }
  // Also resumes a deletion a crash interrupted (compact_cursor < compacted).
  const int64_t target = compacted_.load();
  while (true) {
    if (closed_) return closedStatus();
    auto r = run(WriteOp::Kind::kCompactBatch, target);
    if (!r) return r.status();
    if (r->modRevision >= target) break;
    std::this_thread::sleep_for(pause);
  }
  while (true) {
    if (closed_) return closedStatus();
    auto r = run(WriteOp::Kind::kVacuumStep, 0);
    if (!r) return r.status();
    if (r->modRevision == 0) break;
    std::this_thread::sleep_for(pause);
  }
  // The database file shrinks when a checkpoint has copied the whole WAL (the vacuum's commits
  // are still in it), so ask the checkpointer for a pass now rather than at the WAL's next
  // threshold. Under load new frames keep coming and the file shrinks at the next WAL restart.
  // No TRUNCATE checkpoint: it would stall the writer while it copies and fsyncs, and the next
  // commits would regrow the file; the WAL file stays within kJournalSizeLimit.
  std::unique_lock lock(checkpointMu_);
  const uint64_t request = ++checkpointRequested_;
  checkpointCv_.notify_all();
  checkpointCv_.wait(lock, [&] { return checkpointStop_ || checkpointDone_ >= request; });
  return Status();
}

void SqliteStore::startAutoCompaction(std::chrono::seconds interval, int64_t keepRevisions) {
  stopAutoCompaction();
  if (closed_) return;
  {
    std::lock_guard lock(autoMu_);
    autoStop_ = false;
  }
  autoThread_ = std::thread([this, interval, keepRevisions] {
    std::unique_lock lock(autoMu_);
    while (!autoCv_.wait_for(lock, interval, [&] { return autoStop_; })) {
      lock.unlock();
      int64_t target = revision_.load() - std::max<int64_t>(keepRevisions, 0);
      if (target > compacted_.load()) (void)compact(target);
      lock.lock();
    }
  });
}

void SqliteStore::stopAutoCompaction() {
  {
    std::lock_guard lock(autoMu_);
    autoStop_ = true;
  }
  autoCv_.notify_all();
  if (autoThread_.joinable()) autoThread_.join();
}

// ---- slices, on the writer thread inside a group's transaction ----

void SqliteStore::applyCompaction(WriteOp& op) {
  using Kind = WriteOp::Kind;
  Connection& db = *writer_;
  Status err;
  auto fail = [&](std::string_view what) { op.outcome = db.error(what); };
  const auto deadline = Clock::now() + kMaintenanceSlice;

  if (op.kind == Kind::kSetCompacted) {
    auto st = db.prepare("UPDATE meta SET value = ?1 WHERE name = 'compacted'", err);
    if (!st) return void(op.outcome = err);
    st->bindInt(1, op.a);
    if (st->step() != SQLITE_DONE) return fail("set compacted");
    op.outcome = KeyValue{};
    return;
  }
  if (op.kind == Kind::kVacuumStep) {
    const std::string step =
        "PRAGMA incremental_vacuum(" + std::to_string(kVacuumPagesPerStep) + ")";
    int64_t left = 0;
    do {
      if (Status s = db.exec(step.c_str()); !s.ok()) return void(op.outcome = s);
      auto free = db.queryInt("PRAGMA freelist_count");
      if (!free) return void(op.outcome = free.status());
      left = *free;
    } while (left > 0 && Clock::now() < deadline);
    KeyValue progress;
    progress.modRevision = left;
    op.outcome = progress;
    return;
  }
  // kCompactBatch: windows of kCompactBatchRows revisions from the cursor while the slice lasts.
  auto cursor = db.queryInt("SELECT value FROM meta WHERE name = 'compact_cursor'");
  if (!cursor) return void(op.outcome = cursor.status());
  int64_t from = *cursor;
  while (from < op.a) {
    int64_t to = op.a;
    {
      auto st = db.prepare(
          "SELECT id FROM log WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT 1 OFFSET ?3", err);
      if (!st) return void(op.outcome = err);
      st->bindInt(1, from);
      st->bindInt(2, op.a);
      st->bindInt(3, kCompactBatchRows - 1);
      int rc = st->step();
      if (rc == SQLITE_ROW) {
        to = st->columnInt(0);
      } else if (rc != SQLITE_DONE) {
        return fail("compaction window");
      }
    }
    // Every row a write in (from, to] superseded is that write's prev_rev; rows superseded by
    // earlier writes went in earlier compactions. Tombstones at or below the target are not
    // needed to read any state at or above it.
    for (const char* sql :
         {"DELETE FROM log WHERE id IN "
          "(SELECT prev_rev FROM log WHERE id > ?1 AND id <= ?2 AND prev_rev > 0)",
          "DELETE FROM log WHERE id > ?1 AND id <= ?2 AND deleted = 1"}) {
      auto st = db.prepare(sql, err);
      if (!st) return void(op.outcome = err);
      st->bindInt(1, from);
      st->bindInt(2, to);
      if (st->step() != SQLITE_DONE) return fail("compaction batch");
    }
    from = to;
    if (Clock::now() >= deadline) break;
  }
  auto st = db.prepare("UPDATE meta SET value = ?1 WHERE name = 'compact_cursor'", err);
  if (!st) return void(op.outcome = err);
  st->bindInt(1, from);
  if (st->step() != SQLITE_DONE) return fail("compaction cursor");
  KeyValue progress;
  progress.modRevision = from;
  op.outcome = progress;
}

// ---- WAL checkpoints ----

int SqliteStore::walHook(void* self, sqlite3* db, const char* /*name*/, int frames) {
  auto& store = *static_cast<SqliteStore*>(self);
  // Runs on the writer thread only, so walFrames_ needs no lock; the WAL restarted (a commit
  // after a completed checkpoint writes from its start) when the count went down.
  if (frames < store.walFrames_) store.walGeneration_.fetch_add(1);
  store.walFrames_ = frames;
  if (frames < kCheckpointFrames) return SQLITE_OK;
  bool finish = frames >= kWalLimitFrames;
  {
    std::lock_guard lock(store.checkpointMu_);
    ++store.checkpointRequested_;
    // The checkpointer has copied all but a few frames of this WAL: copying the rest here costs
    // about one commit, and lets the next transaction start the WAL over.
    finish =
        finish || (frames >= kWalRestartFrames &&
                   store.checkpointedGeneration_ == store.walGeneration_.load() &&
                   frames - store.checkpointedFrames_ <= std::max(kWalRemainderFrames, frames / 8));
  }
  store.checkpointCv_.notify_one();
  if (finish) {
    // SQLITE_BUSY while the checkpointer is running: the next commit tries again.
    (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

void SqliteStore::checkpointerLoop(std::unique_ptr<Connection> conn) {
  // A connection finds out that the file is in WAL mode on its first read; until then a
  // checkpoint on it does nothing.
  (void)conn->queryInt("SELECT COUNT(*) FROM meta");
  std::unique_lock lock(checkpointMu_);
  while (true) {
    checkpointCv_.wait(lock,
                       [&] { return checkpointStop_ || checkpointRequested_ > checkpointDone_; });
    if (checkpointStop_) return;
    const uint64_t request = checkpointRequested_;
    // Read before the checkpoint: a restart in between makes the result look older, never newer.
    const uint64_t generation = walGeneration_.load();
    lock.unlock();
    int log = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(conn->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                       &copied);
    if (rc != SQLITE_OK) copied = 0;
    lock.lock();
    checkpointedGeneration_ = generation;
    checkpointedFrames_ = copied;
    checkpointDone_ = request;
    checkpointCv_.notify_all();  // compact() may wait for this pass
    checkpointCv_.wait_for(lock, kCheckpointInterval, [&] { return checkpointStop_; });
  }
}

}  // namespace berth::store
