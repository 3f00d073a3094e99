#include "controllers/framework/expectations.h"

namespace berth::controllers {

bool Expectations::satisfied(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  const Record& r = it->second;
  if (r.adds <= 0 && r.dels <= 0) return true;
  return Clock::now() - r.at > ttl_;
}

void Expectations::expectCreations(const std::string& key, int adds) {
  std::lock_guard lock(mu_);
  records_[key] = Record{adds, 0, {}, Clock::now()};
}

void Expectations::expectDeletions(const std::string& key,
                                   const std::vector<std::string>& objectKeys) {
  std::lock_guard lock(mu_);
  Record r{0, static_cast<int>(objectKeys.size()), {}, Clock::now()};
  r.deleting.insert(objectKeys.begin(), objectKeys.end());
  records_[key] = std::move(r);
}

void Expectations::creationObserved(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = records_.find(key); it != records_.end()) --it->second.adds;
}

void Expectations::deletionObserved(const std::string& key, const std::string& objectKey) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return;
  if (it->second.deleting.erase(objectKey) > 0) --it->second.dels;
}

void Expectations::lowerCreations(const std::string& key, int adds) {
  std::lock_guard lock(mu_);
  if (auto it = records_.find(key); it != records_.end()) it->second.adds -= adds;
}

void Expectations::remove(const std::string& key) {
  std::lock_guard lock(mu_);
  records_.erase(key);
}

}  // namespace berth::controllers
