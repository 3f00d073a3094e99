#pragma once
// The API server's watch cache: every stored object of every resource, kept serialized, with the
// fields selectors need extracted once, plus a bounded history of recent events per resource so
// watches can resume from a resourceVersion. Reads and watches are served from here; the store
// is hit only for writes and for the initial fill.
//
// One store watch on "/registry/" feeds all resources, in revision order (CacheSet::onEvent runs
// on the store's dispatcher thread). `revision()` is the last store revision the cache has seen;
// a consistent read waits until it reaches the store's current revision (as upstream's
// consistent-list-from-cache does).
//
// Thread-safety: all public methods are safe to call from any thread. Each ResourceCache guards
// its objects, history and watchers with one mutex; objects are immutable shared_ptrs handed out
// without copying. Watcher queues have their own mutex; a slow watcher whose queue overflows is
// closed (its client re-lists), never blocking the feed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/labels.h"
#include "core/resources.h"
#include "store/interface.h"

namespace berth::apiserver {

// One object as served: JSON in the storage version with metadata.resourceVersion filled in.
struct CachedObject {
  std::string key;
  std::string namespace_;
  std::string name;
  int64_t resourceVersion = 0;
  std::string json;
  core::Labels labels;
  // Selectable fields other than metadata.name/namespace (kinds::selectableFields), sorted by
  // path. A flat vector: a map node per field cost ~1 KB per cached pod.
  // Names are interned (internedFieldName), values non-empty ("" means absent).
  std::vector<std::pair<std::string_view, std::string>> fields;

  std::string_view field(std::string_view path) const;
  bool matches(const core::FieldSelector& selector) const {
    return selector.empty() || selector.matchesBy([this](std::string_view p) { return field(p); });
  }
};
using ObjectPtr = std::shared_ptr<const CachedObject>;

struct PreparedWrite;  // prepared_write.h

// Decodes a stored value of `storageType` as served at resourceVersion `rv` (the cache's own
// decoding, for reads that must come from the store: pages of a paged list, exact revisions).
ObjectPtr decodeStoredObject(const core::ResourceType& storageType, const store::KeyValue& kv,
                             int64_t rv);

struct CacheEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type;
  ObjectPtr object;  // for kDeleted: the last state, resourceVersion = the delete's revision
  ObjectPtr prev;    // state before (null for kAdded)
  int64_t revision = 0;
};

// Which objects a watcher wants (its namespace, label and field selectors). Called with the
// cache's lock held, once or twice per event: must be cheap and take no lock.
using WatchFilter = std::function<bool(const CachedObject&)>;

// A live watch. The reader pops events; closed() turns true on overflow or cache stop. A reader
// without a thread of its own (a watch detached to the server's stream loop) sets a listener
// and take()s events when it is called.
//
// With a filter, only events whose object or previous state passes it are queued: 1,000 kubelets
// each watching their own pods (fieldSelector spec.nodeName) must not all wake for every pod
// event. The cache also indexes watchers by the value their selector pins the resource's trigger
// field to (spec.nodeName for pods, as upstream's cacher's indexed triggers), so an event is
// offered only to the watchers of the nodes it concerns, not filtered against every kubelet.
class CacheWatcher {
 public:
  explicit CacheWatcher(size_t capacity, WatchFilter filter = {})
      : capacity_(capacity), filter_(std::move(filter)) {}
  // Waits up to `timeout` for events; returns what is queued (maybe empty). Sets *closed when the
  // watcher was closed and drained.
  std::vector<CacheEvent> next(std::chrono::milliseconds timeout, bool* closed);
  // Without waiting: at most `max` queued events. *closed when the watcher was closed and
  // nothing is left after these (no wake follows: the reader ends after them); *more when events
  // are left in the queue.
  std::vector<CacheEvent> take(size_t max, bool* closed, bool* more);
  // Waits up to `timeout` until an event is queued or the watcher is closed; returns whether so.
  bool wait(std::chrono::milliseconds timeout);
  // Runs after every push and on close, on the feeding thread with the cache's and this
  // watcher's locks held: it must be quick and must not call back into the cache or watcher
  // (a stream waker). Null to remove; once set to null it is not running and will not run.
  void setListener(std::function<void()> listener);
  void push(const CacheEvent& e);  // called with the cache lock held; never blocks
  void close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CacheEvent> queue_;
  friend class ResourceCache;
  size_t capacity_;
  const WatchFilter filter_;
  std::optional<std::string> trigger_;  // its key in the cache's index (set by the cache)
  bool closed_ = false;
  std::function<void()> listener_;  // guarded by mu_
};

class ResourceCache {
 public:
  explicit ResourceCache(const core::ResourceType& storageType);

  const core::ResourceType& type() const { return type_; }
  ObjectPtr get(const std::string& key) const;
  // Objects whose key starts with `prefix`, in key order, and the revision the list reflects.
  std::vector<ObjectPtr> list(const std::string& prefix, int64_t* revision) const;
  size_t size() const;

