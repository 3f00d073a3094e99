#include "controllers/framework/workload_expectations.h"

#include <algorithm>

namespace berth::controllers {

namespace {
constexpr auto kExpectationsTimeout = std::chrono::minutes(5);
}

bool ControllerExpectations::satisfied(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return true;
  const Pending& p = it->second;
  if (p.adds <= 0 && p.deleting.empty()) return true;
  return std::chrono::steady_clock::now() - p.setAt > kExpectationsTimeout;
}

void ControllerExpectations::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  pending_.erase(key);
}

void ControllerExpectations::expectCreations(const std::string& key, int n) {
  std::lock_guard lock(mu_);
  Pending& p = pending_[key];
  p.adds = std::max(p.adds, 0) + n;
  p.setAt = std::chrono::steady_clock::now();
}

void ControllerExpectations::expectDeletions(const std::string& key,
                                             const std::set<std::string>& podKeys) {
  std::lock_guard lock(mu_);
  Pending& p = pending_[key];
  p.deleting.insert(podKeys.begin(), podKeys.end());
  p.setAt = std::chrono::steady_clock::now();
}

void ControllerExpectations::creationObserved(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end()) --it->second.adds;
}

void ControllerExpectations::deletionObserved(const std::string& key, const std::string& podKey) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end()) it->second.deleting.erase(podKey);
}

}  // namespace berth::controllers
