#pragma once
// SharedInformer: a reflector-fed, indexed local cache of one resource plus event handlers, and
// the factory that gives every component in a process one informer per resource, as client-go's
// `tools/cache.SharedIndexInformer` and `informers.SharedInformerFactory`.
//
// Consistency contract (client-go's, restated for this implementation):
// - The cache is eventually consistent with the server: after changes stop, it ends up holding
//   exactly the server's objects (of this namespace/selector), each at its latest version.
// - Objects in the cache and handed to handlers are immutable and shared; never modify one.
// - Handlers are called on one dispatch thread per informer, in the order the cache changed, and
//   the cache is updated before the notification is queued: a handler (or a lister read after it)
//   sees state at least as new as the notification. Notifications of one object come in order;
//   but a handler may see an update whose old and new are several versions apart (client-go: the
//   "intermediate states may be skipped" rule) and, after a re-list, a delete as a
//   DeletedObject with finalStateUnknown = true and the last state the cache knew.
// - A re-list (start, 410 Expired) delivers an update for every object still present and an add
//   for each new one; a periodic resync (resyncPeriod > 0) delivers update(obj, obj) for every
//   cached object, so level-triggered controllers revisit everything.
// - `hasSynced()` turns true once the first complete list is in the cache (its notifications
//   are queued, maybe not yet handled). Controllers wait for it before their workers start.
// - A handler added after start first receives an add for every object already cached.
// - Handlers must be quick (enqueue a key); a slow one delays the others of this informer.
//
// Thread-safety: every method is safe from any thread. `stop()` ends the reflector, then the
// dispatch thread; no handler runs after it returns.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/indexer.h"
#include "client/object_pool.h"
#include "client/reflector.h"
#include "core/labels.h"

namespace berth::client {

struct DeletedObject {
  ObjectPtr object;  // the last known state
  std::string key;
  bool finalStateUnknown = false;  // deleted while no watch was looking (seen on a re-list)
};

struct EventHandler {
  std::function<void(const ObjectPtr&)> onAdd;
  std::function<void(const ObjectPtr& oldObj, const ObjectPtr& newObj)> onUpdate;
  std::function<void(const DeletedObject&)> onDelete;
};

// The handler most controllers want: `f` with the new object on every add and update, and with
// the last known state on delete when `withDeletes` (enqueue a key on any change).
EventHandler onEveryChange(std::function<void(const ObjectPtr&)> f, bool withDeletes = true);

struct InformerOptions {
  std::string namespace_;  // empty = all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  std::chrono::milliseconds resyncPeriod{0};  // 0 = no resync
  long long pageSize = 500;                   // list page size (limit)
  bool useWatchList = false;                  // sync by a streaming list (ReflectorOptions)
  bool stripManagedFields = false;            // ReflectorOptions::stripManagedFields
  bool dropUnreadPodFields = false;           // ReflectorOptions::dropUnreadPodFields
  SharedObjectPool* pool = nullptr;           // ReflectorOptions::pool
};

// Read access to an informer's cache, by namespace and label selector.
class Lister {
 public:
  explicit Lister(const Indexer& indexer) : indexer_(&indexer) {}
  ObjectPtr get(std::string_view ns, std::string_view name) const {
    return indexer_->get(ns, name);
  }
  // ns empty = all namespaces; selector null = everything.
  std::vector<ObjectPtr> list(std::string_view ns,
                              const core::LabelSelector* selector = nullptr) const;

 private:
  const Indexer* indexer_;
};

// The ReflectorSink side is public so tests can feed an informer directly; in production only
// its reflector calls it.
class SharedInformer : public ReflectorSink {
 public:
  SharedInformer(RestClient& client, Resource resource, InformerOptions options = {});
  ~SharedInformer() override;

  core::Status addIndexers(const std::map<std::string, IndexFunc>& indexers) {
    return indexer_.addIndexers(indexers);
  }
  // Returns an id for removeEventHandler.
  int addEventHandler(EventHandler handler);
  void removeEventHandler(int id);

  void start();
  void stop();
  bool hasSynced() const;
  // Waits until hasSynced() or the timeout; returns hasSynced().
  bool waitForSync(std::chrono::milliseconds timeout) const;

  const Indexer& indexer() const { return indexer_; }
  Lister lister() const { return Lister(indexer_); }
  const Resource& resource() const { return resource_; }
  Reflector& reflector() { return *reflector_; }
  std::string lastSyncResourceVersion() const { return reflector_->lastSyncResourceVersion(); }

  // ReflectorSink: update the cache, then queue the notifications.
  void onReplace(std::vector<ObjectPtr> objects, const std::string& resourceVersion) override;
  void onAdd(ObjectPtr obj) override;
  void onUpdate(ObjectPtr obj) override;
  void onDelete(ObjectPtr obj) override;

 private:
  struct Notification {
    enum Kind { kAdd, kUpdate, kDelete } kind;
    ObjectPtr oldObj, newObj;
    DeletedObject deleted;
    int handlerId = 0;  // 0 = every handler
  };

  void enqueue(Notification n);
  void dispatchLoop();

  const Resource resource_;
  const InformerOptions options_;
  Indexer indexer_;
  std::unique_ptr<Reflector> reflector_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<int, std::shared_ptr<EventHandler>> handlers_;
  int nextHandlerId_ = 1;
  std::deque<Notification> pending_;
  bool synced_ = false;
  bool started_ = false;
  bool stopping_ = false;
  std::thread dispatcher_;
};

// One informer per resource for every user in a process. Informers requested before start() are
// started by it; ones requested later are started by the next start() call.
//
// Its informers strip managedFields, drop the pod fields no in-process component reads
// (transform.h) and share objects through the process's SharedObjectPool (the options of
// factoryInformerDefaults): a component reading what they drop from its cache would need a
// factory built from options without them.
class SharedInformerFactory {
 public:
  SharedInformerFactory(RestClient& client, std::chrono::milliseconds defaultResync,
                        std::string namespace_ = "");
  // `defaults` (namespace_, resyncPeriod, stripManagedFields, pool, ...) apply to every
  // informer it makes.
  SharedInformerFactory(RestClient& client, InformerOptions defaults);
  ~SharedInformerFactory();

  SharedInformer& forResource(const Resource& resource);
  void start();
  bool waitForCacheSync(std::chrono::milliseconds timeout);
  void shutdown();

 private:
  RestClient& client_;
  const InformerOptions defaults_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<SharedInformer>> informers_;
};

// What SharedInformerFactory's informers get unless told otherwise: managedFields stripped,
// unread pod fields dropped, objects shared through SharedObjectPool::process().
InformerOptions factoryInformerDefaults(std::chrono::milliseconds resync, std::string namespace_);

// Blocks until every informer has synced or the timeout passes; true when all synced.
bool waitForCacheSync(const std::vector<const SharedInformer*>& informers,
                      std::chrono::milliseconds timeout);

}  // namespace berth::client
