#pragma once
// Reflector: keeps a local store in step with one resource on the API server, as client-go's
// `tools/cache.Reflector` does with ListAndWatch.
//
// The loop: list (resourceVersion "" = a consistent read, in pages of `pageSize` via
// limit/continue; an expired continue token restarts the list) and hand the whole set to
// `onReplace` with the list's resourceVersion; then watch from that resourceVersion with
// allowWatchBookmarks, feeding each ADDED/MODIFIED/DELETED to the sink and remembering the last
// resourceVersion seen (bookmarks included). When the watch ends (the server's timeout, a broken
// connection, a restarted server) it watches again from that resourceVersion, so nothing is missed
// and nothing is replayed; only when the server says that version is gone (410 Expired/Gone, as
// an HTTP answer or an ERROR event) does it list again. Failures back off exponentially
// (50 ms doubling to 2 s; reset by a successful watch).
//
// With `useWatchList` the list is replaced by one watch with sendInitialEvents=true: the
// initial ADDED events are collected until the bookmark annotated k8s.io/initial-events-end,
// handed to `onReplace` at that bookmark's resourceVersion, and the same stream goes on.
//
// Consistency: the sink sees events in resourceVersion order, each exactly once between two
// replaces; after a replace the sink's content equals the server's at that resourceVersion.
//
// Thread-safety: `start()` runs the loop on its own thread, which makes every sink call;
// `stop()` (any thread, idempotent) ends the current watch and joins it.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/indexer.h"
#include "client/object_pool.h"
#include "client/rest_client.h"

namespace berth::client {

class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  virtual void onReplace(std::vector<ObjectPtr> objects, const std::string& resourceVersion) = 0;
  virtual void onAdd(ObjectPtr obj) = 0;
  virtual void onUpdate(ObjectPtr obj) = 0;
  virtual void onDelete(ObjectPtr obj) = 0;  // the object's last state
};

struct ReflectorOptions {
  std::string namespace_;  // empty = all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  long long pageSize = 500;
  // Sync by a streaming list (WatchList: watch with sendInitialEvents=true) instead of paged
  // lists, as client-go's WatchListClient feature does: one request, no full list in memory on
  // the server. Falls back to lists if the server refuses it.
  bool useWatchList = false;
  // Drop metadata.managedFields from every object before the sink sees it, as upstream's
  // kube-controller-manager and kube-scheduler do with their informers' transform
  // (TransformStripManagedFields): no controller reads them, and they are ~40% of a pod.
  bool stripManagedFields = false;
  // For core/v1 pods, also drop the fields no in-process component reads (transform.h:
  // dropUnreadPodFields), ~1.5 KB of a cached Running pod. Other resources are unaffected.
  bool dropUnreadPodFields = false;
  // Hand the sink the pool's copy of an object another informer of this process already holds
  // (object_pool.h); null = every object is this reflector's own.
  SharedObjectPool* pool = nullptr;
};

class Reflector {
 public:
  struct Stats {
    long long lists = 0;           // complete lists (each followed by onReplace)
    long long watches = 0;         // watch requests started successfully
    long long expiredRelists = 0;  // lists caused by 410 Expired/Gone
    long long watchErrors = 0;     // watches that failed to start or broke
  };

  Reflector(RestClient& client, Resource resource, ReflectorOptions options, ReflectorSink& sink);
  ~Reflector();

  void start();
  void stop();
  std::string lastSyncResourceVersion() const;
  Stats stats() const;
  // Ends the current watch and resumes from `resourceVersion` (tests and debugging: makes the
  // server's "too old resource version" path reachable on demand).
  void restartWatchFrom(const std::string& resourceVersion);

 private:
  void run();
  core::Status listAll();
  // Returns OK when the watch ended normally; sets *expired on 410. With `watchList` the watch
  // starts with the initial state and sets *synced once it has been handed to onReplace.
  core::Status watchOnce(bool watchList, bool* expired, bool* synced);
  static bool isInitialEventsEnd(const boost::json::value& obj);
  // An arriving object as the sink gets it: transformed, then shared through the pool.
  ObjectPtr admit(boost::json::value&& obj) const;
  void sleepFor(std::chrono::milliseconds d);
  void setResourceVersion(std::string_view rv);

  RestClient& client_;
  const Resource resource_;
  const ReflectorOptions options_;
  ReflectorSink& sink_;
  const bool trimPods_;          // dropUnreadPodFields applies (this is core/v1 pods)
  const std::string poolScope_;  // server, resource and transform: what the pool keys by

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Watch* current_ = nullptr;  // the running watch, to stop() it
  std::string lastRv_;
  bool watchListRefused_ = false;  // reflector thread only
  Stats stats_;
  std::thread thread_;
};

}  // namespace berth::client
