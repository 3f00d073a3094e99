#include "scheduler/queue.h"

#include <thread>

namespace berth::scheduler {

SchedulingQueue::SchedulingQueue(client::Clock& clock, Duration initialBackoff, Duration maxBackoff,
                                 Duration maxUnschedulable)
    : clock_(clock),
      initialBackoff_(initialBackoff),
      maxBackoff_(maxBackoff),
      maxUnschedulable_(maxUnschedulable) {}

SchedulingQueue::Duration SchedulingQueue::backoffFor(int attempts) const {
  Duration d = initialBackoff_;
  for (int i = 1; i < attempts; ++i) {
    d *= 2;
    if (d >= maxBackoff_) return maxBackoff_;
  }
  return std::min(d, maxBackoff_);
}

client::Clock::TimePoint SchedulingQueue::backoffExpiry(const Entry& e) const {
  return e.info.timestamp + backoffFor(e.info.attempts);
}

void SchedulingQueue::pushActiveLocked(const std::string& key, Entry& e) {
  e.where = Where::kActive;
  active_.emplace(-e.info.pod->priority, e.info.timestamp, ++seq_, key);
  cv_.notify_one();
}

void SchedulingQueue::pushBackoffLocked(const std::string& key, Entry& e) {
  e.where = Where::kBackoff;
  backoff_.emplace(backoffExpiry(e), ++seq_, key);
}

void SchedulingQueue::unlinkLocked(const std::string& key, Entry& e) {
  switch (e.where) {
    case Where::kActive:
      std::erase_if(active_, [&](const ActiveKey& k) { return std::get<3>(k) == key; });
      break;
    case Where::kBackoff:
      std::erase_if(backoff_, [&](const BackoffKey& k) { return std::get<2>(k) == key; });
      break;
    case Where::kUnschedulable:
      unschedulable_.erase(key);
      break;
    case Where::kInFlight:
      break;
  }
}

void SchedulingQueue::add(PodInfoPtr pod) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  std::string key = pod->key();
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.info.pod = std::move(pod);
    it->second.deleted = false;
    return;
  }
  Entry e;
  e.info.pod = std::move(pod);
  e.info.timestamp = e.info.initialAttempt = clock_.now();
  auto& slot = entries_[key] = std::move(e);
  pushActiveLocked(key, slot);
}

void SchedulingQueue::update(PodInfoPtr pod, bool schedulingRelevant) {
  std::unique_lock lock(mu_);
  std::string key = pod->key();
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    lock.unlock();
    add(std::move(pod));
    return;
  }
  Entry& e = it->second;
  bool priorityChanged = e.info.pod->priority != pod->priority;
  e.info.pod = std::move(pod);
  if (e.where == Where::kUnschedulable && schedulingRelevant) {
    unlinkLocked(key, e);
    if (clock_.now() >= backoffExpiry(e))
      pushActiveLocked(key, e);
    else
      pushBackoffLocked(key, e);
  } else if (e.where == Where::kActive && priorityChanged) {
    unlinkLocked(key, e);
    pushActiveLocked(key, e);
  }
}

void SchedulingQueue::remove(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.where == Where::kInFlight) {
    it->second.deleted = true;  // addUnschedulable() will drop it
    return;
  }
  unlinkLocked(key, it->second);
  entries_.erase(it);
}

void SchedulingQueue::flushLocked() {
  auto now = clock_.now();
  while (!backoff_.empty() && std::get<0>(*backoff_.begin()) <= now) {
    std::string key = std::get<2>(*backoff_.begin());
    backoff_.erase(backoff_.begin());
    pushActiveLocked(key, entries_.at(key));
  }
  for (auto it = unschedulable_.begin(); it != unschedulable_.end();) {
    if (now - it->second < maxUnschedulable_) {
      ++it;
      continue;
    }
    std::string key = it->first;
    it = unschedulable_.erase(it);
    Entry& e = entries_.at(key);
    if (now >= backoffExpiry(e))
      pushActiveLocked(key, e);
    else
      pushBackoffLocked(key, e);
  }
}

void SchedulingQueue::flush() {
  std::lock_guard lock(mu_);
  flushLocked();
}

std::optional<QueuedPod> SchedulingQueue::pop(Duration timeout) {
  std::unique_lock lock(mu_);
  auto deadline = clock_.now() + timeout;
  auto realDeadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    flushLocked();
    if (!active_.empty()) break;
    if (closed_) return std::nullopt;
    if (clock_.isReal()) {
      if (std::chrono::steady_clock::now() >= realDeadline) return std::nullopt;
      // Wake for the next backoff expiry at the latest.
      auto wake = realDeadline;
      if (!backoff_.empty()) wake = std::min(wake, std::get<0>(*backoff_.begin()));
      // Unschedulable leftovers are checked at least every 30 s (upstream's flush period).
      wake = std::min(wake, std::chrono::steady_clock::now() + std::chrono::seconds(30));
      cv_.wait_until(lock, wake);
    } else {
      // A fake clock does not move by itself: poll it, bounded by real time too.
      if (clock_.now() >= deadline || std::chrono::steady_clock::now() >= realDeadline)
        return std::nullopt;
      cv_.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
  auto top = active_.begin();
  std::string key = std::get<3>(*top);
  active_.erase(top);
  Entry& e = entries_.at(key);
  e.where = Where::kInFlight;
  e.popCycle = moveRequestCycle_;
  ++e.info.attempts;
  return e.info;
}

void SchedulingQueue::addUnschedulable(QueuedPod pod, bool unschedulable) {
  std::lock_guard lock(mu_);
  std::string key = pod.pod->key();
  auto it = entries_.find(key);
  if (it == entries_.end() || closed_) return;
  Entry& e = it->second;
  if (e.deleted) {
    entries_.erase(it);
    return;
  }
  // Keep a newer version that arrived while the pod was in flight.
  if (e.info.pod->resourceVersion == pod.pod->resourceVersion) e.info.pod = pod.pod;
  e.info.attempts = pod.attempts;
  e.info.timestamp = clock_.now();
  if (!unschedulable || moveRequestCycle_ > e.popCycle) {
    pushBackoffLocked(key, e);
  } else {
    e.where = Where::kUnschedulable;
    unschedulable_[key] = e.info.timestamp;
  }
}

void SchedulingQueue::moveAllToActiveOrBackoff() {
  std::lock_guard lock(mu_);
  ++moveRequestCycle_;
  auto now = clock_.now();
  for (auto& [key, since] : unschedulable_) {
    Entry& e = entries_.at(key);
    if (now >= backoffExpiry(e))
      pushActiveLocked(key, e);
    else
      pushBackoffLocked(key, e);
  }
  unschedulable_.clear();
}

void SchedulingQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.where == Where::kInFlight) entries_.erase(it);
}

void SchedulingQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

size_t SchedulingQueue::activeSize() const {
  std::lock_guard lock(mu_);
  return active_.size();
}
size_t SchedulingQueue::backoffSize() const {
  std::lock_guard lock(mu_);
  return backoff_.size();
}
size_t SchedulingQueue::unschedulableSize() const {
  std::lock_guard lock(mu_);
  return unschedulable_.size();
}
bool SchedulingQueue::contains(const std::string& key) const {
  std::lock_guard lock(mu_);
  return entries_.count(key) > 0;
}

}  // namespace berth::scheduler
