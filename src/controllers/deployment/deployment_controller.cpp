#include "controllers/deployment/deployment_controller.h"

#include <boost/json.hpp>

#include <iostream>

#include "controllers/deployment/deployment_controller_impl.h"
#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/guarded_sync.h"

namespace berth::controllers {

std::unique_ptr<Controller> newDeploymentController(ControllerContext& ctx) {
  return std::make_unique<deployment::DeploymentController>(ctx);
}

namespace deployment {

namespace json = boost::json;
using client::ObjectPtr;

namespace {
core::Result<core::LabelSelector> selectorOf(const json::value& obj) {
  const json::value* sel = valueAt(obj, {"spec", "selector"});
  if (!sel || !sel->is_object()) return core::Status::badRequest("selector missing");
  return core::LabelSelector::fromJson(sel->get_object());
}
}  // namespace

DeploymentController::DeploymentController(ControllerContext& ctx)
    : client_(ctx.client),
      dInformer_(ctx.informers.forResource(kDeployments)),
      rsInformer_(ctx.informers.forResource(kReplicaSets)),
      podInformer_(ctx.informers.forResource(kPods)),
      recorder_(ctx.client, "deployment-controller"),
      workers_("deployment", ctx.metrics,
               [this](const std::string& k) { return guardedSync([&] { return sync(k); }); }),
      workerCount_(ctx.workers) {
  dHandler_ = dInformer_.addEventHandler(
      {[this](const ObjectPtr& d) { workers_.enqueue(keyOf(*d)); },
       [this](const ObjectPtr&, const ObjectPtr& d) { workers_.enqueue(keyOf(*d)); },
       [this](const client::DeletedObject& d) { workers_.enqueue(d.key); }});
  rsHandler_ = rsInformer_.addEventHandler(
      {[this](const ObjectPtr& rs) { onReplicaSetAdd(*rs); },
       [this](const ObjectPtr& o, const ObjectPtr& n) { onReplicaSetUpdate(*o, *n); },
       [this](const client::DeletedObject& d) { onReplicaSetDelete(*d.object); }});
  // Only Recreate waits for pods (old pods gone before new ones start).
  podHandler_ = podInformer_.addEventHandler(
      {nullptr, nullptr, [this](const client::DeletedObject& d) { onPodDelete(*d.object); }});
}

DeploymentController::~DeploymentController() {
  stop();
  dInformer_.removeEventHandler(dHandler_);
  rsInformer_.removeEventHandler(rsHandler_);
  podInformer_.removeEventHandler(podHandler_);
}

// ---- events ----------------------------------------------------------------------------------

ObjectPtr DeploymentController::resolveDeployment(const std::string& ns,
                                                  const ControllerRef& ref) const {
  if (ref.kind != "Deployment") return nullptr;
  ObjectPtr d = dInformer_.lister().get(ns, ref.name);
  return d && uidOf(*d) == ref.uid ? d : nullptr;
}

void DeploymentController::enqueueSelecting(const json::value& rs) {
  for (const auto& d : ownersSelecting(dInformer_.lister(), rs, selectorOf)) {
    workers_.enqueue(keyOf(*d));
  }
}

void DeploymentController::onReplicaSetAdd(const json::value& rs) {
  if (isBeingDeleted(rs)) {
    onReplicaSetDelete(rs);
    return;
  }
  if (auto ref = controllerOf(rs)) {
    if (ObjectPtr d = resolveDeployment(stringAt(rs, {"metadata", "namespace"}), *ref))
      workers_.enqueue(keyOf(*d));
    return;
  }
  enqueueSelecting(rs);  // an orphan: whoever matches may adopt it
}

void DeploymentController::onReplicaSetUpdate(const json::value& oldRS, const json::value& rs) {
  if (stringAt(oldRS, {"metadata", "resourceVersion"}) ==
      stringAt(rs, {"metadata", "resourceVersion"}))
    return;  // periodic resync: the Deployments' own resync covers it
  std::string ns = stringAt(rs, {"metadata", "namespace"});
  auto oldRef = controllerOf(oldRS), newRef = controllerOf(rs);
  if (oldRef && oldRef != newRef) {
    if (ObjectPtr d = resolveDeployment(ns, *oldRef)) workers_.enqueue(keyOf(*d));
  }
  if (newRef) {
    if (ObjectPtr d = resolveDeployment(ns, *newRef)) workers_.enqueue(keyOf(*d));
    return;
  }
  if (labelsOfObject(oldRS) != labelsOfObject(rs) || oldRef != newRef) enqueueSelecting(rs);
}

void DeploymentController::onReplicaSetDelete(const json::value& rs) {
  if (auto ref = controllerOf(rs)) {
    if (ObjectPtr d = resolveDeployment(stringAt(rs, {"metadata", "namespace"}), *ref))
      workers_.enqueue(keyOf(*d));
  }
}

void DeploymentController::onPodDelete(const json::value& pod) {
  auto rsRef = controllerOf(pod);
  if (!rsRef || rsRef->kind != "ReplicaSet") return;
  std::string ns = stringAt(pod, {"metadata", "namespace"});
  ObjectPtr rs = rsInformer_.lister().get(ns, rsRef->name);
  if (!rs || uidOf(*rs) != rsRef->uid) return;
  auto dRef = controllerOf(*rs);
  if (!dRef) return;
  ObjectPtr d = resolveDeployment(ns, *dRef);
  if (d && stringAt(*d, {"spec", "strategy", "type"}) == "Recreate") workers_.enqueue(keyOf(*d));
}

// ---- sync ------------------------------------------------------------------------------------

core::Result<RSList> DeploymentController::claimReplicaSets(const json::value& d,
                                                            const core::LabelSelector& selector) {
  ControllerRefManager refs(client_, kDeployments, d, "apps/v1", "Deployment", selector);
  core::Status error;
  RSList owned = refs.claim(
      kReplicaSets, rsInformer_.lister().list(stringAt(d, {"metadata", "namespace"})), error);
  if (!error.ok()) return error;
  return owned;
}

PodMap DeploymentController::podMap(const json::value& d, const core::LabelSelector& selector,
                                    const RSList& rsList) const {
  PodMap out;
  for (const auto& rs : rsList) out[uidOf(*rs)];
  for (const auto& pod :
       podInformer_.lister().list(stringAt(d, {"metadata", "namespace"}), &selector)) {
    auto ref = controllerOf(*pod);
    if (!ref) continue;
    if (auto it = out.find(ref->uid); it != out.end()) it->second.push_back(pod);
  }
  return out;
}

core::Status DeploymentController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  ObjectPtr cached = dInformer_.lister().get(ns, name);
  if (!cached) return core::Status();
  json::value d = *cached;  // this sync's working copy
  auto selector = selectorOf(d);
  if (!selector.ok()) {
    std::cerr << "deployment: " << key << ": " << selector.status().message() << "\n";
    return core::Status();
  }
  if (selector->empty()) {
    // upstream refuses to act on a selector that selects everything.
    recorder_.record(d, "Warning", "SelectingAll",
                     "This deployment is selecting all pods. A non-empty selector is required.");
    if (statusInt(d, "observedGeneration") < intAt(d, {"metadata", "generation"})) {
      d.as_object()["status"].as_object()["observedGeneration"] =
          intAt(d, {"metadata", "generation"});
      return writeStatus(d);
    }
    return core::Status();
  }
  auto rsList = claimReplicaSets(d, *selector);
  if (!rsList.ok()) return rsList.status();

