#pragma once
// SchedulingQueue: the pending pods, as upstream's PriorityQueue with its three sub-queues.
//
// - active: pods ready to be tried, highest spec.priority first, then the oldest (time first
//   queued). pop() hands them to the scheduling loop one at a time.
// - backoff: pods that failed and wait out their backoff (1 s doubling per attempt, capped at
//   10 s: upstream's podInitialBackoffSeconds / podMaxBackoffSeconds) before going back to
//   active.
// - unschedulable: pods that failed and wait for something in the cluster to change. A cluster
//   event (moveAllToActiveOrBackoff: a node added or changed, an assigned pod deleted) moves them
//   to backoff (still backing off) or active; pods left there for 5 minutes are retried anyway.
//   A pod that fails while an event arrived during its cycle goes to backoff, not here, so the
//   event is not lost (upstream's moveRequestCycle).
//
// Time comes from a client::Clock so tests drive backoff with a FakeClock: flush() promotes
// what is due; pop() flushes while it waits.
//
// Thread-safety: every method is safe from any thread (one mutex; no callbacks under it).
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "client/clock.h"
#include "scheduler/framework/types.h"

namespace berth::scheduler {

struct QueuedPod {
  PodInfoPtr pod;
  client::Clock::TimePoint timestamp;       // when (re)queued; the tie-breaker after priority
  client::Clock::TimePoint initialAttempt;  // first time queued (e2e latency, SLI metric)
  int attempts = 0;
  bool hasInitialAttempt = false;
};

class SchedulingQueue {
 public:
  using Duration = client::Clock::Duration;
  explicit SchedulingQueue(client::Clock& clock = client::Clock::real(),
                           Duration initialBackoff = std::chrono::seconds(1),
                           Duration maxBackoff = std::chrono::seconds(10),
                           Duration maxUnschedulable = std::chrono::minutes(5));

  // A new pending pod (or one seen again after a re-list): into active unless already queued.
  void add(PodInfoPtr pod);
  // A pending pod changed: replace it where it is; one in unschedulable is retried when
  // `schedulingRelevant` (its spec or labels changed, which may make it fit; a status-only
  // change, such as the scheduler's own condition, is not a reason).
  void update(PodInfoPtr pod, bool schedulingRelevant = true);
  void remove(const std::string& key);
  // Blocks until a pod is active (returns it, attempts counted) or `timeout` passes or close().
  std::optional<QueuedPod> pop(Duration timeout = std::chrono::seconds(1));
  // Returns a pod that failed its attempt: to backoff when a cluster event happened since it was
  // popped, else to unschedulable. `unschedulable` false (an error, not a misfit) = backoff.
  void addUnschedulable(QueuedPod pod, bool unschedulable = true);
  // A cluster event that may make unschedulable pods fit.
  void moveAllToActiveOrBackoff();
  // Promotes backoff pods whose time is up and unschedulable pods older than the maximum.
  void flush();
  // The pod was handled (bound or given up); forgets its attempt bookkeeping.
  void done(const std::string& key);
  void close();

  size_t activeSize() const;
  size_t backoffSize() const;
  size_t unschedulableSize() const;
  bool contains(const std::string& key) const;
  // When a pod with `attempts` failed attempts may be retried, from its last timestamp.
  Duration backoffFor(int attempts) const;

 private:
  enum class Where { kActive, kBackoff, kUnschedulable, kInFlight };
  struct Entry {
    QueuedPod info;
    Where where = Where::kActive;
    int64_t popCycle = 0;  // the move-request counter when popped
    bool deleted = false;  // removed while in flight
  };
  using ActiveKey = std::tuple<int32_t, client::Clock::TimePoint, uint64_t, std::string>;
  using BackoffKey = std::tuple<client::Clock::TimePoint, uint64_t, std::string>;

  void pushActiveLocked(const std::string& key, Entry& e);
  void pushBackoffLocked(const std::string& key, Entry& e);
  void unlinkLocked(const std::string& key, Entry& e);
  void flushLocked();
  client::Clock::TimePoint backoffExpiry(const Entry& e) const;

  client::Clock& clock_;
  const Duration initialBackoff_, maxBackoff_, maxUnschedulable_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Entry> entries_;  // every pod the queue knows, by ns/name
  std::set<ActiveKey> active_;                      // (-priority, timestamp, seq, key)
  std::set<BackoffKey> backoff_;                    // (expiry, seq, key)
  std::map<std::string, client::Clock::TimePoint> unschedulable_;  // key -> when it went there
  uint64_t seq_ = 0;
  int64_t moveRequestCycle_ = 0;  // bumped by every cluster event
  bool closed_ = false;
};

}  // namespace berth::scheduler
