#pragma once
// The garbage collector (upstream's pkg/controller/garbagecollector): deletes objects whose
// owners are gone and carries out the two deletion modes the API server only marks with
// finalizers:
// - background: an owner is deleted at once; its dependents, seen to have lost their last
//   existing owner, are deleted after it;
// - foreground (`foregroundDeletion` finalizer): the owner's dependents are deleted first; the
//   finalizer is removed (and the owner deleted) once no dependent with blockOwnerDeletion is
//   left;
// - orphan (`orphan` finalizer): the owner's reference is removed from its dependents, then
//   the finalizer.
// It watches every resource discovery lists with list, watch and delete (re-discovered every
// 30 s, so CRDs' resources join), keeps the ownership graph (graph.h) from those informers, and
// decides from live reads: an owner missing from the graph is verified by a GET, and an object
// is deleted only with a uid precondition.
//
// Thread-safety: run()/stop() from the manager's thread; the rest runs on its own threads.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "client/event_recorder.h"
#include "controllers/framework/controller.h"
#include "controllers/framework/discovery.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/garbagecollector/graph.h"

namespace berth::controllers {

class GarbageCollector : public Controller {
 public:
  explicit GarbageCollector(ControllerContext& ctx);
  ~GarbageCollector() override;
  void run() override;
  void stop() override;

  // For tests: the graph's node count.
  size_t graphSize() const { return graph_.size(); }

 private:
  void discoveryLoop();
  void syncMonitors();
  void requestRediscovery();
  void apply(const gc::Actions& actions);
  core::Status attemptToDelete(const std::string& uid);
  struct OwnerClasses {
    std::vector<gc::OwnerRef> solid, dangling, waiting;
    std::set<std::string> orphaned;
    bool invalid = false;  // reported; the item is left alone
  };
  core::Result<OwnerClasses> classifyOwners(const DiscoveryResult& d, const std::string& ns,
                                            const boost::json::value& latest);
  core::Status deleteItem(const gc::NodeView& item, const ApiResource& m, const std::string& ns,
                          const boost::json::value& latest, bool ownerWaiting);
  core::Status attemptToOrphan(const std::string& uid);
  core::Status processDeletingDependents(const gc::NodeView& item,
                                         const boost::json::value& latest);
  core::Result<size_t> removeOwnerRefs(const ApiResource& m, const std::string& ns,
                                       const std::string& name, const boost::json::value& latest,
                                       const std::set<std::string>& uids);
  core::Status removeFinalizer(const ApiResource& m, const std::string& ns, const std::string& name,
                               const boost::json::value& latest, std::string_view finalizer);
  std::shared_ptr<const DiscoveryResult> discovery() const;

  // upstream reportInvalidNamespaceOwnerRef: a Warning OwnerRefInvalidNamespace on `dependent`.
  void reportInvalidNamespaceOwnerRef(const boost::json::value& dependent, const gc::OwnerRef& o);

  ControllerContext ctx_;  // a copy: the manager's context is a temporary
  client::EventRecorder recorder_;
  gc::Graph graph_;
  QueueWorkers deleteWorkers_;
  QueueWorkers orphanWorkers_;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::shared_ptr<const DiscoveryResult> discovery_;
  std::map<std::string, std::pair<client::SharedInformer*, int>> monitors_;  // key → handler id
  bool stopping_ = false;
  bool rediscover_ = false;
  bool workersStarted_ = false;
  std::thread loop_;

  // A set of uids, bounded (cleared when full: both uses below are caches a miss only slows).
  class UidSet {
   public:
    bool contains(const std::string& uid) const;
    void insert(const std::string& uid);

   private:
    mutable std::mutex mu_;
    std::set<std::string> uids_;
  };
  // Upstream's absentOwnerCache: a uid is never reused, so an owner seen gone stays gone and
  // the siblings of a collected dependent need no GET of it.
  UidSet absentOwners_;
  // Owners whose `orphan` finalizer this collector removed. A dependent the graph learns of
  // only after such an owner is gone (its create raced the owner's delete on another watch)
  // is orphaned, not collected: the owner was deleted with propagationPolicy Orphan.
  UidSet orphanedOwners_;
};

}  // namespace berth::controllers
