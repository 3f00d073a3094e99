#include "client/work_queue.h"

namespace berth::client {

WorkQueue::WorkQueue(std::unique_ptr<ItemRateLimiter> limiter, Clock& clock)
    : limiter_(limiter ? std::move(limiter) : defaultControllerRateLimiter(clock)), clock_(clock) {}

void WorkQueue::addLocked(const std::string& key) {
  if (shuttingDown_ || dirty_.count(key)) return;
  ++metrics_.addsTotal;
  addedAt_.emplace(key, clock_.now());
  dirty_.insert(key);
  if (processing_.count(key)) return;  // done() re-queues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard lock(mu_);
  if (shuttingDown_) return;
  if (delay <= Clock::Duration::zero()) {
    addLocked(key);
    return;
  }
  auto at = clock_.now() + delay;
  auto it = delayedAt_.find(key);
  if (it != delayedAt_.end()) {
    if (it->second <= at) return;  // already due sooner
    auto range = delayed_.equal_range(it->second);
    for (auto d = range.first; d != range.second; ++d) {
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
    }
  }
  delayed_.emplace(at, key);
  delayedAt_[key] = at;
  cv_.notify_all();  // a waiting get() may need an earlier wake-up
}

void WorkQueue::addRateLimited(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (shuttingDown_) return;
    ++metrics_.retriesTotal;
  }
  addAfter(key, limiter_->when(key));
}
void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }
int WorkQueue::numRequeues(const std::string& key) { return limiter_->numRequeues(key); }

std::optional<Clock::TimePoint> WorkQueue::promoteLocked() {
  auto now = clock_.now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayedAt_.erase(key);
    addLocked(key);
  }
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    auto next = promoteLocked();
    if (!queue_.empty()) break;
    if (shuttingDown_) return std::nullopt;
    if (!next) {
      cv_.wait(lock);
    } else if (clock_.isReal()) {
      cv_.wait_until(lock, *next);
    } else {
      // A fake clock moves without telling us: poll it.
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  auto now = clock_.now();
  if (auto it = addedAt_.find(key); it != addedAt_.end()) {
    metrics_.queueDurationSecondsSum += std::chrono::duration<double>(now - it->second).count();
    ++metrics_.queueDurationCount;
    addedAt_.erase(it);
  }
  startedAt_[key] = now;
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (auto it = startedAt_.find(key); it != startedAt_.end()) {
    metrics_.workDurationSecondsSum +=
        std::chrono::duration<double>(clock_.now() - it->second).count();
    ++metrics_.workDurationCount;
    startedAt_.erase(it);
  }
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
  if (processing_.empty()) cv_.notify_all();  // shutDownWithDrain waits for this
}

size_t WorkQueue::len() {
  std::lock_guard lock(mu_);
  promoteLocked();
  return queue_.size();
}

size_t WorkQueue::delayedLen() {
  std::lock_guard lock(mu_);
  promoteLocked();
  return delayed_.size();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shuttingDown_ = true;
  delayed_.clear();  // as upstream: delayed keys are dropped at shutdown
  delayedAt_.clear();
  cv_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock lock(mu_);
  shuttingDown_ = true;
  delayed_.clear();
  delayedAt_.clear();
  cv_.notify_all();
  cv_.wait(lock, [&] { return processing_.empty() && queue_.empty(); });
}

WorkQueue::Metrics WorkQueue::metrics() {
  std::lock_guard lock(mu_);
  promoteLocked();
  Metrics m = metrics_;
  m.depth = queue_.size();
  return m;
}

bool WorkQueue::shuttingDown() {
  std::lock_guard lock(mu_);
  return shuttingDown_;
}

}  // namespace berth::client
