#include "controllers/replicaset/replica_set_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>

#include "client/event_recorder.h"
#include "client/informer.h"
#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/guarded_sync.h"
#include "controllers/framework/expectations.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/parallel.h"
#include "controllers/framework/pod_util.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/replicaset/pod_ranking.h"
#include "controllers/replicaset/replica_set_status.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::ObjectPtr;

const client::Resource kPods{"", "v1", "pods", true};
// upstream's BurstReplicas: at most this many creates or deletes per sync.
constexpr long long kBurstReplicas = 500;

// What differs between the ReplicaSet and the ReplicationController controllers.
struct Flavor {
  std::string name;  // queue and --controllers name
  client::Resource resource;
  std::string apiVersion, kind, component;
  bool mapSelector;  // RC: spec.selector is a plain label map
};

class ReplicaSetController : public Controller {
 public:
  ReplicaSetController(ControllerContext& ctx, Flavor flavor)
      : flavor_(std::move(flavor)),
        client_(ctx.client),
        rsInformer_(ctx.informers.forResource(flavor_.resource)),
        podInformer_(ctx.informers.forResource(kPods)),
        recorder_(ctx.client, flavor_.component),
        workers_(flavor_.name, ctx.metrics,
                 [this](const std::string& k) { return guardedSync([&] { return sync(k); }); }),
        workerCount_(ctx.workers) {
    rsHandler_ = rsInformer_.addEventHandler(
        {[this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); },
         [this](const ObjectPtr&, const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); },
         [this](const client::DeletedObject& d) {
           expectations_.remove(d.key);
           workers_.enqueue(d.key);
         }});
    podHandler_ = podInformer_.addEventHandler(
        {[this](const ObjectPtr& p) { onPodAdd(*p); },
         [this](const ObjectPtr& o, const ObjectPtr& n) { onPodUpdate(*o, *n); },
         [this](const client::DeletedObject& d) { onPodDelete(*d.object); }});
  }

  ~ReplicaSetController() override {
    stop();
    rsInformer_.removeEventHandler(rsHandler_);
    podInformer_.removeEventHandler(podHandler_);
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  // ---- selectors and owner lookup ----

  core::Result<core::LabelSelector> selectorOf(const json::value& rs) const {
    const json::value* sel = valueAt(rs, {"spec", "selector"});
    if (!sel || !sel->is_object())
      return core::Status::badRequest("the selector of " + keyOf(rs) + " is missing");
    if (flavor_.mapSelector) {
      return core::LabelSelector::fromJson(json::object{{"matchLabels", *sel}});
    }
    return core::LabelSelector::fromJson(sel->get_object());
  }

  // The owner a pod's controllerRef names, if it is one of ours and still the same object.
  ObjectPtr resolveOwner(const std::string& ns, const ControllerRef& ref) const {
    if (ref.kind != flavor_.kind) return nullptr;
    ObjectPtr rs = rsInformer_.lister().get(ns, ref.name);
    return rs && uidOf(*rs) == ref.uid ? rs : nullptr;
  }

  // Every owner whose selector matches an orphan pod's labels (each will try to adopt it).
  std::vector<ObjectPtr> ownersSelecting(const json::value& pod) const {
    return controllers::ownersSelecting(rsInformer_.lister(), pod,
                                        [this](const json::value& rs) { return selectorOf(rs); });
  }

  // ---- pod events: count expectations down, enqueue the owners concerned ----

  void onPodAdd(const json::value& pod) {
    if (isBeingDeleted(pod)) {
      onPodDelete(pod);  // seen for the first time already terminating: a deletion to observe
      return;
    }
    std::string ns = stringAt(pod, {"metadata", "namespace"});
    if (auto ref = controllerOf(pod)) {
      if (ObjectPtr rs = resolveOwner(ns, *ref)) {
        expectations_.creationObserved(keyOf(*rs));
        workers_.enqueue(keyOf(*rs));
      }
      return;
    }
    for (const auto& rs : ownersSelecting(pod)) workers_.enqueue(keyOf(*rs));
  }

  void onPodUpdate(const json::value& oldPod, const json::value& pod) {
    if (stringAt(oldPod, {"metadata", "resourceVersion"}) ==
        stringAt(pod, {"metadata", "resourceVersion"}))
      return;  // a periodic resync; the owners' own resync covers it
    bool labelsChanged = labelsOfObject(oldPod) != labelsOfObject(pod);
    if (isBeingDeleted(pod)) {
      // Graceful deletion: upstream counts the deletion as observed now, not at the final
      // removal, so a replacement is made while the old pod terminates.
      onPodDelete(pod);
      if (labelsChanged) onPodDelete(oldPod);
      return;
    }
    std::string ns = stringAt(pod, {"metadata", "namespace"});
    auto oldRef = controllerOf(oldPod), newRef = controllerOf(pod);
    if (oldRef && oldRef != newRef) {
      if (ObjectPtr rs = resolveOwner(ns, *oldRef)) workers_.enqueue(keyOf(*rs));
    }
    if (newRef) {
      ObjectPtr rs = resolveOwner(ns, *newRef);
      if (!rs) return;
      workers_.enqueue(keyOf(*rs));
      long long minReady = intAt(*rs, {"spec", "minReadySeconds"});
      if (!isPodReady(oldPod) && isPodReady(pod) && minReady > 0) {
        workers_.queue().addAfter(keyOf(*rs), std::chrono::seconds(minReady + 1));
      }
      return;
    }
    if (labelsChanged || oldRef != newRef) {
      for (const auto& rs : ownersSelecting(pod)) workers_.enqueue(keyOf(*rs));
    }
  }

  void onPodDelete(const json::value& pod) {
    auto ref = controllerOf(pod);
    if (!ref) return;
    ObjectPtr rs = resolveOwner(stringAt(pod, {"metadata", "namespace"}), *ref);
    if (!rs) return;
    std::string key = keyOf(*rs);
    expectations_.deletionObserved(key, keyOf(pod));
    workers_.enqueue(key);
  }

  // ---- sync ----

  core::Status sync(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    ObjectPtr rs = rsInformer_.lister().get(ns, name);
    if (!rs) {
      expectations_.remove(key);
      return core::Status();
    }
    auto selector = selectorOf(*rs);
    if (!selector.ok()) {
      // An invalid selector will not fix itself by retrying (upstream logs and drops the key).
      std::cerr << flavor_.name << ": " << key << ": " << selector.status().message() << "\n";
      return core::Status();
    }
    const bool needsSync = expectations_.satisfied(key);

    std::vector<ObjectPtr> active;
    for (const auto& p : podInformer_.lister().list(ns))
      if (isPodActive(*p)) active.push_back(p);
    ControllerRefManager refs(client_, flavor_.resource, *rs, flavor_.apiVersion, flavor_.kind,
                              *selector);
    core::Status claimError;
    std::vector<ObjectPtr> pods = refs.claim(kPods, active, claimError);
    if (!claimError.ok()) return claimError;

    core::Status manageError;
    if (needsSync && !isBeingDeleted(*rs)) manageError = manageReplicas(key, *rs, pods);

    json::object status =
        replicaset::calculateStatus(*rs, pods, manageError, std::chrono::system_clock::now());
    const long long ready = intAt(status, {"readyReplicas"});
    const long long available = intAt(status, {"availableReplicas"});
    if (core::Status st = writeStatus(*rs, std::move(status)); !st.ok()) return st;

    // Pods that are ready but not yet available become available by time alone: look again.
    long long replicas = intAt(*rs, {"spec", "replicas"}, 1);
    long long minReady = intAt(*rs, {"spec", "minReadySeconds"});
    if (manageError.ok() && minReady > 0 && ready == replicas && available != replicas) {
      workers_.queue().addAfter(key, std::chrono::seconds(minReady));
    }
    return manageError;
  }

  core::Status manageReplicas(const std::string& key, const json::value& rs,
                              const std::vector<ObjectPtr>& pods) {
    long long diff = static_cast<long long>(pods.size()) - intAt(rs, {"spec", "replicas"}, 1);
    if (diff < 0) return createPods(key, rs, std::min(-diff, kBurstReplicas));
    if (diff > 0) return deletePods(key, rs, pods, std::min(diff, kBurstReplicas));
    return core::Status();
  }

  json::object podFromTemplate(const json::value& rs) const {
    json::object meta{{"generateName", stringAt(rs, {"metadata", "name"}) + "-"},
                      {"namespace", stringAt(rs, {"metadata", "namespace"})}};
    for (const char* f : {"labels", "annotations", "finalizers"}) {
      if (const json::value* v = valueAt(rs, {"spec", "template", "metadata", f})) meta[f] = *v;
    }
    meta["ownerReferences"] = json::array{newControllerRef(rs, flavor_.apiVersion, flavor_.kind)};
    json::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
    if (const json::value* spec = valueAt(rs, {"spec", "template", "spec"})) pod["spec"] = *spec;
    return pod;
  }

  // Slow start (upstream slowStartBatch): batches of 1, 2, 4, ... so a failing create (quota,
  // admission) costs one request instead of hundreds; stop after the first failing batch.
  core::Status createPods(const std::string& key, const json::value& rs, long long count) {
    expectations_.expectCreations(key, static_cast<int>(count));
    const json::object pod = podFromTemplate(rs);
    const std::string ns = stringAt(rs, {"metadata", "namespace"});
    long long created = 0, remaining = count, batch = 1;
    core::Status firstError;
    std::mutex mu;
    while (remaining > 0) {
      long long n = std::min(batch, remaining);
      std::atomic<long long> ok{0};
      parallelFor(static_cast<size_t>(n), [&](size_t) {
        auto r = client_.create(kPods, ns, pod);
        if (r.ok()) {
          ++ok;
          recorder_.record(rs, "Normal", "SuccessfulCreate",
                           "Created pod: " + stringAt(*r, {"metadata", "name"}));
          return;
        }
        recorder_.record(rs, "Warning", "FailedCreate", "Error creating: " + r.status().message());
        std::lock_guard lock(mu);
        if (firstError.ok()) firstError = r.status();
      });
      created += ok;
      remaining -= n;
      if (ok != n) break;
      batch *= 2;
    }
    // Creates that failed or were never sent will not show up in the informer.
    if (created < count) expectations_.lowerCreations(key, static_cast<int>(count - created));
    return firstError;
  }

  // The pods of every owner sharing this one's controller (a Deployment's ReplicaSets): spreading
  // deletions to nodes that hold several of them keeps the rollout balanced (upstream ranks).
  std::vector<ObjectPtr> relatedPods(const json::value& rs) const {
    std::vector<ObjectPtr> out;
    auto ref = controllerOf(rs);
    if (!ref) return out;
    std::set<std::string> seen;
    std::string ns = stringAt(rs, {"metadata", "namespace"});
    auto pods = podInformer_.lister().list(ns);
    for (const auto& other : rsInformer_.lister().list(ns)) {
      auto otherRef = controllerOf(*other);
      auto sel = selectorOf(*other);
      if (!otherRef || otherRef->uid != ref->uid || !sel.ok()) continue;
      for (const auto& p : pods)
        if (sel->matches(labelsOfObject(*p)) && seen.insert(uidOf(*p)).second) out.push_back(p);
    }
    return out;
  }

  core::Status deletePods(const std::string& key, const json::value& rs,
                          const std::vector<ObjectPtr>& pods, long long count) {
    auto victims = replicaset::podsToDelete(pods, relatedPods(rs), static_cast<size_t>(count),
                                            std::chrono::system_clock::now());
    std::vector<std::string> victimKeys;
    for (const auto& p : victims) victimKeys.push_back(keyOf(*p));
    expectations_.expectDeletions(key, victimKeys);
    core::Status firstError;
    std::mutex mu;
    parallelFor(victims.size(), [&](size_t i) {
      const json::value& pod = *victims[i];
      std::string name = stringAt(pod, {"metadata", "name"});
      auto r = client_.remove(kPods, stringAt(pod, {"metadata", "namespace"}), name);
      if (r.ok()) {
        recorder_.record(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + name);
        return;
      }
      // The informer will not see this deletion: stop expecting it.
      expectations_.deletionObserved(key, victimKeys[i]);
      if (r.status().isNotFound()) return;
      recorder_.record(rs, "Warning", "FailedDelete", "Error deleting: " + r.status().message());
      std::lock_guard lock(mu);
      if (firstError.ok()) firstError = r.status();
    });
    return firstError;
  }

  // PUT .../status when something changed; on a conflict re-read once and retry (upstream's
  // statusUpdateRetries = 1).
  core::Status writeStatus(const json::value& rs, json::object status) {
    if (!replicaset::statusNeedsUpdate(rs, status)) return core::Status();
    status["observedGeneration"] = intAt(rs, {"metadata", "generation"});
    json::value obj = rs;
    for (int attempt = 0;; ++attempt) {
      obj.as_object()["status"] = status;
      auto r =
          client_.updateStatus(flavor_.resource, stringAt(obj, {"metadata", "namespace"}), obj);
      if (r.ok()) return core::Status();
      if (attempt >= 1) return r.status();
      auto fresh = client_.get(flavor_.resource, stringAt(rs, {"metadata", "namespace"}),
                               stringAt(rs, {"metadata", "name"}));
      if (!fresh.ok()) return fresh.status();
      obj = std::move(fresh.value());
    }
  }

  const Flavor flavor_;
  client::RestClient& client_;
  client::SharedInformer& rsInformer_;
  client::SharedInformer& podInformer_;
  client::EventRecorder recorder_;
  Expectations expectations_;
  QueueWorkers workers_;
  const int workerCount_;
  int rsHandler_ = 0, podHandler_ = 0;
};

}  // namespace

std::unique_ptr<Controller> newReplicaSetController(ControllerContext& ctx) {
  return std::make_unique<ReplicaSetController>(ctx, Flavor{"replicaset",
                                                            {"apps", "v1", "replicasets", true},
                                                            "apps/v1",
                                                            "ReplicaSet",
                                                            "replicaset-controller",
                                                            false});
}

std::unique_ptr<Controller> newReplicationControllerController(ControllerContext& ctx) {
  return std::make_unique<ReplicaSetController>(ctx,
                                                Flavor{"replicationmanager",
                                                       {"", "v1", "replicationcontrollers", true},
                                                       "v1",
                                                       "ReplicationController",
                                                       "replication-controller",
                                                       true});
}

}  // namespace berth::controllers