  if (isBeingDeleted(d)) return syncStatusOnly(d, *rsList);
  if (core::Status st = checkPausedConditions(d); !st.ok()) return st;
  if (isPaused(d)) return syncScale(d, *rsList);
  auto scaling = isScalingEvent(d, *rsList);
  if (!scaling.ok()) return scaling.status();
  if (*scaling) return syncScale(d, *rsList);
  std::string type = stringAt(d, {"spec", "strategy", "type"});
  // Pods are only needed by Recreate (are old pods still running?): listing them on every sync
  // of a 10,000-replica RollingUpdate Deployment would match 10,000 labels per status change.
  if (type == "Recreate") return rolloutRecreate(d, *rsList, podMap(d, *selector, *rsList));
  if (type == "RollingUpdate") return rolloutRolling(d, *rsList);
  return core::Status::badRequest("unexpected deployment strategy type: " + type);
}

core::Status DeploymentController::checkPausedConditions(json::value& d) {
  if (!hasProgressDeadline(d)) return core::Status();
  json::object& status = d.as_object()["status"].is_object()
                             ? d.as_object()["status"].as_object()
                             : d.as_object()["status"].emplace_object();
  const json::object* cond = getCondition(status, "Progressing");
  std::string reason = cond ? stringAt(*cond, {"reason"}) : "";
  // A reported lack of progress is not overwritten by a paused condition.
  if (reason == kTimedOutReason) return core::Status();
  bool paused = isPaused(d);
  bool pausedCond = reason == kPausedDeployReason;
  auto now = std::chrono::system_clock::now();
  if (paused && !pausedCond) {
    setCondition(status, newCondition("Progressing", "Unknown", kPausedDeployReason,
                                      "Deployment is paused", now));
  } else if (!paused && pausedCond) {
    setCondition(status, newCondition("Progressing", "Unknown", kResumedDeployReason,
                                      "Deployment is resumed", now));
  } else {
    return core::Status();
  }
  return writeStatus(d);
}

core::Result<bool> DeploymentController::isScalingEvent(json::value& d, const RSList& rsList) {
  auto all = getAllReplicaSetsAndSyncRevision(d, rsList, false);
  if (!all.ok()) return all.status();
  RSList rss = all->oldRSs;
  rss.push_back(all->newRS);
  for (const auto& rs : filterActive(rss)) {
    auto desired = intAnnotation(*rs, kDesiredReplicasAnnotation);
    if (desired && *desired != specReplicas(d)) return true;
  }
  return false;
}

}  // namespace deployment
}  // namespace berth::controllers
