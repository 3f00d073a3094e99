#pragma once
// SqliteStore: store::Interface on one SQLite file, Berth's default embedded store (like k3s's
// kine, without its known failure modes: lock storms during compaction, an ever-growing WAL, a
// file that never gives space back).
//
// Durability: WAL journal, synchronous=FULL; a write is acknowledged only after its transaction
// committed, so it survives a kill -9 of the process (and, with FULL, a power cut).
//
// Writes: one writer thread owns the only writing connection and does group commit: callers
// enqueue an operation and block on a future; the writer drains the queue, runs every queued
// operation in one transaction (each takes its own revision, conditions checked in order),
// commits once, publishes the events, then completes the futures.
// Reads: a pool of read connections; WAL lets them run beside the writer, and a read started
// after an acknowledged write sees it.
// Watch: events go to a dispatcher thread (WatchHub) that calls callbacks without store locks.
// Compaction: deletes superseded history, then incremental vacuum gives the space back, both in
// time-boxed slices queued to the writer between pauses, so a write waits at most one slice.
// WAL checkpoints run on a checkpointer thread of their own (PASSIVE, never blocking the
// writer), not inside a commit. See sqlite_compaction.cpp.
//
// Thread-safety: every method may be called from any thread. close() (or destruction) stops the
// writer, the compactor and the dispatcher; later calls fail Unavailable.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/interface.h"

struct sqlite3;

namespace berth::store {

class WatchHub;

namespace sqlite_internal {
class Connection;
struct WriteOp;
}  // namespace sqlite_internal

class SqliteStore : public Interface {
 public:
  // Opens (creating if missing) the store at `path`.
  static core::Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<KeyValue> get(std::string_view key) override;
  Result<ListResult> list(const ListOptions& options) override;
  Result<int64_t> create(std::string_view key, std::string_view value) override;
  Result<int64_t> update(std::string_view key, std::string_view value,
                         int64_t expectedModRevision) override;
  Result<KeyValue> remove(std::string_view key, int64_t expectedModRevision) override;
  Result<std::unique_ptr<Watch>> watch(std::string_view prefix, int64_t afterRevision,
                                       WatchCallback callback) override;
  int64_t currentRevision() override;
  int64_t compactedRevision() override;
  Status compact(int64_t revision) override;
  void close() override;

  // Every `interval`, compacts to currentRevision() - keepRevisions (when that moved forward).
  // Calling it again replaces the previous schedule.
  void startAutoCompaction(std::chrono::seconds interval, int64_t keepRevisions);

  const std::string& path() const { return path_; }

 private:
  using Connection = sqlite_internal::Connection;
  using WriteOp = sqlite_internal::WriteOp;

  SqliteStore(std::string path, std::unique_ptr<Connection> writer,
              std::unique_ptr<Connection> checkpointer, int64_t revision, int64_t compacted);

  // Queues `op` for the writer and waits for its outcome.
  Result<KeyValue> submit(std::unique_ptr<WriteOp> op);
  void writerLoop();
  // Runs a group of operations in one transaction; fills their outcomes and the events.
  void runGroup(std::vector<std::unique_ptr<WriteOp>>& group, std::vector<Event>& events);
  void applyOp(WriteOp& op, int64_t& revision, std::vector<Event>& events);
  void applyKeyWrite(WriteOp& op, int64_t& revision, std::vector<Event>& events);
  void applyCompaction(WriteOp& op);

  // Read connections, borrowed one per call.
  class ReadLease;
  std::unique_ptr<Connection> acquireReader(Status& error);
  void releaseReader(std::unique_ptr<Connection> conn);

  void stopAutoCompaction();

  // sqlite3_wal_hook on the writer connection: runs after each commit on the writer thread.
  static int walHook(void* self, sqlite3* db, const char* name, int frames);
  void checkpointerLoop(std::unique_ptr<Connection> conn);

  const std::string path_;
  std::unique_ptr<Connection> writer_;  // only the writer thread touches it
  std::shared_ptr<WatchHub> hub_;

  std::mutex queueMu_;
  std::condition_variable queueCv_;
  std::deque<std::unique_ptr<WriteOp>> queue_;  // guarded by queueMu_
  bool closing_ = false;                        // guarded by queueMu_
  std::thread writerThread_;

  std::mutex readersMu_;
  std::vector<std::unique_ptr<Connection>> idleReaders_;  // guarded by readersMu_

  std::atomic<int64_t> revision_;   // last committed revision
  std::atomic<int64_t> compacted_;  // persisted in meta
  std::atomic<bool> closed_{false};
  std::mutex compactMu_;  // one compaction at a time

  std::mutex autoMu_;
  std::condition_variable autoCv_;
  bool autoStop_ = false;  // guarded by autoMu_
  std::thread autoThread_;

  std::mutex checkpointMu_;
  std::condition_variable checkpointCv_;
  uint64_t checkpointRequested_ = 0;  // guarded by checkpointMu_
  uint64_t checkpointDone_ = 0;       // requests the checkpointer has served; checkpointMu_
  bool checkpointStop_ = false;       // guarded by checkpointMu_
  // What the checkpointer's last run copied: frames of the WAL as of that generation.
  uint64_t checkpointedGeneration_ = 0;     // guarded by checkpointMu_
  int checkpointedFrames_ = 0;              // guarded by checkpointMu_
  int walFrames_ = 0;                       // WAL length after the last commit; writer thread only
  std::atomic<uint64_t> walGeneration_{0};  // WAL restarts seen by the writer
  std::thread checkpointThread_;
};

}  // namespace berth::store
