#include "apiserver/watch_cache.h"

#include <boost/json.hpp>

#include <algorithm>

#include "apiserver/prepared_write.h"

namespace berth::apiserver {

namespace json = boost::json;

// ---- CacheWatcher ----

std::vector<CacheEvent> CacheWatcher::next(std::chrono::milliseconds timeout, bool* closed) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  std::vector<CacheEvent> out(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.end()));
  queue_.clear();
  *closed = closed_ && out.empty();
  return out;
}

// Unlike next(), *closed may come with the last events: after a close no wake follows, so the
// reader must know to end after these.
std::vector<CacheEvent> CacheWatcher::take(size_t max, bool* closed, bool* more) {
  std::lock_guard lock(mu_);
  size_t n = std::min(max, queue_.size());
  std::vector<CacheEvent> out(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
  *more = !queue_.empty();
  *closed = closed_ && queue_.empty();
  return out;
}

bool CacheWatcher::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
}

void CacheWatcher::setListener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void CacheWatcher::push(const CacheEvent& e) {
  if (filter_ && !(e.object && filter_(*e.object)) && !(e.prev && filter_(*e.prev))) return;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (queue_.size() >= capacity_) {
      // Too slow a reader: end its watch rather than hold up everyone else. The client re-lists.
      closed_ = true;
    } else {
      queue_.push_back(e);
    }
    if (listener_) listener_();
  }
  cv_.notify_one();
}

void CacheWatcher::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (listener_) listener_();
  }
  cv_.notify_all();
}

// ---- ResourceCache ----

namespace {
// The field a resource's watchers are indexed by (upstream's cacher: pods by spec.nodeName, what
// every kubelet selects on).
std::string triggerFieldOf(const core::ResourceType& rt) {
  return rt.group.empty() && rt.plural == "pods" ? "spec.nodeName" : "";
}
}  // namespace

ResourceCache::ResourceCache(const core::ResourceType& storageType)
    : type_(storageType), triggerField_(triggerFieldOf(storageType)) {}

ObjectPtr ResourceCache::decode(const store::KeyValue& kv, int64_t rv) const {
  return decodeStoredObject(type_, kv, rv);
}

