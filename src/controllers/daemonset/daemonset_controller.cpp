#include "controllers/daemonset/daemonset_controller.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "client/event_recorder.h"
#include "controllers/daemonset/node_eligibility.h"
#include "controllers/daemonset/plan.h"
#include "controllers/framework/controller_history.h"
#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/workload_expectations.h"
#include "controllers/framework/pod_control.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace daemonset;

const client::Resource kDaemonSets{"apps", "v1", "daemonsets", true};
// Upstream's BurstReplicas: at most this many creates or deletes per sync.
constexpr size_t kBurstReplicas = 250;
constexpr auto kFailedPodBackoffMax = std::chrono::minutes(15);

class DaemonSetController : public Controller {
 public:
  explicit DaemonSetController(ControllerContext& ctx)
      : client_(ctx.client),
        dsInformer_(ctx.informers.forResource(kDaemonSets)),
        podInformer_(ctx.informers.forResource(kPods)),
        nodeInformer_(ctx.informers.forResource(kNodes)),
        revInformer_(ctx.informers.forResource(kControllerRevisions)),
        recorder_(ctx.client, "daemonset-controller"),
        workers_("daemonset", ctx.metrics, [this](const std::string& k) { return sync(k); }),
        workerCount_(std::max(1, ctx.workers / 2)) {  // upstream --concurrent-daemonset-syncs 2
    addControllerUidIndex(podInformer_);
    auto enqueueDs = [this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
    dsInformer_.addEventHandler(
        {enqueueDs, [this](const ObjectPtr&, const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); },
         [this](const client::DeletedObject& d) {
           expectations_.forget(keyOf(*d.object));
           workers_.enqueue(keyOf(*d.object));
         }});
    podInformer_.addEventHandler({[this](const ObjectPtr& p) {
                                    std::string key = ownerKey(*p);
                                    if (key.empty()) {
                                      enqueueAdopters(*p);
                                      return;
                                    }
                                    expectations_.creationObserved(key);
                                    if (isBeingDeleted(*p))
                                      expectations_.deletionObserved(key, keyOf(*p));
                                    workers_.enqueue(key);
                                  },
                                  [this](const ObjectPtr& oldPod, const ObjectPtr& newPod) {
                                    std::string key = ownerKey(*newPod);
                                    std::string oldKey = ownerKey(*oldPod);
                                    if (!oldKey.empty() && oldKey != key) workers_.enqueue(oldKey);
                                    if (key.empty()) {
                                      if (!controllerRefOf(*newPod)) enqueueAdopters(*newPod);
                                      return;
                                    }
                                    if (isBeingDeleted(*newPod))
                                      expectations_.deletionObserved(key, keyOf(*newPod));
                                    workers_.enqueue(key);
                                  },
                                  [this](const client::DeletedObject& d) {
                                    std::string key = ownerKey(*d.object);
                                    if (key.empty()) return;
                                    expectations_.deletionObserved(key, keyOf(*d.object));
                                    workers_.enqueue(key);
                                  }});
    nodeInformer_.addEventHandler({[this](const ObjectPtr&) { enqueueAll(); },
                                   [this](const ObjectPtr& oldNode, const ObjectPtr& newNode) {
                                     // Heartbeats and status changes do not move daemon pods; only
                                     // placement inputs do.
                                     for (const ObjectPtr& ds : dsInformer_.lister().list("")) {
                                       Placement a = nodeShouldRunDaemonPod(*oldNode, *ds);
                                       Placement b = nodeShouldRunDaemonPod(*newNode, *ds);
                                       if (a.shouldRun != b.shouldRun ||
                                           a.shouldContinueRunning != b.shouldContinueRunning) {
                                         workers_.enqueue(keyOf(*ds));
                                       }
                                     }
                                   },
                                   [this](const client::DeletedObject&) { enqueueAll(); }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  void enqueueAll() {
    for (const ObjectPtr& ds : dsInformer_.lister().list("")) workers_.enqueue(keyOf(*ds));
  }

  // An orphan: every DaemonSet selecting it may adopt it.
  void enqueueAdopters(const json::value& pod) {
    if (isBeingDeleted(pod)) return;
    for (const ObjectPtr& ds : ownersSelecting(dsInformer_.lister(), pod))
      workers_.enqueue(keyOf(*ds));
  }

  // The DaemonSet key of a pod's controller reference ("" when not a DaemonSet's pod).
  std::string ownerKey(const json::value& pod) const {
    const json::object* ref = controllerRefOf(pod);
    if (!ref || strAt(*ref, "kind") != "DaemonSet" || strAt(*ref, "apiVersion") != "apps/v1") {
      return {};
    }
    return strAt(metaOf(pod), "namespace") + "/" + strAt(*ref, "name");
  }

  core::Status sync(const std::string& key);
  core::Result<std::string> currentHash(const json::value& ds,
                                        std::vector<ObjectPtr>& oldRevisions);
  core::Status bumpCollisionCount(const json::value& ds);
  core::Status createPods(const json::value& ds, const std::string& key,
                          const std::vector<std::string>& nodes, const std::string& hash);
  core::Status deletePods(const json::value& ds, const std::string& key,
                          const std::vector<ObjectPtr>& pods);
  std::vector<ObjectPtr> backOffFailedPods(const json::value& ds, const std::string& key,
                                           const ManagePlan& plan);
  core::Status cleanupHistory(const json::value& ds, const std::vector<ObjectPtr>& oldRevisions,
                              const std::vector<ObjectPtr>& pods);
  core::Status updateStatus(const json::value& ds, const std::string& key,
                            const std::vector<ObjectPtr>& nodes, const NodePods& nodePods,
                            const std::string& hash);

  client::RestClient& client_;
  client::SharedInformer& dsInformer_;
  client::SharedInformer& podInformer_;
  client::SharedInformer& nodeInformer_;
  client::SharedInformer& revInformer_;
  client::EventRecorder recorder_;
  ControllerExpectations expectations_;
  PodControl podControl_{client_, recorder_, expectations_};
  std::mutex backoffMu_;
  // Failed daemon pods per "<ds uid>/<node>": when the next one may be deleted, and the delay.
  std::map<std::string,
           std::pair<std::chrono::steady_clock::time_point, std::chrono::steady_clock::duration>>
      failedBackoff_;
  QueueWorkers workers_;
  int workerCount_;
};

core::Status DaemonSetController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  ObjectPtr dsPtr = dsInformer_.lister().get(ns, name);
  if (!dsPtr) {
    expectations_.forget(key);
    return core::Status();
  }
  const json::value& ds = *dsPtr;
  auto selector = specSelector(ds);
  if (!selector.ok() || selector->empty()) {
    recorder_.record(ds, "Warning", "SelectingAll",
                     "This daemon set is selecting all pods. A non-empty selector is required.");
    return core::Status();
  }
  if (isBeingDeleted(ds)) return core::Status();

  std::vector<ObjectPtr> nodes = nodeInformer_.lister().list("");
  std::vector<ObjectPtr> oldRevisions;
  auto hash = currentHash(ds, oldRevisions);
  if (!hash.ok()) return hash.status();
  ControllerRefManager refs(client_, kDaemonSets, ds, "apps/v1", "DaemonSet", *selector);
  core::Status claimError;
  std::vector<ObjectPtr> pods =
      refs.claim(kPods, ownedAndOrphans(podInformer_, ns, uidOf(ds)), claimError);
  if (!claimError.ok()) return claimError;
  NodePods nodePods = podsByNode(pods);
  if (!expectations_.satisfied(key)) {
    return updateStatus(ds, key, nodes, nodePods, *hash);
  }

  ManagePlan plan = planManage(ds, nodes, nodePods, *hash);
  std::vector<ObjectPtr> toDelete = backOffFailedPods(ds, key, plan);
  core::Status st = deletePods(ds, key, toDelete);
  if (core::Status c = createPods(ds, key, plan.nodesNeedingPods, *hash); st.ok()) st = c;
  if (!st.ok()) return st;

  // A rollout step only on a settled node set: when manage acted, the pods it created may
  // already be observed (expectations satisfied) yet missing from `nodePods`.
  bool managed = !toDelete.empty() || !plan.nodesNeedingPods.empty();
  if (!managed && expectations_.satisfied(key) &&
      strAt(objAt(ds, "spec", "updateStrategy"), "type") == "RollingUpdate") {
    long long desired = computeStatus(ds, nodes, nodePods, *hash, std::chrono::system_clock::now())
                            .at("desiredNumberScheduled")
                            .as_int64();
    RolloutPlan rollout =
        planRollingUpdate(ds, nodes, nodePods, *hash, desired, std::chrono::system_clock::now());
    st = deletePods(ds, key, rollout.podsToDelete);
    if (core::Status c = createPods(ds, key, rollout.nodesNeedingPods, *hash); st.ok()) st = c;
    if (!st.ok()) return st;
  }
  if (core::Status c = cleanupHistory(ds, oldRevisions, pods); !c.ok()) return c;
  return updateStatus(ds, key, nodes, nodePods, *hash);
}

// upstream constructHistory: the revision whose data is the current template (created when
// missing, renumbered to the newest when an old template came back); its hash label is the hash
// new pods carry.
core::Result<std::string> DaemonSetController::currentHash(const json::value& ds,
                                                           std::vector<ObjectPtr>& oldRevisions) {
  json::value data = templatePatch(ds);
  ObjectPtr current;
  long long maxOld = 0;
  for (const ObjectPtr& r : ownedRevisions(revInformer_.lister(), ds)) {
    if (!current && revisionMatches(*r, data)) {
      current = r;
    } else {
      oldRevisions.push_back(r);
      maxOld = std::max(maxOld, revisionNumber(*r));
    }
  }
  if (current) {
    if (revisionNumber(*current) <= maxOld) {
      auto r = renumberRevision(client_, *current, maxOld + 1);
      if (!r.ok()) return r.status();
    }
    return strAt(objAt(*current, "metadata", "labels"), kRevisionHashLabel);
  }
  std::optional<long long> collisions = intAt(statusOf(ds), "collisionCount");
  std::string hash = computeHash(objAt(ds, "spec", "template"), collisions);
  RevisionSpec spec;
  spec.name = strAt(metaOf(ds), "name") + "-" + hash;
  spec.labels = objAt(objAt(ds, "spec", "template"), "metadata", "labels");
  spec.labels[kRevisionHashLabel] = hash;
  spec.data = std::move(data);
  spec.revision = maxOld + 1;
  auto created = createRevision(client_, ds, "apps/v1", "DaemonSet", spec);
  if (created.ok()) return hash;
  if (created.status().isConflict()) {
    core::Status bumped = bumpCollisionCount(ds);
    return bumped.ok() ? created.status() : bumped;
  }
  return created.status();
}

core::Status DaemonSetController::bumpCollisionCount(const json::value& ds) {
  json::value copy = ds;
  json::value& status = copy.as_object()["status"];
  if (!status.is_object()) status = json::object();
  long long n = intAt(status.as_object(), "collisionCount").value_or(0);
  status.as_object()["collisionCount"] = n + 1;
  auto r = client_.updateStatus(kDaemonSets, strAt(metaOf(ds), "namespace"), copy);
  return r.ok() ? core::Status() : r.status();
}

core::Status DaemonSetController::createPods(const json::value& ds, const std::string& key,
                                             const std::vector<std::string>& nodes,
                                             const std::string& hash) {
  json::object tmpl = podTemplateFor(ds, hash);
  json::object ref = newControllerRef(ds, "apps/v1", "DaemonSet");
  std::string ns = strAt(metaOf(ds), "namespace");
  std::string prefix = strAt(metaOf(ds), "name") + "-";
  std::vector<json::object> pods;
  for (size_t i = 0; i < std::min(nodes.size(), kBurstReplicas); ++i) {
    json::object podTmpl = tmpl;
    pinToNode(podTmpl["spec"].as_object(), nodes[i]);
    pods.push_back(podFromTemplate(podTmpl, ns, prefix, ref));
  }
  core::Status err;
  podControl_.create(ds, key, pods, err);
  return err;
}

core::Status DaemonSetController::deletePods(const json::value& ds, const std::string& key,
                                             const std::vector<ObjectPtr>& pods) {
  core::Status err;
  std::vector<ObjectPtr> batch(pods.begin(), pods.begin() + std::min(pods.size(), kBurstReplicas));
  podControl_.remove(ds, key, batch, err);
  return err;
}

// Failed daemon pods are deleted (and so replaced) with a per-node exponential backoff, 1 s up to
// 15 min as upstream, so a crashing daemon does not hot-loop creates.
std::vector<ObjectPtr> DaemonSetController::backOffFailedPods(const json::value& ds,
                                                              const std::string& key,
                                                              const ManagePlan& plan) {
  std::vector<ObjectPtr> out;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(backoffMu_);
  for (const ObjectPtr& p : plan.podsToDelete) {
    bool failed =
        std::find(plan.failedPods.begin(), plan.failedPods.end(), p) != plan.failedPods.end();
    if (!failed) {
      out.push_back(p);
      continue;
    }
    std::string node = targetNodeName(*p);
    auto& [until, delay] = failedBackoff_[uidOf(ds) + "/" + node];
    if (now < until) {
      workers_.queue().addAfter(key, until - now);
      continue;
    }
    delay = delay == std::chrono::steady_clock::duration::zero()
                ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::seconds(1))
                : std::min<std::chrono::steady_clock::duration>(delay * 2, kFailedPodBackoffMax);
    until = now + delay;
    recorder_.record(
        ds, "Warning", "FailedDaemonPod",
        "Found failed daemon pod " + keyOf(*p) + " on node " + node + ", will try to kill it");
    out.push_back(p);
  }
  return out;
}

core::Status DaemonSetController::cleanupHistory(const json::value& ds,
                                                 const std::vector<ObjectPtr>& oldRevisions,
                                                 const std::vector<ObjectPtr>& pods) {
  long long limit = intAt(specOf(ds), "revisionHistoryLimit").value_or(10);
  long long toKill = static_cast<long long>(oldRevisions.size()) - limit;
  if (toKill <= 0) return core::Status();
  std::set<std::string> live;
  for (const ObjectPtr& p : pods)
    live.insert(strAt(objAt(*p, "metadata", "labels"), kRevisionHashLabel));
  std::vector<ObjectPtr> candidates;
  for (const ObjectPtr& r : oldRevisions) {
    if (!live.count(strAt(objAt(*r, "metadata", "labels"), kRevisionHashLabel))) {
      candidates.push_back(r);
    }
  }
  return pruneRevisions(client_, candidates, toKill);
}

core::Status DaemonSetController::updateStatus(const json::value& ds, const std::string& key,
                                               const std::vector<ObjectPtr>& nodes,
                                               const NodePods& nodePods, const std::string& hash) {
  json::object computed =
      computeStatus(ds, nodes, nodePods, hash, std::chrono::system_clock::now());
  json::value copy = ds;
  json::value& statusSlot = copy.as_object()["status"];
  if (!statusSlot.is_object()) statusSlot = json::object();
  json::object& status = statusSlot.as_object();
  for (auto& [k, v] : computed) status[k] = v;
  if (auto gen = intAt(metaOf(ds), "generation")) status["observedGeneration"] = *gen;
  long long minReady = intAt(specOf(ds), "minReadySeconds").value_or(0);
  if (minReady > 0 && computed.at("numberReady") != computed.at("numberAvailable")) {
    workers_.queue().addAfter(key, std::chrono::seconds(minReady));
  }
  if (statusOf(ds) == status) return core::Status();
  auto r = client_.updateStatus(kDaemonSets, strAt(metaOf(ds), "namespace"), copy);
  if (!r.ok() && r.status().isNotFound()) return core::Status();
  return r.ok() ? core::Status() : r.status();
}

}  // namespace

std::unique_ptr<Controller> newDaemonSetController(ControllerContext& ctx) {
  return std::make_unique<DaemonSetController>(ctx);
}

}  // namespace berth::controllers
