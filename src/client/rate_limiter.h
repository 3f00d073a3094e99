#pragma once
// Rate limiters, as client-go's `util/flowcontrol` (the REST client's QPS/burst) and
// `util/workqueue` (per-item backoff for controllers) define them.
//
// - TokenBucket: `qps` tokens a second, at most `burst` banked. `reserve()` takes a token now and
//   says how long the caller must wait before using it (reservations queue up, as Go's
//   rate.Limiter.Reserve does), so concurrent callers are served in order, never starved.
// - ItemRateLimiter: "when may this key be retried?" for a work queue. ItemExponential doubles
//   per failure of the key (5 ms, 10 ms, ... capped at 1000 s by default); ItemBucket spreads all
//   keys over one overall token bucket; MaxOf takes the longest wait of several (client-go's
//   DefaultControllerRateLimiter = max(exponential 5 ms..1000 s, bucket 10 qps / burst 100)).
//
// Thread-safety: every class here is safe to call from any thread (one mutex each).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/clock.h"

namespace berth::client {

class TokenBucket {
 public:
  // qps <= 0 means unlimited.
  TokenBucket(double qps, int burst, Clock& clock = Clock::real());
  // Takes one token; returns how long to wait before acting on it (zero when one was banked).
  Clock::Duration reserve();
  // reserve(), then sleeps (real clock only) for the returned time.
  void wait();
  // Takes a token only when one is available now; false otherwise (nothing is reserved).
  bool tryAccept();

 private:
  void refillLocked(Clock::TimePoint now);

  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;  // may go negative: outstanding reservations
  Clock::TimePoint last_;
};

class ItemRateLimiter {
 public:
  virtual ~ItemRateLimiter() = default;
  // Records one more failure of `item` and returns how long to wait before retrying it.
  virtual Clock::Duration when(const std::string& item) = 0;
  // Clears the item's failure history (after a successful sync).
  virtual void forget(const std::string& item) = 0;
  virtual int numRequeues(const std::string& item) = 0;
};

class ItemExponentialRateLimiter : public ItemRateLimiter {
 public:
  ItemExponentialRateLimiter(Clock::Duration base, Clock::Duration max) : base_(base), max_(max) {}
  Clock::Duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  const Clock::Duration base_, max_;
  std::mutex mu_;
  std::map<std::string, int> failures_;
};

class ItemBucketRateLimiter : public ItemRateLimiter {
 public:
  ItemBucketRateLimiter(double qps, int burst, Clock& clock = Clock::real())
      : bucket_(qps, burst, clock) {}
  Clock::Duration when(const std::string&) override { return bucket_.reserve(); }
  void forget(const std::string&) override {}
  int numRequeues(const std::string&) override { return 0; }

 private:
  TokenBucket bucket_;
};

class MaxOfRateLimiter : public ItemRateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<ItemRateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}
  Clock::Duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  std::vector<std::unique_ptr<ItemRateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max(5 ms * 2^failures capped at 1000 s,
// one overall bucket of 10 qps with burst 100).
std::unique_ptr<ItemRateLimiter> defaultControllerRateLimiter(Clock& clock = Clock::real());

}  // namespace berth::client