  // Registers a watcher receiving events with revision > fromRevision (0 = from now). Replays
  // buffered history. Fails Expired (410) when fromRevision is older than the history kept.
  // `filter` (optional) narrows the events queued to those the watcher can send; `fields`
  // (optional, the watch's field selector) puts it in the index when it pins the trigger field.
  core::Result<std::shared_ptr<CacheWatcher>> watch(int64_t fromRevision, WatchFilter filter = {},
                                                    const core::FieldSelector* fields = nullptr);
  void unwatch(const std::shared_ptr<CacheWatcher>& w);
  size_t watchers() const;  // registered now

  // The server's own writes (prepared_write.h): announced before the store call, so that the
  // event carrying exactly these bytes takes the prepared object instead of decoding them;
  // settled after it with the revision written (0 = not written: forgotten now).
  void expectWrite(std::shared_ptr<PreparedWrite> w);
  void settleWrite(const std::string& key, const std::shared_ptr<PreparedWrite>& w,
                   int64_t revision);

  // Feed (CacheSet only).
  void fill(std::vector<ObjectPtr> objects, int64_t revision);
  void apply(const store::Event& e);
  void noteGlobalRevision(int64_t rev);
  void closeWatchers();

 private:
  ObjectPtr decode(const store::KeyValue& kv, int64_t rv) const;
  // The announced write `kv` is, made a cached object; null if none matches.
  ObjectPtr takePrepared(const store::KeyValue& kv);

  const core::ResourceType& type_;
  mutable std::mutex mu_;
  // Keyed by a view of the object's own key: the object outlives its map entry, and a second
  // copy of every key would cost ~80 bytes per cached object.
  std::map<std::string_view, ObjectPtr, std::less<>> objects_;
  std::deque<CacheEvent> history_;
  int64_t historyStart_ = 0;  // every event with revision > historyStart_ is in history_
  int64_t revision_ = 0;      // last revision applied or noted
  std::vector<std::shared_ptr<CacheWatcher>> watchers_;  // offered every event
  // Watchers pinning triggerField_ to a value, by that value ("" = unset, e.g. unbound pods).
  std::unordered_map<std::string, std::vector<std::shared_ptr<CacheWatcher>>> indexed_;
  const std::string triggerField_;  // empty: no index for this resource
  // Announced writes by key (taken after mu_ when both are held). An entry leaves when its event
  // takes it, when its writer fails, or (bytes the event does not carry) once the revision it
  // was written at has been applied.
  std::mutex pendingMu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<PreparedWrite>>> pending_;
  int64_t appliedPut_ = 0;  // revision of the last put applied (guarded by pendingMu_)
  static constexpr size_t kMaxPending = 4096;  // hints only: beyond this, writes go unannounced
  static constexpr size_t kHistoryCapacity = 4096;
};

class CacheSet {
 public:
  explicit CacheSet(store::Interface& store);
  ~CacheSet();
  core::Status start();
  void stop();

  ResourceCache* forType(const core::ResourceType& rt);  // any served version → storage cache

  // Resources defined at runtime (CRDs). An observer of `prefix` runs on the feed thread for
  // every event under it (and, in start(), for every stored object under it before any other
  // object is cached), after the event reached its own cache and before any later event is
  // applied: a CRD's observer creates its resources' cache before their first object arrives.
  // Observers are added before start().
  using Observer = std::function<void(const store::Event&)>;
  void addObserver(std::string prefix, Observer observer);
  // Creates the (empty) cache of a storage type unless one with the same prefix and scope
  // exists. Returns it.
  ResourceCache* ensureCache(const core::ResourceType& storageType);
  // Closes the watchers of a prefix's cache and stops routing events to it. Pointers to it stay
  // valid (retired caches are kept until the CacheSet is destroyed).
  void retireCache(const std::string& storagePrefix);
  int64_t revision() const { return revision_.load(); }
  // Waits until the cache has seen the store's current revision. False on timeout.
  bool waitUntilFresh(std::chrono::milliseconds timeout);
  bool waitForRevision(int64_t rev, std::chrono::milliseconds timeout);

 private:
  void onEvent(const store::Event& e);

  store::Interface& store_;
  std::multiset<int64_t> waiting_;  // revisions readers wait for (guarded by freshMu_)
  ResourceCache* findCache(const std::string& prefix) const;
  void notifyObservers(const store::Event& e);

  // Guards caches_ and retired_.
  mutable std::shared_mutex cachesMu_;
  std::map<std::string, std::unique_ptr<ResourceCache>> caches_;  // by storagePrefix
  std::vector<std::unique_ptr<ResourceCache>> retired_;
  std::vector<std::pair<std::string, Observer>> observers_;  // fixed after start()
  std::unique_ptr<store::Watch> watch_;
  std::atomic<int64_t> revision_{0};
  std::mutex freshMu_;
  std::condition_variable freshCv_;
};

}  // namespace berth::apiserver