ObjectPtr decodeStoredObject(const core::ResourceType& storageType, const store::KeyValue& kv,
                             int64_t rv) {
  auto obj = std::make_shared<CachedObject>();
  obj->key = kv.key;
  obj->resourceVersion = rv;
  boost::system::error_code ec;
  json::value v = json::parse(kv.value, ec);
  if (ec || !v.is_object()) {
    // Stored bytes we cannot read are served as an empty object rather than crashing a reader.
    v = json::object();
  }
  auto& o = v.as_object();
  auto& meta = o["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta.as_object()["resourceVersion"] = std::to_string(rv);
  indexCachedObject(storageType, o, *obj);
  obj->json = json::serialize(v);
  obj->json.shrink_to_fit();
  return obj;
}

std::string_view CachedObject::field(std::string_view path) const {
  if (path == "metadata.name") return name;
  if (path == "metadata.namespace") return namespace_;
  auto it = std::lower_bound(fields.begin(), fields.end(), path,
                             [](const auto& f, std::string_view p) { return f.first < p; });
  return it != fields.end() && it->first == path ? std::string_view(it->second)
                                                 : std::string_view();
}

ObjectPtr ResourceCache::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ResourceCache::list(const std::string& prefix, int64_t* revision) const {
  std::vector<ObjectPtr> out;
  std::lock_guard lock(mu_);
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  if (revision) *revision = revision_;
  return out;
}

size_t ResourceCache::size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

core::Result<std::shared_ptr<CacheWatcher>> ResourceCache::watch(
    int64_t fromRevision, WatchFilter filter, const core::FieldSelector* fields) {
  auto w = std::make_shared<CacheWatcher>(100000, std::move(filter));
  // Indexed only with a filter: the filter still checks the rest of the selector.
  if (w->filter_ && fields && !triggerField_.empty())
    w->trigger_ = fields->exactValue(triggerField_);
  std::lock_guard lock(mu_);
  if (fromRevision == 0) fromRevision = revision_;
  if (fromRevision < historyStart_) {
    return core::Status::expired("too old resource version: " + std::to_string(fromRevision) +
                                 " (" + std::to_string(historyStart_) + ")");
  }
  for (const auto& e : history_) {
    if (e.revision > fromRevision) w->push(e);
  }
  if (w->trigger_)
    indexed_[*w->trigger_].push_back(w);
  else
    watchers_.push_back(w);
  return w;
}

void ResourceCache::unwatch(const std::shared_ptr<CacheWatcher>& w) {
  std::lock_guard lock(mu_);
  if (!w->trigger_) {
    std::erase(watchers_, w);
    return;
  }
  auto it = indexed_.find(*w->trigger_);
  if (it == indexed_.end()) return;
  std::erase(it->second, w);
  if (it->second.empty()) indexed_.erase(it);
}

size_t ResourceCache::watchers() const {
  std::lock_guard lock(mu_);
  size_t n = watchers_.size();
  for (const auto& [value, ws] : indexed_) n += ws.size();
  return n;
}

void ResourceCache::fill(std::vector<ObjectPtr> objects, int64_t revision) {
  std::lock_guard lock(mu_);
  objects_.clear();
  for (auto& o : objects) {
    std::string_view k = o->key;
    objects_.emplace(k, std::move(o));
  }
  history_.clear();
  historyStart_ = revision;
  revision_ = revision;
}

void ResourceCache::apply(const store::Event& e) {
  std::lock_guard lock(mu_);
  CacheEvent ce;
  ce.revision = e.kv.modRevision;
  auto it = objects_.find(e.kv.key);
  ObjectPtr prev = it == objects_.end() ? nullptr : it->second;
  if (e.type == store::Event::Type::kDelete) {
    if (!prev) {
      revision_ = ce.revision;
      return;
    }
    // The deleted object as watchers see it: last state, resourceVersion of the delete.
    store::KeyValue last{e.kv.key, e.prevKv.value.empty() ? "" : e.prevKv.value, 0, 0};
    ce.object = last.value.empty() ? prev : decode(last, ce.revision);
    ce.prev = prev;
    ce.type = CacheEvent::Type::kDeleted;
    objects_.erase(it);
  } else {
    ce.object = takePrepared(e.kv);
    if (!ce.object) ce.object = decode(e.kv, ce.revision);
    ce.prev = prev;
    ce.type = prev ? CacheEvent::Type::kModified : CacheEvent::Type::kAdded;
    // Re-insert so the map key views the new object's key (the old object may be freed).
    if (prev) objects_.erase(it);
    objects_.emplace(std::string_view(ce.object->key), ce.object);
  }
  revision_ = ce.revision;
  history_.push_back(ce);
  if (history_.size() > kHistoryCapacity) {
    historyStart_ = history_.front().revision;
    history_.pop_front();
  }
  for (auto& w : watchers_) w->push(ce);
  if (indexed_.empty()) return;
  // Indexed watchers see the event if the object is, or was, on their value of the trigger field.
  auto offer = [&](std::string_view value) {
    auto it = indexed_.find(std::string(value));
    if (it != indexed_.end())
      for (auto& w : it->second) w->push(ce);
  };
  std::string_view now = ce.object ? ce.object->field(triggerField_) : std::string_view();
  offer(now);
  if (ce.prev) {
    std::string_view before = ce.prev->field(triggerField_);
    if (before != now) offer(before);
  }
}

void ResourceCache::expectWrite(std::shared_ptr<PreparedWrite> w) {
  std::lock_guard lock(pendingMu_);
  if (pending_.size() >= kMaxPending) return;
  pending_[w->object.key].push_back(std::move(w));
}

void ResourceCache::settleWrite(const std::string& key, const std::shared_ptr<PreparedWrite>& w,
                                int64_t revision) {
  std::lock_guard lock(pendingMu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return;  // its event took it (or it was never announced)
  auto& ws = it->second;
  auto mine = std::find(ws.begin(), ws.end(), w);
  if (mine == ws.end()) return;
  // Failed, or written but its event already went by without these bytes: nothing will take it.
  if (revision == 0 || revision <= appliedPut_) {
    ws.erase(mine);
    if (ws.empty()) pending_.erase(it);
  } else {
    w->revision = revision;
  }
}

ObjectPtr ResourceCache::takePrepared(const store::KeyValue& kv) {
  std::lock_guard lock(pendingMu_);
  appliedPut_ = kv.modRevision;
  if (pending_.empty()) return nullptr;
  auto it = pending_.find(kv.key);
  if (it == pending_.end()) return nullptr;
  auto& ws = it->second;
  ObjectPtr out;
  for (auto w = ws.begin(); w != ws.end();) {
    bool written = (*w)->revision != 0;
    if (!out && (*w)->value == kv.value && (!written || (*w)->revision == kv.modRevision)) {
      auto obj = std::make_shared<CachedObject>(std::move((*w)->object));
      obj->resourceVersion = kv.modRevision;
      obj->json = storedJsonAt(**w, kv.modRevision);
      out = std::move(obj);
      w = ws.erase(w);
    } else if (written && (*w)->revision <= kv.modRevision) {
      w = ws.erase(w);  // written without its bytes reaching this event (a transforming store)
    } else {
      ++w;
    }
  }
  if (ws.empty()) pending_.erase(it);
  return out;
}

void ResourceCache::noteGlobalRevision(int64_t rev) {
  std::lock_guard lock(mu_);
  if (rev > revision_) revision_ = rev;
}

void ResourceCache::closeWatchers() {
  std::lock_guard lock(mu_);
  for (auto& w : watchers_) w->close();
  watchers_.clear();
  for (auto& [value, ws] : indexed_)
    for (auto& w : ws) w->close();
  indexed_.clear();
}

// ---- CacheSet ----

CacheSet::CacheSet(store::Interface& store) : store_(store) {
  for (const auto& rt : core::allResources()) {
    if (!rt.isStorageVersion() || rt.virtualResource) continue;
    caches_.emplace(rt.storagePrefix, std::make_unique<ResourceCache>(rt));
  }
}

CacheSet::~CacheSet() { stop(); }

namespace {
// "/registry/pods/ns/name" → "/registry/pods/"; "" when the key has no resource segment.
std::string prefixOf(const std::string& key) {
  auto slash = key.find('/', std::string_view("/registry/").size());
  return slash == std::string::npos ? std::string() : key.substr(0, slash + 1);
}
}  // namespace

core::Status CacheSet::start() {
  // One consistent snapshot of everything, then one watch from its revision: no gap.
  store::ListOptions opts;
  opts.prefix = "/registry/";
  auto listed = store_.list(opts);
  if (!listed.ok()) return listed.status();
  int64_t rev = listed->revision;
  // Observed objects (CRDs) first: they create the caches of the objects they define.
  for (const auto& kv : listed->items) {
    std::string prefix = prefixOf(kv.key);
    if (auto* c = findCache(prefix)) {
      bool observed = false;
      for (const auto& [p, fn] : observers_) observed = observed || p == prefix;
      if (!observed) continue;
      store::Event e;
      e.kv = kv;
      c->apply(e);
      notifyObservers(e);
    }
  }
  for (const auto& kv : listed->items) {
    auto* c = findCache(prefixOf(kv.key));
    if (c == nullptr || c->get(kv.key)) continue;
    // decode through the cache so fields are extracted the same way as for live events
    store::Event e;
    e.kv = kv;
    c->apply(e);
  }
  // apply() above recorded history; reset it so the history starts at the snapshot revision.
  {
    std::shared_lock lock(cachesMu_);
    for (auto& [prefix, cache] : caches_) {
      int64_t ignored = 0;
      auto objects = cache->list("", &ignored);
      cache->fill(std::move(objects), rev);
    }
  }
  revision_.store(rev);
  auto w = store_.watch("/registry/", rev, [this](const store::Event& e) { onEvent(e); });
  if (!w.ok()) return w.status();
  watch_ = std::move(w.value());
  return {};
}

void CacheSet::stop() {
  watch_.reset();
  std::shared_lock lock(cachesMu_);
  for (auto& [prefix, cache] : caches_) cache->closeWatchers();
}

ResourceCache* CacheSet::findCache(const std::string& prefix) const {
  std::shared_lock lock(cachesMu_);
  auto it = caches_.find(prefix);
  return it == caches_.end() ? nullptr : it->second.get();
}

ResourceCache* CacheSet::forType(const core::ResourceType& rt) {
  return findCache(rt.storagePrefix);
}

void CacheSet::addObserver(std::string prefix, Observer observer) {
  observers_.emplace_back(std::move(prefix), std::move(observer));
}

void CacheSet::notifyObservers(const store::Event& e) {
  for (const auto& [prefix, fn] : observers_) {
    if (e.kv.key.compare(0, prefix.size(), prefix) == 0) fn(e);
  }
}

ResourceCache* CacheSet::ensureCache(const core::ResourceType& storageType) {
  std::unique_lock lock(cachesMu_);
  auto it = caches_.find(storageType.storagePrefix);
  if (it != caches_.end()) {
    if (it->second->type().namespaced == storageType.namespaced) return it->second.get();
    it->second->closeWatchers();
    retired_.push_back(std::move(it->second));
    caches_.erase(it);
  }
  auto cache = std::make_unique<ResourceCache>(storageType);
  cache->noteGlobalRevision(revision_.load());
  auto* raw = cache.get();
  caches_.emplace(storageType.storagePrefix, std::move(cache));
  return raw;
}

void CacheSet::retireCache(const std::string& storagePrefix) {
  std::unique_lock lock(cachesMu_);
  auto it = caches_.find(storagePrefix);
  if (it == caches_.end()) return;
  it->second->closeWatchers();
  retired_.push_back(std::move(it->second));
  caches_.erase(it);
}

void CacheSet::onEvent(const store::Event& e) {
  const auto& key = e.kv.key;
  if (auto* c = findCache(prefixOf(key))) c->apply(e);
  if (!observers_.empty()) notifyObservers(e);
  bool wake = false;
  {
    std::lock_guard lock(freshMu_);
    revision_.store(e.kv.modRevision);
    // Wake readers only when the oldest revision one of them waits for is reached: a group
    // commit of N writes must not wake every waiter N times.
    wake = !waiting_.empty() && *waiting_.begin() <= e.kv.modRevision;
  }
  if (wake) freshCv_.notify_all();
}

bool CacheSet::waitForRevision(int64_t rev, std::chrono::milliseconds timeout) {
  if (revision_.load() >= rev) return true;
  std::unique_lock lock(freshMu_);
  auto it = waiting_.insert(rev);
  bool ok = freshCv_.wait_for(lock, timeout, [&] { return revision_.load() >= rev; });
  waiting_.erase(it);
  return ok;
}

bool CacheSet::waitUntilFresh(std::chrono::milliseconds timeout) {
  return waitForRevision(store_.currentRevision(), timeout);
}

}  // namespace berth::apiserver
