#include "client/object_pool.h"

#include <boost/json.hpp>

#include <functional>

namespace berth::client {

namespace {

// Hash of namespace/name; 0 when obj has no name or resourceVersion (not pooled).
uint64_t nameHash(const boost::json::value& obj) {
  if (objectResourceVersion(obj).empty()) return 0;
  auto name = objectName(obj);
  if (name.empty()) return 0;
  std::hash<std::string_view> h;
  uint64_t v = h(objectNamespace(obj)) * 0x9e3779b97f4a7c15ull ^ h(name);
  return v == 0 ? 1 : v;
}

bool sameVersion(const boost::json::value& a, const boost::json::value& b) {
  return objectName(a) == objectName(b) && objectNamespace(a) == objectNamespace(b) &&
         objectResourceVersion(a) == objectResourceVersion(b);
}

}  // namespace

SharedObjectPool& SharedObjectPool::process() {
  static SharedObjectPool pool;
  return pool;
}

SharedObjectPool::Table& SharedObjectPool::tableLocked(const std::string& scope) {
  for (auto& [s, t] : tables_)
    if (s == scope) return *t;
  tables_.emplace_back(scope, std::make_unique<Table>());
  return *tables_.back().second;
}

ObjectPtr SharedObjectPool::matchLocked(const Table& t, uint64_t hash,
                                        const boost::json::value& obj) {
  auto it = t.entries.find(hash);
  if (it == t.entries.end()) return nullptr;
  auto pooled = it->second.lock();
  if (!pooled || !sameVersion(*pooled, obj)) return nullptr;
  return pooled;
}

ObjectPtr SharedObjectPool::find(const std::string& scope, const boost::json::value& obj) {
  uint64_t hash = nameHash(obj);
  if (hash == 0) return nullptr;
  std::lock_guard lock(mu_);
  auto pooled = matchLocked(tableLocked(scope), hash, obj);
  if (pooled) ++shared_;
  return pooled;
}

ObjectPtr SharedObjectPool::share(const std::string& scope, ObjectPtr obj) {
  if (!obj) return obj;
  uint64_t hash = nameHash(*obj);
  if (hash == 0) return obj;
  std::lock_guard lock(mu_);
  Table& t = tableLocked(scope);
  if (auto pooled = matchLocked(t, hash, *obj)) {
    ++shared_;
    return pooled;
  }
  t.entries[hash] = obj;
  if (t.entries.size() >= t.sweepAt) sweepLocked(t);
  return obj;
}

void SharedObjectPool::sweepLocked(Table& t) {
  std::erase_if(t.entries, [](const auto& kv) { return kv.second.expired(); });
  t.sweepAt = std::max<size_t>(4096, 2 * t.entries.size());
}

size_t SharedObjectPool::size() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [s, t] : tables_) n += t->entries.size();
  return n;
}

size_t SharedObjectPool::shared() const {
  std::lock_guard lock(mu_);
  return shared_;
}

}  // namespace berth::client
