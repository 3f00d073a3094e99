#include "client/object_pool.h"

#include <boost/json.hpp>

namespace berth::client {

SharedObjectPool& SharedObjectPool::process() {
  static SharedObjectPool pool;
  return pool;
}

std::string SharedObjectPool::keyOf(const std::string& scope, const boost::json::value& obj,
                                    std::string_view* rv) {
  *rv = objectResourceVersion(obj);
  std::string name = metaNamespaceKey(obj);
  if (rv->empty() || name.empty()) return {};
  std::string key;
  key.reserve(scope.size() + 1 + name.size());
  key.append(scope).append(1, '\n').append(name);
  return key;
}

ObjectPtr SharedObjectPool::find(const std::string& scope, const boost::json::value& obj) {
  std::string_view rv;
  std::string key = keyOf(scope, obj, &rv);
  if (key.empty()) return nullptr;
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.resourceVersion != rv) return nullptr;
  auto pooled = it->second.object.lock();
  if (pooled) ++shared_;
  return pooled;
}

ObjectPtr SharedObjectPool::share(const std::string& scope, ObjectPtr obj) {
  if (!obj) return obj;
  std::string_view rv;
  std::string key = keyOf(scope, *obj, &rv);
  if (key.empty()) return obj;
  std::lock_guard lock(mu_);
  auto [it, added] = entries_.try_emplace(std::move(key));
  Entry& e = it->second;
  if (!added && e.resourceVersion == rv) {
    if (auto pooled = e.object.lock()) {
      ++shared_;
      return pooled;
    }
  }
  e.resourceVersion = std::string(rv);
  e.object = obj;
  if (entries_.size() >= sweepAt_) sweepLocked();
  return obj;
}

void SharedObjectPool::sweepLocked() {
  std::erase_if(entries_, [](const auto& kv) { return kv.second.object.expired(); });
  sweepAt_ = std::max<size_t>(4096, 2 * entries_.size());
}

size_t SharedObjectPool::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t SharedObjectPool::shared() const {
  std::lock_guard lock(mu_);
  return shared_;
}

}  // namespace berth::client
