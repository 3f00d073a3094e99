#pragma once
// Pieces shared by the SQLite store's source files: the queued write operation, key ranges as
// SQL, tuning constants and error wording. Internal to src/store/sqlite.
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <string_view>

#include "store/interface.h"
#include "store/sqlite/sqlite_connection.h"

namespace berth::store::sqlite_internal {

// Compaction and vacuum run on the writer thread inside ordinary group commits, a slice at a
// time, so a write waits at most one slice: each slice stops once it has run this long. A
// slice's work also lands in that group's WAL write and fsync, which is why it stays small.
constexpr auto kMaintenanceSlice = std::chrono::microseconds(1000);
// Pause of the compactor between slices: groups without compaction work keep the writer's
// normal latency, and writes queued meanwhile go out in their own commit.
constexpr auto kCompactPause = std::chrono::milliseconds(2);
// ...and at least this many times as long as the slice's round trip through the writer took.
constexpr int kCompactPauseFactor = 1;
// Rows one compaction statement deletes (a slice runs several while its time lasts).
constexpr int64_t kCompactBatchRows = 100;
// Free pages one incremental_vacuum statement returns (a slice runs several).
constexpr int64_t kVacuumPagesPerStep = 32;
// WAL checkpoints: the writer connection does not checkpoint after its commits (SQLite's
// default, which copies ~4 MB into the database and fsyncs it inside a write's latency). A
// checkpointer thread on its own connection copies WAL frames to the database (PASSIVE: never
// blocks the writer) once this many frames accumulated...
constexpr int kCheckpointFrames = 1000;
// ...and once the WAL is this long, the writer copies the frames the checkpointer has not yet
// copied itself after a commit (a small copy and one fsync of the database), so that its next
// transaction starts the WAL over instead of letting it grow. It waits for a moment when that
// remainder is at most kWalRemainderFrames or an eighth of the WAL, so the copy stays small.
constexpr int kWalRestartFrames = 8192;
constexpr int kWalRemainderFrames = 512;
// Past this length the writer finishes the checkpoint whatever it costs (a checkpointer that
// cannot keep up), which bounds the WAL file.
constexpr int kWalLimitFrames = 32768;
// The WAL file is cut back to this size when it restarts after growing past it (SQLite keeps
// and reuses the file otherwise). A little above kWalRestartFrames pages, so that ordinary
// restarts reuse the file rather than truncating it in the writer's commit.
constexpr int64_t kJournalSizeLimit = 48LL << 20;
// Upper bound of operations in one group commit.
constexpr size_t kMaxGroup = 2048;
// Idle read connections kept open.
constexpr size_t kMaxIdleReaders = 16;

inline Status closedStatus() { return Status::unavailable("store is closed"); }

inline Status tooLargeRevision(int64_t requested, int64_t current) {
  // Upstream's wording for a resourceVersion the storage has not reached yet (504 Timeout).
  return Status::timeout("Too large resource version: " + std::to_string(requested) +
                         ", current: " + std::to_string(current));
}

// The smallest key greater than every key with `prefix`; nullopt when there is none (empty
// prefix or all 0xff bytes).
inline std::optional<std::string> prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

// A key range [lower, upper) or (lower, upper): SQL text and bindings for `column`.
struct KeyRange {
  std::string lower;
  bool lowerExclusive = false;
  std::optional<std::string> upper;

  static KeyRange forList(const ListOptions& o) {
    KeyRange r;
    r.upper = prefixEnd(o.prefix);
    if (!o.startAfter.empty() && o.startAfter >= o.prefix) {
      r.lower = o.startAfter;
      r.lowerExclusive = true;
    } else {
      r.lower = o.prefix;
    }
    return r;
  }
  // Placeholders ?10 and ?11 so callers keep their own numbering below 10.
  std::string sql(const std::string& column) const {
    std::string s = column + (lowerExclusive ? " > ?10" : " >= ?10");
    if (upper) s += " AND " + column + " < ?11";
    return s;
  }
  void bind(Statement& st) const {
    st.bindBlob(10, lower);
    if (upper) st.bindBlob(11, *upper);
  }
};

// One queued write. The writer thread fills `outcome` and completes `done`.
struct WriteOp {
  enum class Kind {
    kCreate,
    kUpdate,
    kRemove,
    kSetCompacted,  // a: the new compacted revision
    kCompactBatch,  // a: compaction target; outcome modRevision = cursor reached
    kVacuumStep,    // outcome modRevision = free pages left
  };
  Kind kind = Kind::kCreate;
  std::string key;
  std::string value;
  int64_t a = 0;  // expected modRevision for update/remove; see Kind otherwise
  std::optional<Result<KeyValue>> outcome;
  std::promise<Result<KeyValue>> done;
};

}  // namespace berth::store::sqlite_internal
