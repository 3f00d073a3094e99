#include "controllers/statefulset/statefulset_controller.h"

#include <algorithm>
#include <map>

#include "client/event_recorder.h"
#include "controllers/framework/controller_history.h"
#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"
#include "controllers/statefulset/claim_retention.h"
#include "controllers/statefulset/sts_logic.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace statefulset;

const client::Resource kStatefulSets{"apps", "v1", "statefulsets", true};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};

// What one sync observed and did, for the status it writes (upstream's StatefulSetStatus
// computed alongside the actions).
struct Counts {
  long long replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
};

class StatefulSetController : public Controller {
 public:
  explicit StatefulSetController(ControllerContext& ctx)
      : client_(ctx.client),
        setInformer_(ctx.informers.forResource(kStatefulSets)),
        podInformer_(ctx.informers.forResource(kPods)),
        revInformer_(ctx.informers.forResource(kControllerRevisions)),
        claimInformer_(ctx.informers.forResource(kClaims)),
        recorder_(ctx.client, "statefulset-controller"),
        workers_("statefulset", ctx.metrics, [this](const std::string& k) { return sync(k); }),
        workerCount_(ctx.workers) {
    addControllerUidIndex(podInformer_);
    auto enqueue = [this](const ObjectPtr& o) { workers_.enqueue(keyOf(*o)); };
    setInformer_.addEventHandler(client::onEveryChange(enqueue));
    auto podEvent = [this](const json::value& p) {
      const json::object* ref = controllerRefOf(p);
      if (ref && strAt(*ref, "kind") == "StatefulSet" && strAt(*ref, "apiVersion") == "apps/v1") {
        workers_.enqueue(strAt(metaOf(p), "namespace") + "/" + strAt(*ref, "name"));
      } else if (!ref && !isBeingDeleted(p)) {
        // An orphan: every set selecting it may adopt it.
        for (const ObjectPtr& set : ownersSelecting(setInformer_.lister(), p))
          workers_.enqueue(keyOf(*set));
      }
    };
    podInformer_.addEventHandler(
        {[podEvent](const ObjectPtr& p) { podEvent(*p); },
         [podEvent](const ObjectPtr& o, const ObjectPtr& p) {
           if (controllerRefOf(*o) && !controllerRefOf(*p)) podEvent(*o);  // released
           podEvent(*p);
         },
         [podEvent](const client::DeletedObject& d) { podEvent(*d.object); }});
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  // One sync's view of a set: read once, then filled in by the phases of sync() in order.
  struct SetSync {
    SetSync(const std::string& key, const std::string& name, const json::value& set);
    std::string key, name;
    const json::value& set;  // the informer's copy
    std::chrono::system_clock::time_point now;
    long long minReady = 0, start = 0, count = 0, partition = 0;
    bool rolling = true, monotonic = true;  // RollingUpdate; OrderedReady
    std::string currentName, updateName;    // revisions
    json::object currentTmpl, updateTmpl;
    std::vector<ObjectPtr> pods;
    std::vector<ObjectPtr> replicas;                         // by ordinal - start
    std::vector<std::pair<long long, ObjectPtr>> condemned;  // highest ordinal first
    Counts counts;
    core::Status err;  // the first failed write
  };

  core::Status sync(const std::string& key);
  core::Status loadRevisions(SetSync& s);
  void sortPods(SetSync& s);
  bool createReplicas(SetSync& s);
  bool scaleDown(SetSync& s);
  void rollOne(SetSync& s);
  core::Status revisions(const json::value& set, ObjectPtr& current, json::value& update);
  core::Status createClaims(const json::value& set, long long ordinal, const std::string& pod);
  // Brings the claims of `pod` (ordinal `ordinal`) in line with the retention policy.
  core::Status retainClaims(const json::value& set, long long ordinal, const json::value& pod,
                            bool scaledDown);
  core::Status createPod(const json::value& set, const json::object& pod);
  core::Status deletePod(const json::value& set, const json::value& pod);
  core::Status writeStatus(const json::value& set, const Counts& c, const std::string& current,
                           const std::string& update);
  void pruneHistory(const json::value& set, const std::vector<ObjectPtr>& pods,
                    const std::string& current, const std::string& update);

  client::RestClient& client_;
  client::SharedInformer& setInformer_;
  client::SharedInformer& podInformer_;
  client::SharedInformer& revInformer_;
  client::SharedInformer& claimInformer_;
  client::EventRecorder recorder_;
  QueueWorkers workers_;
  int workerCount_;
};

core::Status StatefulSetController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  ObjectPtr setPtr = setInformer_.lister().get(ns, name);
  if (!setPtr) return core::Status();
  const json::value& set = *setPtr;
  auto selector = specSelector(set);
  if (!selector.ok() || selector->empty()) {
    recorder_.record(set, "Warning", "SelectingAll",
                     "This StatefulSet is selecting all pods. A non-empty selector is required.");
    return core::Status();
  }
  if (isBeingDeleted(set)) return core::Status();
  SetSync s(key, name, set);
  if (core::Status st = loadRevisions(s); !st.ok()) return st;
  // upstream getPodsForStatefulSet: a pod is the set's only if its name is the set's name and
  // an ordinal.
  ControllerRefManager refs(client_, kStatefulSets, set, "apps/v1", "StatefulSet", *selector);
  refs.setFilter([&name](const json::value& p) {
    return ordinalOf(name, strAt(metaOf(p), "name")).has_value();
  });
  core::Status claimError;
  s.pods = refs.claim(kPods, ownedAndOrphans(podInformer_, ns, uidOf(set)), claimError);
  if (!claimError.ok()) return claimError;
  sortPods(s);
  // Each phase returns true when this sync stops there (an error is kept in s.err); the status
  // is written either way.
  if (!createReplicas(s) && !scaleDown(s) && s.rolling) rollOne(s);
  core::Status st = writeStatus(set, s.counts, s.currentName, s.updateName);
  pruneHistory(set, s.pods, s.currentName, s.updateName);
  if (s.minReady > 0 && s.counts.ready != s.counts.available) {
    workers_.queue().addAfter(key, std::chrono::seconds(s.minReady));
  }
  return s.err.ok() ? st : s.err;
}

