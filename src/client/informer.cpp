#include "client/informer.h"

#include <boost/json.hpp>

namespace berth::client {

namespace json = boost::json;

std::vector<ObjectPtr> Lister::list(std::string_view ns,
                                    const core::LabelSelector* selector) const {
  auto all = indexer_->listNamespace(ns);
  if (!selector) return all;
  std::vector<ObjectPtr> out;
  for (auto& o : all) {
    const json::object* obj = o->if_object();
    if (obj && selector->matches(core::labelsOf(*obj))) out.push_back(o);
  }
  return out;
}

SharedInformer::SharedInformer(RestClient& client, Resource resource, InformerOptions options)
    : resource_(std::move(resource)), options_(std::move(options)) {
  ReflectorOptions ro;
  ro.namespace_ = options_.namespace_;
  ro.labelSelector = options_.labelSelector;
  ro.fieldSelector = options_.fieldSelector;
  ro.pageSize = options_.pageSize;
  ro.useWatchList = options_.useWatchList;
  ro.stripManagedFields = options_.stripManagedFields;
  ro.dropUnreadPodFields = options_.dropUnreadPodFields;
  ro.pool = options_.pool;
  reflector_ = std::make_unique<Reflector>(client, resource_, ro, *this);
}

SharedInformer::~SharedInformer() { stop(); }

int SharedInformer::addEventHandler(EventHandler handler) {
  std::lock_guard lock(mu_);
  int id = nextHandlerId_++;
  handlers_[id] = std::make_shared<EventHandler>(std::move(handler));
  if (started_) {
    // Catch the late handler up: an add for everything cached, before any later change.
    for (auto& obj : indexer_.list()) {
      pending_.push_back({Notification::kAdd, nullptr, obj, {}, id});
    }
    cv_.notify_all();
  }
  return id;
}

void SharedInformer::removeEventHandler(int id) {
  std::lock_guard lock(mu_);
  handlers_.erase(id);
}

void SharedInformer::start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  dispatcher_ = std::thread([this] { dispatchLoop(); });
  reflector_->start();
}

void SharedInformer::stop() {
  reflector_->stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
}

bool SharedInformer::hasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool SharedInformer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return synced_ || stopping_; }) && synced_;
}

void SharedInformer::enqueue(Notification n) {
  std::lock_guard lock(mu_);
  pending_.push_back(std::move(n));
  cv_.notify_all();
}

void SharedInformer::onReplace(std::vector<ObjectPtr> objects, const std::string&) {
  auto old = indexer_.replace(objects);
  std::lock_guard lock(mu_);
  for (auto& obj : objects) {
    if (!obj) continue;
    auto key = metaNamespaceKey(*obj);
    auto it = old.find(key);
    if (it != old.end()) {
      pending_.push_back({Notification::kUpdate, it->second, obj, {}, 0});
      old.erase(it);
    } else {
      pending_.push_back({Notification::kAdd, nullptr, obj, {}, 0});
    }
  }
  // Whatever the cache held that the list no longer has was deleted while nobody watched.
  for (auto& [key, obj] : old) {
    pending_.push_back({Notification::kDelete, nullptr, nullptr, {obj, key, true}, 0});
  }
  synced_ = true;
  cv_.notify_all();
}

void SharedInformer::onAdd(ObjectPtr obj) { onUpdate(std::move(obj)); }

void SharedInformer::onUpdate(ObjectPtr obj) {
  auto key = metaNamespaceKey(*obj);
  if (key.empty()) return;
  auto old = indexer_.upsert(key, obj);
  if (old) {
    enqueue({Notification::kUpdate, std::move(old), std::move(obj), {}, 0});
  } else {
    enqueue({Notification::kAdd, nullptr, std::move(obj), {}, 0});
  }
}

void SharedInformer::onDelete(ObjectPtr obj) {
  auto key = metaNamespaceKey(*obj);
  if (key.empty()) return;
  indexer_.remove(key);
  enqueue({Notification::kDelete, nullptr, nullptr, {std::move(obj), key, false}, 0});
}

