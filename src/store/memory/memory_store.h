#pragma once
// MemoryStore: store::Interface kept in process memory, for tests and throwaway clusters.
//
// Full MVCC: every version of every key is kept (per key, in revision order) together with a
// revision-ordered event log, until compact(rev) drops what is no longer needed to read the state
// at rev. Lists at an old revision and watch replays are served from that history. Nothing
// survives the process.
//
// Thread-safety: all methods may be called concurrently; one mutex guards the data. Watch
// callbacks run on the store's dispatcher thread (see WatchHub), never under that mutex.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/interface.h"

namespace berth::store {

class WatchHub;

class MemoryStore : public Interface {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

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

 private:
  struct Version {
    int64_t modRevision = 0;
    int64_t createRevision = 0;
    bool deleted = false;  // a tombstone: the key was removed at modRevision
    std::string value;
  };
  using History = std::vector<Version>;  // ascending modRevision

  // The version visible at `revision`, or null (absent or deleted then). Needs mu_.
  static const Version* visibleAt(const History& history, int64_t revision);
  const Version* latestLive(std::string_view key) const;
  // Records a committed write; needs mu_. Publishes its event.
  void commit(Event event);

  mutable std::mutex mu_;
  std::map<std::string, History, std::less<>> keys_;
  std::deque<Event> log_;  // events with revision > compacted_, ascending
  int64_t revision_ = 0;
  int64_t compacted_ = 0;
  bool closed_ = false;
  std::shared_ptr<WatchHub> hub_;
};

}  // namespace berth::store
