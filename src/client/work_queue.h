#pragma once
// WorkQueue: the rate-limited queue of keys a controller's workers drain, as client-go's
// `util/workqueue` (Type + DelayingQueue + RateLimitingQueue in one class).
//
// Contract (the one controllers are written against upstream):
// - A key is in the queue at most once: adding a key that is already waiting is a no-op.
// - A key is processed by at most one worker at a time: `get()` hands it out and marks it
//   processing; adding it again meanwhile marks it dirty, and `done()` puts it back in the queue
//   so the change is not lost and no two workers sync one key concurrently.
// - `addAfter(key, d)` adds the key once `d` has passed (by the injected clock); the earliest
//   deadline wins when a key is delayed twice. `addRateLimited(key)` delays by the rate limiter's
//   answer (per-key exponential backoff and an overall bucket by default); `forget(key)` resets
//   the key's backoff after a successful sync.
// - `shutDown()` stops accepting keys and wakes every waiting worker; `get()` then drains what is
//   queued and returns nullopt once empty. `shutDownWithDrain()` additionally waits until every
//   handed-out key is `done()`.
//
// Thread-safety: every method is safe from any thread. One mutex guards all state; no callback
// runs under it. Delayed keys are promoted by the waiting `get()` calls and by `len()`, so no
// extra thread exists and a FakeClock test is deterministic (advance, then call `len()`).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "client/clock.h"
#include "client/rate_limiter.h"

namespace berth::client {

class WorkQueue {
 public:
  explicit WorkQueue(std::unique_ptr<ItemRateLimiter> limiter = nullptr,
                     Clock& clock = Clock::real());

  void add(const std::string& key);
  void addAfter(const std::string& key, Clock::Duration delay);
  void addRateLimited(const std::string& key);
  void forget(const std::string& key);
  int numRequeues(const std::string& key);

  // Blocks until a key is ready or the queue is shut down and empty (nullopt).
  std::optional<std::string> get();
  void done(const std::string& key);

  // Keys ready to be handed out now (delayed keys whose time has come included).
  size_t len();
  // Keys waiting for their delay.
  size_t delayedLen();

  void shutDown();
  void shutDownWithDrain();
  bool shuttingDown();

  // What upstream exports per queue (label name=<queue>): workqueue_depth, workqueue_adds_total,
  // workqueue_retries_total, and the sums/counts of workqueue_queue_duration_seconds (added to
  // handed out) and workqueue_work_duration_seconds (handed out to done).
  struct Metrics {
    size_t depth = 0;
    long long addsTotal = 0;
    long long retriesTotal = 0;
    double queueDurationSecondsSum = 0;
    long long queueDurationCount = 0;
    double workDurationSecondsSum = 0;
    long long workDurationCount = 0;
  };
  Metrics metrics();

 private:
  void addLocked(const std::string& key);
  // Moves delayed keys whose time has come into the queue; returns the next deadline, if any.
  std::optional<Clock::TimePoint> promoteLocked();

  std::unique_ptr<ItemRateLimiter> limiter_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to re-queue after done()
  std::set<std::string> processing_;  // handed out, not yet done()
  std::multimap<Clock::TimePoint, std::string> delayed_;
  std::map<std::string, Clock::TimePoint> delayedAt_;  // key -> its deadline in delayed_
  bool shuttingDown_ = false;
  std::map<std::string, Clock::TimePoint> addedAt_;    // queued keys: when added
  std::map<std::string, Clock::TimePoint> startedAt_;  // processing keys: when handed out
  Metrics metrics_;
};

}  // namespace berth::client
