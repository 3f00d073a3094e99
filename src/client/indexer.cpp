#include "client/indexer.h"

#include <boost/json.hpp>

#include <mutex>

namespace berth::client {

namespace json = boost::json;

namespace {
std::string_view metaString(const json::value& obj, std::string_view field) {
  const auto* o = obj.if_object();
  if (!o) return {};
  auto it = o->find("metadata");
  if (it == o->end() || !it->value().is_object()) return {};
  const auto& meta = it->value().get_object();
  auto f = meta.find(field);
  if (f == meta.end() || !f->value().is_string()) return {};
  return f->value().get_string();
}
}  // namespace

std::string_view objectNamespace(const json::value& obj) { return metaString(obj, "namespace"); }
std::string_view objectName(const json::value& obj) { return metaString(obj, "name"); }
std::string_view objectResourceVersion(const json::value& obj) {
  return metaString(obj, "resourceVersion");
}

std::string metaNamespaceKey(const json::value& obj) {
  auto name = objectName(obj);
  if (name.empty()) return {};
  auto ns = objectNamespace(obj);
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

Indexer::Indexer() {
  indexers_.emplace(std::string(kNamespaceIndex), [](const json::value& obj) {
    return std::vector<std::string>{std::string(objectNamespace(obj))};
  });
}

core::Status Indexer::addIndexers(const std::map<std::string, IndexFunc>& indexers) {
  std::unique_lock lock(mu_);
  for (const auto& [name, fn] : indexers) {
    if (indexers_.count(name))
      return core::Status::conflict("indexers", name, "an index of that name exists");
  }
  for (const auto& [name, fn] : indexers) {
    indexers_.emplace(name, fn);
    auto& index = indices_[name];
    for (const auto& [key, obj] : items_) {
      for (auto& v : fn(*obj)) index[v].insert(key);
    }
  }
  return {};
}

void Indexer::indexLocked(const std::string& key, const ObjectPtr& obj) {
  for (const auto& [name, fn] : indexers_) {
    auto& index = indices_[name];
    for (auto& v : fn(*obj)) index[v].insert(key);
  }
}

void Indexer::unindexLocked(const std::string& key, const ObjectPtr& obj) {
  for (const auto& [name, fn] : indexers_) {
    auto& index = indices_[name];
    for (auto& v : fn(*obj)) {
      auto it = index.find(v);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);  // keeps the index from growing without bound
    }
  }
}

ObjectPtr Indexer::upsert(const std::string& key, ObjectPtr obj) {
  std::unique_lock lock(mu_);
  ObjectPtr old;
  auto it = items_.find(key);
  if (it != items_.end()) {
    old = it->second;
    unindexLocked(key, old);
    it->second = obj;
  } else {
    it = items_.emplace(key, obj).first;
  }
  indexLocked(it->first, obj);
  return old;
}

ObjectPtr Indexer::remove(const std::string& key) {
  std::unique_lock lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second;
  unindexLocked(key, old);
  items_.erase(it);
  return old;
}

std::unordered_map<std::string, ObjectPtr> Indexer::replace(std::vector<ObjectPtr> objects) {
  decltype(items_) fresh;
  for (auto& o : objects) {
    auto key = metaNamespaceKey(*o);
    if (!key.empty()) fresh[key] = std::move(o);
  }
  {
    std::unique_lock lock(mu_);
    std::swap(items_, fresh);
    for (auto& [name, index] : indices_) index.clear();
    for (const auto& [key, obj] : items_) indexLocked(key, obj);
  }
  // The old content, for the caller's notifications (outside the lock: it may be large).
  std::unordered_map<std::string, ObjectPtr> old;
  old.reserve(fresh.size());
  while (!fresh.empty()) old.insert(fresh.extract(fresh.begin()));  // moves nodes, no copies
  return old;
}

ObjectPtr Indexer::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Indexer::get(std::string_view ns, std::string_view name) const {
  std::string key;
  if (!ns.empty()) {
    key = ns;
    key += '/';
  }
  key += name;
  return get(key);
}

std::vector<ObjectPtr> Indexer::list() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

std::vector<std::string> Indexer::listKeys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

size_t Indexer::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

core::Result<std::vector<std::string>> Indexer::indexKeys(std::string_view indexName,
                                                          std::string_view value) const {
  std::shared_lock lock(mu_);
  auto idx = indices_.find(indexName);
  if (idx == indices_.end()) {
    if (indexers_.find(indexName) != indexers_.end()) return std::vector<std::string>{};
    return core::Status::notFound("indexers", indexName);
  }
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return std::vector<std::string>{};
  std::vector<std::string> out;
  out.reserve(it->second.size());
  for (auto key : it->second) out.emplace_back(key);
  return out;
}

core::Result<std::vector<ObjectPtr>> Indexer::byIndex(std::string_view indexName,
                                                      std::string_view value) const {
  std::shared_lock lock(mu_);
  auto idx = indices_.find(indexName);
  if (idx == indices_.end()) {
    if (indexers_.find(indexName) != indexers_.end()) return std::vector<ObjectPtr>{};
    return core::Status::notFound("indexers", indexName);
  }
  std::vector<ObjectPtr> out;
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return out;
  out.reserve(it->second.size());
  for (auto key : it->second) out.push_back(items_.find(key)->second);
  return out;
}

std::vector<ObjectPtr> Indexer::listNamespace(std::string_view ns) const {
  if (ns.empty()) return list();
  auto r = byIndex(kNamespaceIndex, ns);
  return r.ok() ? std::move(r).value() : std::vector<ObjectPtr>{};
}

}  // namespace berth::client