StatefulSetController::SetSync::SetSync(const std::string& k, const std::string& n,
                                        const json::value& s)
    : key(k), name(n), set(s), now(std::chrono::system_clock::now()) {
  minReady = intAt(specOf(set), "minReadySeconds").value_or(0);
  start = startOrdinal(set);
  count = replicasOf(set);
  const json::object& strategy = objAt(set, "spec", "updateStrategy");
  rolling = strAt(strategy, "type") != "OnDelete";
  partition = intAt(objAt(strategy, "rollingUpdate"), "partition").value_or(0);
  monotonic = strAt(specOf(set), "podManagementPolicy") != "Parallel";
}

core::Status StatefulSetController::loadRevisions(SetSync& s) {
  ObjectPtr currentRev;
  json::value updateRev;
  if (core::Status st = revisions(s.set, currentRev, updateRev); !st.ok()) return st;
  s.updateName = strAt(metaOf(updateRev), "name");
  s.currentName = currentRev ? strAt(metaOf(*currentRev), "name") : s.updateName;
  s.currentTmpl = currentRev ? revisionTemplate(*currentRev) : revisionTemplate(updateRev);
  s.updateTmpl = revisionTemplate(updateRev);
  return core::Status();
}

// Counts the pods and sorts them into the replica slots [start, start+count) and the
// condemned ones outside it (highest ordinal first).
void StatefulSetController::sortPods(SetSync& s) {
  s.replicas.assign(static_cast<size_t>(std::max(0LL, s.count)), nullptr);
  Counts& c = s.counts;
  for (const ObjectPtr& p : s.pods) {
    auto ord = ordinalOf(s.name, strAt(metaOf(*p), "name"));
    if (!ord) continue;  // not one of ours by identity: leave it alone
    ++c.replicas;
    if (isRunningAndReady(*p)) ++c.ready;
    if (isRunningAndAvailable(*p, s.minReady, s.now)) ++c.available;
    if (!isBeingDeleted(*p)) {
      std::string rev = strAt(objAt(*p, "metadata", "labels"), kRevisionLabel);
      if (rev == s.currentName) ++c.current;
      if (rev == s.updateName) ++c.updated;
    }
    if (*ord >= s.start && *ord < s.start + s.count) {
      s.replicas[static_cast<size_t>(*ord - s.start)] = p;
    } else {
      s.condemned.emplace_back(*ord, p);
    }
  }
  std::sort(s.condemned.begin(), s.condemned.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
}

// Creates missing replicas (with their claims) and replaces finished ones, in ordinal order;
// OrderedReady stops at the first replica created or not yet ready and available.
bool StatefulSetController::createReplicas(SetSync& s) {
  auto failed = [&s](core::Status st) {
    s.err = std::move(st);
    return !s.err.ok();
  };
  for (size_t i = 0; i < s.replicas.size(); ++i) {
    long long ord = s.start + static_cast<long long>(i);
    const ObjectPtr& pod = s.replicas[i];
    if (!pod) {
      // Ordinals below the partition keep the current revision's template (upstream
      // newVersionedStatefulSetPod).
      bool old = s.rolling && ord < s.start + s.partition;
      const std::string& rev = old ? s.currentName : s.updateName;
      json::object fresh = newPod(s.set, old ? s.currentTmpl : s.updateTmpl, ord, rev);
      if (failed(createClaims(s.set, ord, strAt(fresh["metadata"].as_object(), "name"))) ||
          failed(createPod(s.set, fresh))) {
        return true;
      }
      ++s.counts.replicas;
      if (rev == s.currentName) ++s.counts.current;
      if (rev == s.updateName) ++s.counts.updated;
      if (s.monotonic) return true;  // one at a time, in order
      continue;
    }
    if (isPodTerminal(*pod)) {
      // A finished pod of a set is replaced: delete now, recreate once it is gone.
      if (!isBeingDeleted(*pod)) failed(deletePod(s.set, *pod));
      return true;
    }
    if (failed(retainClaims(s.set, ord, *pod, false))) return true;
    if (podPhase(*pod) == "Pending" &&
        failed(createClaims(s.set, ord, strAt(metaOf(*pod), "name")))) {
      return true;
    }
    if (s.monotonic && (isBeingDeleted(*pod) || !isRunningAndReady(*pod) ||
                        !isRunningAndAvailable(*pod, s.minReady, s.now))) {
      return true;  // OrderedReady: the next ordinal waits for this one
    }
  }
  return false;
}

// Scale down: highest ordinal first; OrderedReady one at a time and only when healthy (except
// the first unhealthy pod, which may always go).
bool StatefulSetController::scaleDown(SetSync& s) {
  ObjectPtr firstUnhealthy;
  for (const ObjectPtr& p : s.replicas) {
    if (p && !isHealthy(*p)) {
      firstUnhealthy = p;
      break;
    }
  }
  if (!firstUnhealthy) {
    for (auto it = s.condemned.rbegin(); it != s.condemned.rend(); ++it) {
      if (!isHealthy(*it->second)) {
        firstUnhealthy = it->second;
        break;
      }
    }
  }
  for (const auto& [ord, pod] : s.condemned) {
    if (isBeingDeleted(*pod)) {
      if (s.monotonic) return true;
      continue;
    }
    if (s.monotonic && pod != firstUnhealthy &&
        (!isRunningAndReady(*pod) || !isRunningAndAvailable(*pod, s.minReady, s.now))) {
      return true;
    }
    // whenScaled=Delete: the claims go with the pod (the garbage collector follows).
    s.err = retainClaims(s.set, ord, *pod, true);
    if (s.err.ok()) s.err = deletePod(s.set, *pod);
    if (!s.err.ok() || s.monotonic) return true;
  }
  return false;
}

// Rolling update: delete the highest ordinal not at the update revision; one at a time, and
// only while everything above it is healthy. OnDelete leaves it to the user.
void StatefulSetController::rollOne(SetSync& s) {
  for (long long i = static_cast<long long>(s.replicas.size()) - 1; i >= s.partition; --i) {
    const ObjectPtr& pod = s.replicas[static_cast<size_t>(i)];
    if (!pod) break;
    if (strAt(objAt(*pod, "metadata", "labels"), kRevisionLabel) != s.updateName &&
        !isBeingDeleted(*pod)) {
      s.err = deletePod(s.set, *pod);
      if (s.err.ok()) --s.counts.current;
      break;
    }
    if (!isHealthy(*pod)) break;
  }
}

// The update revision (the current template's, created or renumbered as needed) and the
// current one (status.currentRevision when it still exists).
core::Status StatefulSetController::revisions(const json::value& set, ObjectPtr& current,
                                              json::value& update) {
  json::value data = templatePatch(set);
  std::vector<ObjectPtr> owned = ownedRevisions(revInformer_.lister(), set);
  long long maxRev = owned.empty() ? 0 : revisionNumber(*owned.back());
  ObjectPtr equal;
  for (const ObjectPtr& r : owned) {
    if (revisionMatches(*r, data)) equal = r;
  }
  if (equal && revisionNumber(*equal) == maxRev) {
    update = *equal;
  } else if (equal) {
    auto r = renumberRevision(client_, *equal, maxRev + 1);
    if (!r.ok()) return r.status();
    update = std::move(r).value();
  } else {
    std::optional<long long> collisions = intAt(statusOf(set), "collisionCount");
    std::string hash = computeHash(data, collisions);
    RevisionSpec spec;
    spec.name = strAt(metaOf(set), "name") + "-" + hash;
    spec.labels = objAt(objAt(set, "spec", "template"), "metadata", "labels");
    spec.labels[kRevisionHashLabel] = hash;
    spec.data = data;
    spec.revision = maxRev + 1;
    auto r = createRevision(client_, set, "apps/v1", "StatefulSet", spec);
    if (!r.ok()) {
      if (r.status().isConflict()) {
        json::value copy = set;
        json::value& status = copy.as_object()["status"];
        if (!status.is_object()) status = json::object();
        status.as_object()["collisionCount"] = collisions.value_or(0) + 1;
        (void)client_.updateStatus(kStatefulSets, strAt(metaOf(set), "namespace"), copy);
      }
      return r.status();
    }
    update = std::move(r).value();
  }
  std::string currentName = strAt(statusOf(set), "currentRevision");
  for (const ObjectPtr& r : owned) {
    if (strAt(metaOf(*r), "name") == currentName) current = r;
  }
  return core::Status();
}

core::Status StatefulSetController::createClaims(const json::value& set, long long ordinal,
                                                 const std::string& pod) {
  std::string ns = strAt(metaOf(set), "namespace");
  for (json::object& claim : claimsFor(set, ordinal)) {
    std::string claimName = strAt(claim["metadata"].as_object(), "name");
    if (claimInformer_.lister().get(ns, claimName)) continue;
    if (auto refs = retentionOwnerRefs(json::value(claim), set, nullptr, false)) {
      claim["metadata"].as_object()["ownerReferences"] = std::move(*refs);
    }
    auto r = client_.create(kClaims, ns, claim);
    if (!r.ok() && !r.status().isAlreadyExists()) {
      recorder_.record(set, "Warning", "FailedCreate",
                       "create Claim " + claimName + " for Pod " + pod + " in StatefulSet " +
                           strAt(metaOf(set), "name") + " failed error: " + r.status().message());
      return r.status();
    }
    if (r.ok()) {
      recorder_.record(set, "Normal", "SuccessfulCreate",
                       "create Claim " + claimName + " Pod " + pod + " in StatefulSet " +
                           strAt(metaOf(set), "name") + " success");
    }
  }
  return core::Status();
}

core::Status StatefulSetController::retainClaims(const json::value& set, long long ordinal,
                                                 const json::value& pod, bool scaledDown) {
  std::string ns = strAt(metaOf(set), "namespace");
  for (json::object& want : claimsFor(set, ordinal)) {
    ObjectPtr claim = claimInformer_.lister().get(ns, strAt(want["metadata"].as_object(), "name"));
    if (!claim) continue;
    auto refs = retentionOwnerRefs(*claim, set, &pod, scaledDown);
    if (!refs) continue;
    json::value copy = *claim;
    copy.as_object()["metadata"].as_object()["ownerReferences"] = std::move(*refs);
    auto r = client_.update(kClaims, ns, copy);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
  }
  return core::Status();
}

core::Status StatefulSetController::createPod(const json::value& set, const json::object& pod) {
  std::string podName = strAt(objAt(pod, "metadata"), "name");
  std::string setName = strAt(metaOf(set), "name");
  auto r = client_.create(kPods, strAt(metaOf(set), "namespace"), pod);
  if (!r.ok() && !r.status().isAlreadyExists()) {
    recorder_.record(set, "Warning", "FailedCreate",
                     "create Pod " + podName + " in StatefulSet " + setName +
                         " failed error: " + r.status().message());
    return r.status();
  }
  if (r.ok()) {
    recorder_.record(set, "Normal", "SuccessfulCreate",
                     "create Pod " + podName + " in StatefulSet " + setName + " successful");
  }
  return core::Status();
}

core::Status StatefulSetController::deletePod(const json::value& set, const json::value& pod) {
  std::string podName = strAt(metaOf(pod), "name");
  std::string setName = strAt(metaOf(set), "name");
  auto r = client_.remove(kPods, strAt(metaOf(pod), "namespace"), podName);
  if (!r.ok() && !r.status().isNotFound()) {
    recorder_.record(set, "Warning", "FailedDelete",
                     "delete Pod " + podName + " in StatefulSet " + setName +
                         " failed error: " + r.status().message());
    return r.status();
  }
  recorder_.record(set, "Normal", "SuccessfulDelete",
                   "delete Pod " + podName + " in StatefulSet " + setName + " successful");
  return core::Status();
}

core::Status StatefulSetController::writeStatus(const json::value& set, const Counts& c,
                                                const std::string& current,
                                                const std::string& update) {
  json::value copy = set;
  json::value& slot = copy.as_object()["status"];
  if (!slot.is_object()) slot = json::object();
  json::object& status = slot.as_object();
  status["replicas"] = c.replicas;
  status["readyReplicas"] = c.ready;
  status["availableReplicas"] = c.available;
  status["currentReplicas"] = c.current;
  status["updatedReplicas"] = c.updated;
  status["currentRevision"] = current;
  status["updateRevision"] = update;
  if (!status.contains("collisionCount")) status["collisionCount"] = 0;
  if (auto gen = intAt(metaOf(set), "generation")) status["observedGeneration"] = *gen;
  // upstream completeRollingUpdate: once every pod runs the update revision and is ready, the
  // update revision becomes the current one.
  if (strAt(objAt(set, "spec", "updateStrategy"), "type") != "OnDelete" &&
      c.updated == c.replicas && c.ready == c.replicas) {
    status["currentReplicas"] = c.updated;
    status["currentRevision"] = update;
  }
  for (const char* zeroOmitted : {"readyReplicas", "currentReplicas", "updatedReplicas"}) {
    if (intAt(status, zeroOmitted).value_or(0) == 0) status.erase(zeroOmitted);
  }
  if (status == statusOf(set)) return core::Status();
  auto r = client_.updateStatus(kStatefulSets, strAt(metaOf(set), "namespace"), copy);
  if (!r.ok() && !r.status().isNotFound()) return r.status();
  return core::Status();
}

void StatefulSetController::pruneHistory(const json::value& set, const std::vector<ObjectPtr>& pods,
                                         const std::string& current, const std::string& update) {
  std::vector<ObjectPtr> owned = ownedRevisions(revInformer_.lister(), set);
  long long limit = intAt(specOf(set), "revisionHistoryLimit").value_or(10);
  std::set<std::string> live{current, update};
  for (const ObjectPtr& p : pods)
    live.insert(strAt(objAt(*p, "metadata", "labels"), kRevisionLabel));
  std::vector<ObjectPtr> candidates;
  for (const ObjectPtr& r : owned) {
    if (!live.count(strAt(metaOf(*r), "name"))) candidates.push_back(r);
  }
  (void)pruneRevisions(client_, candidates, static_cast<long long>(candidates.size()) - limit);
}

}  // namespace

std::unique_ptr<Controller> newStatefulSetController(ControllerContext& ctx) {
  return std::make_unique<StatefulSetController>(ctx);
}

}  // namespace berth::controllers
