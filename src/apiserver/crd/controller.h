#pragma once
// Keeps the served resources in step with the stored CustomResourceDefinitions, as upstream's
// apiextensions-apiserver does with its CRD handler and finalizer controller:
//  - onEvent() runs on the watch cache's feed thread for every CRD event (and for every stored
//    CRD at start, before other objects are cached): it registers the CRD's resources in the
//    catalogue and has their cache created, or removes both when the CRD is gone. Because it runs
//    in revision order on the feed, a custom object's first event always finds its cache, and a
//    restart restores every CRD from the store.
//  - a worker deletes the objects of a CRD being deleted (deletionTimestamp set, our cleanup
//    finalizer present), then removes the finalizer so the CRD goes away.
// The controller reaches the cache and the registry only through Hooks, so this folder does not
// depend on the API server's internals.
//
// Thread-safety: onEvent is called from one thread (the feed); start/stop from the owner; the
// worker has its own thread. Shared state is behind mu_.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/resources.h"
#include "core/result.h"
#include "store/interface.h"

namespace berth::apiserver::crd {

struct Hooks {
  // Watch cache: create the cache of a storage type / retire a prefix's cache.
  std::function<void(const core::ResourceType& storageType)> ensureCache;
  std::function<void(const std::string& storagePrefix)> retireCache;
  // Registry: delete every object of a resource; returns how many are left (terminating).
  std::function<core::Result<size_t>(const core::ResourceType& rt)> deleteAll;
  // Registry: remove the cleanup finalizer from the named CRD.
  std::function<core::Status(const std::string& crdName)> removeFinalizer;
};

class Controller {
 public:
  explicit Controller(Hooks hooks);
  ~Controller();

  void onEvent(const store::Event& e);
  void start();  // the cleanup worker
  void stop();

 private:
  void runCleanup();
  bool cleanupOne(const std::string& crdName);

  Hooks hooks_;
  std::map<std::string, std::string> fingerprints_;  // crd name → spec (feed thread only)
  std::map<std::string, std::string> prefixes_;      // crd name → storage prefix (feed thread)

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> terminating_;  // CRD names awaiting cleanup
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace berth::apiserver::crd
