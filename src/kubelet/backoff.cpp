#include "kubelet/backoff.h"

#include <algorithm>

namespace berth::kubelet {

bool Backoff::inBackoff(const std::string& key, Clock::time_point finishedAt,
                        Clock::time_point now, std::chrono::milliseconds* remaining) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, finishedAt)) return false;
  auto waited = now - finishedAt;
  if (waited >= it->second.backoff) return false;
  if (remaining)
    *remaining = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.backoff - waited);
  return true;
}

void Backoff::next(const std::string& key, Clock::time_point finishedAt) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, finishedAt)) {
    entries_[key] = {initial_, finishedAt};
    return;
  }
  it->second.backoff = std::min(it->second.backoff * 2, max_);
  it->second.lastUpdate = finishedAt;
}

std::chrono::seconds Backoff::current(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? std::chrono::seconds(0) : it->second.backoff;
}

void Backoff::forget(const std::string& keyPrefix) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.lower_bound(keyPrefix);
       it != entries_.end() && it->first.rfind(keyPrefix, 0) == 0;)
    it = entries_.erase(it);
}

}  // namespace berth::kubelet
