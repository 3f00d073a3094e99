// The Deployment controller's rollout steps: rolling update and recreate (upstream rolling.go,
// recreate.go), scaling events and proportional scaling (sync.go's sync/scale), and the
// Progressing condition (progress.go).
#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "controllers/deployment/deployment_controller_impl.h"

namespace berth::controllers::deployment {

namespace json = boost::json;
using client::ObjectPtr;

namespace {
RSList withNew(RSList olds, const ObjectPtr& newRS) {
  olds.push_back(newRS);  // may be null, as upstream's append(oldRSs, newRS)
  return olds;
}
RSList nonNull(const RSList& rss) {
  RSList out;
  for (const auto& rs : rss)
    if (rs) out.push_back(rs);
  return out;
}
}  // namespace

core::Status DeploymentController::syncStatusOnly(json::value& d, const RSList& rsList) {
  auto all = getAllReplicaSetsAndSyncRevision(d, rsList, false);
  if (!all.ok()) return all.status();
  return syncDeploymentStatus(nonNull(withNew(all->oldRSs, all->newRS)), all->newRS, d);
}

// A scaling event or a paused Deployment: resize, no rollout.
core::Status DeploymentController::syncScale(json::value& d, const RSList& rsList) {
  auto all = getAllReplicaSetsAndSyncRevision(d, rsList, false);
  if (!all.ok()) return all.status();
  if (core::Status st = scale(d, all->newRS, all->oldRSs); !st.ok()) return st;
  if (isPaused(d)) {
    if (core::Status st = cleanupDeployment(all->oldRSs, d); !st.ok()) return st;
  }
  // Re-read what scale() wrote so the status counts the new sizes.
  RSList fresh;
  for (const auto& rs : nonNull(withNew(all->oldRSs, all->newRS))) {
    ObjectPtr cur = rsInformer_.lister().get(stringAt(*rs, {"metadata", "namespace"}),
                                             stringAt(*rs, {"metadata", "name"}));
    fresh.push_back(cur ? cur : rs);
  }
  ObjectPtr newRS;
  for (const auto& rs : fresh)
    if (all->newRS && uidOf(*rs) == uidOf(*all->newRS)) newRS = rs;
  return syncDeploymentStatus(fresh, newRS, d);
}

core::Status DeploymentController::scale(const json::value& d, const ObjectPtr& newRS,
                                         const RSList& oldRSs) {
  // One active ReplicaSet (or none): it simply takes the Deployment's size.
  if (ObjectPtr only = findActiveOrLatest(newRS, oldRSs)) {
    if (specReplicas(*only) == specReplicas(d)) return core::Status();
    return scaleReplicaSetAndRecordEvent(only, specReplicas(d), d, nullptr).status();
  }
  // A saturated new ReplicaSet (adopted mid-rollout, say): old ones go to zero.
  if (isSaturated(d, newRS)) {
    for (const auto& old : filterActive(oldRSs)) {
      auto r = scaleReplicaSetAndRecordEvent(old, 0, d, nullptr);
      if (!r.ok()) return r.status();
    }
    return core::Status();
  }
  if (!isRollingUpdate(d)) return core::Status();
  // Several active ReplicaSets mid-rollout: spread the change in proportion to their sizes.
  RSList all = filterActive(withNew(oldRSs, newRS));
  long long allowed = specReplicas(d) > 0 ? specReplicas(d) + maxSurge(d) : 0;
  long long toAdd = allowed - sumSpecReplicas(all);
  std::string operation;
  if (toAdd > 0) {
    sortBySizeNewer(all);  // scaling up: the newest of equal size first
    operation = "up";
  } else if (toAdd < 0) {
    sortBySizeOlder(all);  // scaling down: the oldest of equal size first
    operation = "down";
  }
  long long added = 0;
  std::vector<long long> sizes;
  for (const auto& rs : all) {
    long long proportion = toAdd != 0 ? getProportion(*rs, d, toAdd, added) : 0;
    sizes.push_back(specReplicas(*rs) + proportion);
    added += proportion;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    // Rounding leftovers go to the first (largest) ReplicaSet.
    if (i == 0 && toAdd != 0) sizes[0] = std::max(0LL, sizes[0] + toAdd - added);
    auto r = scaleReplicaSet(all[i], sizes[i], d, operation, nullptr);
    if (!r.ok()) return r.status();
  }
  return core::Status();
}

// ---- rolling update --------------------------------------------------------------------------

core::Status DeploymentController::rolloutRolling(json::value& d, const RSList& rsList) {
  auto all = getAllReplicaSetsAndSyncRevision(d, rsList, true);
  if (!all.ok()) return all.status();
  ObjectPtr newRS = all->newRS;
  RSList allRSs = withNew(all->oldRSs, newRS);

  auto scaledUp = reconcileNewReplicaSet(allRSs, newRS, d);
  if (!scaledUp.ok()) return scaledUp.status();
  allRSs = withNew(all->oldRSs, newRS);
  if (*scaledUp) return syncRolloutStatus(allRSs, newRS, d);

  auto scaledDown = reconcileOldReplicaSets(allRSs, filterActive(all->oldRSs), newRS, d);
  if (!scaledDown.ok()) return scaledDown.status();
  if (*scaledDown) return syncRolloutStatus(allRSs, newRS, d);

  if (const json::value* s = valueAt(d, {"status"});
      s && s->is_object() && deploymentComplete(d, s->get_object())) {
    if (core::Status st = cleanupDeployment(all->oldRSs, d); !st.ok()) return st;
  }
  return syncRolloutStatus(allRSs, newRS, d);
}

core::Result<bool> DeploymentController::reconcileNewReplicaSet(const RSList& allRSs,
                                                                ObjectPtr& newRS,
                                                                const json::value& d) {
  long long want = specReplicas(d);
  if (specReplicas(*newRS) == want) return false;
  long long target = want;
  if (specReplicas(*newRS) < want) {
    auto n = newRSNewReplicas(d, allRSs, *newRS);
    if (!n.ok()) return n.status();
    target = *n;
  }
  bool scaled = false;
  auto r = scaleReplicaSetAndRecordEvent(newRS, target, d, &scaled);
  if (!r.ok()) return r.status();
  newRS = *r;
  return scaled;
}

core::Result<bool> DeploymentController::reconcileOldReplicaSets(const RSList& allRSs,
                                                                 RSList oldRSs,
                                                                 const ObjectPtr& newRS,
                                                                 const json::value& d) {
  if (sumSpecReplicas(oldRSs) == 0) return false;
  long long minAvailable = specReplicas(d) - maxUnavailable(d);
  // Never count on new pods that are not available yet: with them the old ones could be scaled
  // below minAvailable (upstream's worked example in rolling.go).
  long long newUnavailable = specReplicas(*newRS) - statusInt(*newRS, "availableReplicas");
  long long maxScaledDown = sumSpecReplicas(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  // Unhealthy old replicas go first: removing them costs no availability
  // (kubernetes#16737: otherwise they can block the rollout until it times out).
  sortByCreation(oldRSs);
  long long cleaned = 0;
  for (auto& rs : oldRSs) {
    if (cleaned >= maxScaledDown) break;
    long long size = specReplicas(*rs), avail = statusInt(*rs, "availableReplicas");
    if (size == 0 || size == avail) continue;
    long long down = std::min(maxScaledDown - cleaned, size - avail);
    auto r = scaleReplicaSetAndRecordEvent(rs, size - down, d, nullptr);
    if (!r.ok()) return false;  // upstream: retried on the next sync
    rs = *r;
    cleaned += down;
  }

  // Then scale down while enough pods stay available.
  long long scaledDown = 0;
  RSList all2 = withNew(oldRSs, newRS);
  long long availableCount = sumStatus(all2, "availableReplicas");
  if (availableCount > minAvailable) {
    long long total = availableCount - minAvailable;
    for (const auto& rs : oldRSs) {
      if (scaledDown >= total) break;
      if (specReplicas(*rs) == 0) continue;
      long long down = std::min(specReplicas(*rs), total - scaledDown);
      auto r = scaleReplicaSetAndRecordEvent(rs, specReplicas(*rs) - down, d, nullptr);
      if (!r.ok()) return false;
      scaledDown += down;
    }
  }
  return cleaned + scaledDown > 0;
}

// ---- recreate --------------------------------------------------------------------------------

namespace {
bool oldPodsRunning(const ObjectPtr& newRS, const RSList& oldRSs, const PodMap& pods) {
  if (sumStatus(oldRSs, "replicas") > 0) return true;
  for (const auto& [rsUid, list] : pods) {
    if (newRS && rsUid == uidOf(*newRS)) continue;
    for (const auto& pod : list) {
      std::string phase = stringAt(*pod, {"status", "phase"});
      if (phase != "Failed" && phase != "Succeeded") return true;  // Unknown counts as running
    }
  }
  return false;
}
}  // namespace

core::Status DeploymentController::rolloutRecreate(json::value& d, const RSList& rsList,
                                                   const PodMap& pods) {
  // No new ReplicaSet yet: nothing may scale up before the old pods are gone.
  auto all = getAllReplicaSetsAndSyncRevision(d, rsList, false);
  if (!all.ok()) return all.status();
  RSList allRSs = withNew(all->oldRSs, all->newRS);
  bool scaledDown = false;
  for (const auto& rs : filterActive(all->oldRSs)) {
    bool scaled = false;
    auto r = scaleReplicaSetAndRecordEvent(rs, 0, d, &scaled);
    if (!r.ok()) return r.status();
    scaledDown |= scaled;
  }
  if (scaledDown || oldPodsRunning(all->newRS, all->oldRSs, pods))
    return syncRolloutStatus(allRSs, all->newRS, d);
  if (!all->newRS) {
    all = getAllReplicaSetsAndSyncRevision(d, rsList, true);
    if (!all.ok()) return all.status();
    allRSs = withNew(all->oldRSs, all->newRS);
  }
  auto r = scaleReplicaSetAndRecordEvent(all->newRS, specReplicas(d), d, nullptr);
  if (!r.ok()) return r.status();
  if (const json::value* s = valueAt(d, {"status"});
      s && s->is_object() && deploymentComplete(d, s->get_object())) {
    if (core::Status st = cleanupDeployment(all->oldRSs, d); !st.ok()) return st;
  }
  return syncRolloutStatus(allRSs, *r, d);
}

// ---- progress --------------------------------------------------------------------------------

core::Status DeploymentController::syncRolloutStatus(const RSList& allRSsIn, const ObjectPtr& newRS,
                                                     json::value& d) {
  RSList allRSs = nonNull(allRSsIn);
  auto now = std::chrono::system_clock::now();
  json::object status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, "Progressing");
  static const json::object kEmpty;
  const json::value* cur = valueAt(d, {"status"});
  const json::object& curStatus = cur && cur->is_object() ? cur->get_object() : kEmpty;
  const json::object* currentCond = getCondition(curStatus, "Progressing");
  // One complete rollout is not re-estimated on every resync.
  bool complete = intAt(status, {"replicas"}) == intAt(status, {"updatedReplicas"}) &&
                  currentCond && stringAt(*currentCond, {"reason"}) == kNewRSAvailableReason;
  if (hasProgressDeadline(d) && !complete) {
    std::string subject = newRS ? "ReplicaSet \"" + stringAt(*newRS, {"metadata", "name"}) + "\""
                                : "Deployment \"" + stringAt(d, {"metadata", "name"}) + "\"";
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition("Progressing", "True", kNewRSAvailableReason,
                                        subject + " has successfully progressed.", now));
    } else if (deploymentProgressing(d, status)) {
      // Progress refreshes lastUpdateTime even with the same reason (the deadline counts from
      // the last progress), keeping lastTransitionTime while the status stays True.
      json::object cond = newCondition("Progressing", "True", kReplicaSetUpdatedReason,
                                       subject + " is progressing.", now);
      if (currentCond && stringAt(*currentCond, {"status"}) == "True")
        cond["lastTransitionTime"] = currentCond->at("lastTransitionTime");
      removeCondition(status, "Progressing");
      setCondition(status, std::move(cond));
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition("Progressing", "False", kTimedOutReason,
                                        subject + " has timed out progressing.", now));
    }
  }
  // ReplicaSet failures (a pod create refused) surface on the Deployment.
  json::object failure;
  for (const auto& rs : allRSs) {
    const json::value* conds = valueAt(*rs, {"status", "conditions"});
    if (!conds || !conds->is_array()) continue;
    for (const auto& c : conds->get_array()) {
      if (stringAt(c, {"type"}) != "ReplicaFailure" || !failure.empty()) continue;
      failure = {{"type", "ReplicaFailure"},
                 {"status", stringAt(c, {"status"})},
                 {"lastUpdateTime", stringAt(c, {"lastTransitionTime"})},
                 {"lastTransitionTime", stringAt(c, {"lastTransitionTime"})},
                 {"reason", stringAt(c, {"reason"})},
                 {"message", stringAt(c, {"message"})}};
    }
  }
  if (!failure.empty()) {
    setCondition(status, std::move(failure));
  } else {
    removeCondition(status, "ReplicaFailure");
  }
  if (json::value(status) == (cur ? *cur : json::value(kEmpty))) {
    requeueStuckDeployment(d, status);
    return core::Status();
  }
  d.as_object()["status"] = std::move(status);
  return writeStatus(d);
}

// A rollout that shows no progress must be looked at again when its deadline passes, or the
// timeout would only be noticed at the next resync (kubernetes#34458).
void DeploymentController::requeueStuckDeployment(const json::value& d,
                                                  const json::object& status) {
  static const json::object kEmpty;
  const json::value* cur = valueAt(d, {"status"});
  const json::object* cond =
      getCondition(cur && cur->is_object() ? cur->get_object() : kEmpty, "Progressing");
  if (!hasProgressDeadline(d) || !cond) return;
  if (deploymentComplete(d, status) || stringAt(*cond, {"reason"}) == kTimedOutReason) return;
  auto last = parseTime(stringAt(*cond, {"lastUpdateTime"}));
  if (!last) return;
  auto after = *last + std::chrono::seconds(intAt(d, {"spec", "progressDeadlineSeconds"})) -
               std::chrono::system_clock::now();
  if (after < std::chrono::seconds(1)) {
    workers_.queue().addRateLimited(keyOf(d));
  } else {
    workers_.queue().addAfter(keyOf(d), std::chrono::duration_cast<client::Clock::Duration>(
                                            after + std::chrono::seconds(1)));
  }
}

}  // namespace berth::controllers::deployment