void SharedInformer::dispatchLoop() {
  using Clock = std::chrono::steady_clock;
  const auto resync = options_.resyncPeriod;
  auto nextResync = Clock::now() + resync;
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    if (pending_.empty()) {
      if (resync.count() > 0) {
        cv_.wait_until(lock, nextResync);
        if (Clock::now() >= nextResync && pending_.empty() && synced_) {
          // Resync: every cached object is delivered again as an unchanged update.
          for (auto& obj : indexer_.list()) {
            pending_.push_back({Notification::kUpdate, obj, obj, {}, 0});
          }
          nextResync = Clock::now() + resync;
        }
      } else {
        cv_.wait(lock);
      }
      continue;
    }
    Notification n = std::move(pending_.front());
    pending_.pop_front();
    std::vector<std::shared_ptr<EventHandler>> targets;
    if (n.handlerId != 0) {
      auto it = handlers_.find(n.handlerId);
      if (it != handlers_.end()) targets.push_back(it->second);
    } else {
      for (auto& [id, h] : handlers_) targets.push_back(h);
    }
    lock.unlock();
    for (auto& h : targets) {
      switch (n.kind) {
        case Notification::kAdd:
          if (h->onAdd) h->onAdd(n.newObj);
          break;
        case Notification::kUpdate:
          if (h->onUpdate) h->onUpdate(n.oldObj, n.newObj);
          break;
        case Notification::kDelete:
          if (h->onDelete) h->onDelete(n.deleted);
          break;
      }
    }
    lock.lock();
  }
}

InformerOptions factoryInformerDefaults(std::chrono::milliseconds resync, std::string namespace_) {
  InformerOptions o;
  o.namespace_ = std::move(namespace_);
  o.resyncPeriod = resync;
  o.stripManagedFields = true;
  o.dropUnreadPodFields = true;
  o.pool = &SharedObjectPool::process();
  return o;
}

SharedInformerFactory::SharedInformerFactory(RestClient& client,
                                             std::chrono::milliseconds defaultResync,
                                             std::string namespace_)
    : SharedInformerFactory(client, factoryInformerDefaults(defaultResync, std::move(namespace_))) {
}

SharedInformerFactory::SharedInformerFactory(RestClient& client, InformerOptions defaults)
    : client_(client), defaults_(std::move(defaults)) {}

SharedInformerFactory::~SharedInformerFactory() { shutdown(); }

SharedInformer& SharedInformerFactory::forResource(const Resource& resource) {
  std::string key = resource.group + "/" + resource.version + "/" + resource.resource;
  std::lock_guard lock(mu_);
  auto& slot = informers_[key];
  if (!slot) {
    slot = std::make_unique<SharedInformer>(client_, resource, defaults_);
  }
  return *slot;
}

void SharedInformerFactory::start() {
  std::lock_guard lock(mu_);
  for (auto& [key, inf] : informers_) inf->start();  // start() is idempotent
}

bool SharedInformerFactory::waitForCacheSync(std::chrono::milliseconds timeout) {
  std::vector<const SharedInformer*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, inf] : informers_) all.push_back(inf.get());
  }
  return client::waitForCacheSync(all, timeout);
}

void SharedInformerFactory::shutdown() {
  std::lock_guard lock(mu_);
  for (auto& [key, inf] : informers_) inf->stop();
}

bool waitForCacheSync(const std::vector<const SharedInformer*>& informers,
                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto* inf : informers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0 || !inf->waitForSync(left)) return false;
  }
  return true;
}

EventHandler onEveryChange(std::function<void(const ObjectPtr&)> f, bool withDeletes) {
  EventHandler h;
  h.onAdd = f;
  h.onUpdate = [f](const ObjectPtr&, const ObjectPtr& obj) { f(obj); };
  if (withDeletes) {
    h.onDelete = [f](const DeletedObject& d) {
      if (d.object) f(d.object);
    };
  }
  return h;
}

}  // namespace berth::client
