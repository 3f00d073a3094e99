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
//  - when a CRD goes away or changes its names, the same worker has the CRDs of its group whose
//    names were refused computed again (upstream's naming controller requeues the group), so
//    a name another CRD gave up is accepted.
// The controller reaches the cache and the registry only through Hooks, so this folder does not
// depend on the API server's internals.
//
// Thread-safety: onEvent is called from one thread (the feed); start/stop from the owner; the
// worker has its own thread. Shared state is behind mu_.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "apiserver/webhook/client.h"
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
  // Registry: rewrite the named CRD so its status (name acceptance) is computed again.
  std::function<core::Status(const std::string& crdName)> refreshStatus;
  // Calls conversion webhooks (CRDs with spec.conversion.strategy Webhook); may be null.
  std::shared_ptr<webhook::Client> webhookClient;
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
  // Queues the refused CRDs of `group` other than `except` for a status refresh (feed thread).
  void requeueGroup(const std::string& group, const std::string& except);

  Hooks hooks_;
  std::map<std::string, std::string> fingerprints_;  // crd name → spec (feed thread only)
  std::map<std::string, std::string> prefixes_;      // crd name → storage prefix (feed thread)
  std::map<std::string, std::string> groups_;        // crd name → group (feed thread)
  std::set<std::string> refused_;                    // CRDs whose names were refused (feed)

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> terminating_;  // CRD names awaiting cleanup
  std::set<std::string> refresh_;      // CRD names whose status is to be computed again
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace berth::apiserver::crd
