// The Deployment controller's writes to ReplicaSets and its own status (upstream sync.go:
// getNewReplicaSet, scaleReplicaSet, cleanupDeployment, syncDeploymentStatus).
#include <boost/json.hpp>

#include "controllers/deployment/deployment_controller_impl.h"

namespace berth::controllers::deployment {

namespace json = boost::json;
using client::ObjectPtr;

namespace {
ObjectPtr share(json::value v) { return std::make_shared<const json::value>(std::move(v)); }
std::string nsOf(const json::value& o) { return stringAt(o, {"metadata", "namespace"}); }
std::string nameOf(const json::value& o) { return stringAt(o, {"metadata", "name"}); }
}  // namespace

core::Result<DeploymentController::NewAndOld>
DeploymentController::getAllReplicaSetsAndSyncRevision(json::value& d, const RSList& rsList,
                                                       bool create) {
  NewAndOld out;
  out.oldRSs = findOldReplicaSets(d, rsList);
  auto newRS = getNewReplicaSet(d, rsList, out.oldRSs, create);
  if (!newRS.ok()) return newRS.status();
  out.newRS = *newRS;
  return out;
}

core::Result<ObjectPtr> DeploymentController::getNewReplicaSet(json::value& d, const RSList& rsList,
                                                               const RSList& oldRSs, bool create) {
  ObjectPtr existing = findNewReplicaSet(d, rsList);
  const long long newRevision = maxRevision(oldRSs) + 1;
  auto now = std::chrono::system_clock::now();
  json::object& status = d.as_object()["status"].is_object()
                             ? d.as_object()["status"].as_object()
                             : d.as_object()["status"].emplace_object();

  if (existing) {
    // Keep the new ReplicaSet's annotations (revision, copied annotations) and minReadySeconds
    // in step with the Deployment; then the Deployment's revision follows the ReplicaSet's.
    json::value copy = *existing;
    bool changed = setNewReplicaSetAnnotations(d, copy.as_object(), newRevision, true);
    long long minReady = intAt(d, {"spec", "minReadySeconds"});
    if (changed || intAt(copy, {"spec", "minReadySeconds"}) != minReady) {
      copy.as_object()["spec"].as_object()["minReadySeconds"] = minReady;
      auto r = client_.update(kReplicaSets, nsOf(copy), copy);
      if (!r.ok()) return r.status();
      return share(std::move(r.value()));
    }
    if (core::Status st = setRevision(d, annotation(copy, kRevisionAnnotation).value_or(""));
        !st.ok())
      return st;
    json::object& st2 = d.as_object()["status"].is_object()
                            ? d.as_object()["status"].as_object()
                            : d.as_object()["status"].emplace_object();
    if (hasProgressDeadline(d) && !getCondition(st2, "Progressing")) {
      setCondition(st2, newCondition("Progressing", "True", kFoundNewRSReason,
                                     "Found new replica set \"" + nameOf(copy) + "\"", now));
      if (core::Status st = writeStatus(d); !st.ok()) return st;
    }
    return existing;
  }
  if (!create) return ObjectPtr();

  // Create it: "<name>-<hash>", the hash also in its labels, selector and template.
  const json::value* tmpl = valueAt(d, {"spec", "template"});
  json::value newTemplate = tmpl ? *tmpl : json::value(json::object());
  std::optional<long long> collisionCount;
  if (const json::value* cc = status.if_contains("collisionCount"); cc && cc->is_number())
    collisionCount = intAt(status, {"collisionCount"});
  const std::string hash = computeHash(newTemplate, collisionCount);
  json::object& tmeta = newTemplate.as_object()["metadata"].is_object()
                            ? newTemplate.as_object()["metadata"].as_object()
                            : newTemplate.as_object()["metadata"].emplace_object();
  if (!tmeta["labels"].is_object()) tmeta["labels"] = json::object();
  tmeta["labels"].as_object()[kPodTemplateHashLabel] = hash;
  json::value selector = *valueAt(d, {"spec", "selector"});
  if (!selector.as_object()["matchLabels"].is_object())
    selector.as_object()["matchLabels"] = json::object();
  selector.as_object()["matchLabels"].as_object()[kPodTemplateHashLabel] = hash;

  json::object meta{{"name", nameOf(d) + "-" + hash},
                    {"namespace", nsOf(d)},
                    {"labels", tmeta["labels"]},
                    {"ownerReferences", json::array{newControllerRef(d, "apps/v1", "Deployment")}}};
  json::object spec{{"replicas", 0},
                    {"minReadySeconds", intAt(d, {"spec", "minReadySeconds"})},
                    {"selector", std::move(selector)},
                    {"template", std::move(newTemplate)}};
  json::object rs{{"apiVersion", "apps/v1"},
                  {"kind", "ReplicaSet"},
                  {"metadata", std::move(meta)},
                  {"spec", std::move(spec)}};
  RSList all = oldRSs;
  ObjectPtr draft = share(rs);
  all.push_back(draft);
  auto replicas = newRSNewReplicas(d, all, *draft);
  if (!replicas.ok()) return replicas.status();
  rs["spec"].as_object()["replicas"] = *replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false);

  ObjectPtr created;
  bool alreadyExists = false;
  auto r = client_.create(kReplicaSets, nsOf(d), rs);
  if (r.ok()) {
    created = share(std::move(r.value()));
  } else if (r.status().isAlreadyExists()) {
    alreadyExists = true;
    auto existingRS = client_.get(kReplicaSets, nsOf(d), nameOf(rs));
    if (!existingRS.ok()) return existingRS.status();
    auto ref = controllerOf(*existingRS);
    const json::value* t = valueAt(*existingRS, {"spec", "template"});
    if (ref && ref->uid == uidOf(d) && t && tmpl && equalIgnoreHash(*t, *tmpl)) {
      created = share(std::move(existingRS.value()));
    } else {
      // A hash collision with a ReplicaSet that is not ours: count it, so the next hash
      // differs, and try again.
      status["collisionCount"] = collisionCount.value_or(0) + 1;
      (void)writeStatus(d);
      return r.status();
    }
  } else {
    std::string msg =
        "Failed to create new replica set \"" + nameOf(rs) + "\": " + r.status().message();
    if (hasProgressDeadline(d)) {
      setCondition(status, newCondition("Progressing", "False", kFailedRSCreateReason, msg, now));
      (void)writeStatus(d);
    }
    recorder_.record(d, "Warning", kFailedRSCreateReason, msg);
    return r.status();
  }
  if (!alreadyExists && *replicas > 0) {
    recorder_.record(
        d, "Normal", "ScalingReplicaSet",
        "Scaled up replica set " + nameOf(*created) + " from 0 to " + std::to_string(*replicas));
  }
  if (core::Status st = setRevision(d, std::to_string(newRevision)); !st.ok()) return st;
  if (!alreadyExists && hasProgressDeadline(d)) {
    json::object& st2 = d.as_object()["status"].as_object();
    setCondition(st2, newCondition("Progressing", "True", kNewReplicaSetReason,
                                   "Created new replica set \"" + nameOf(*created) + "\"", now));
    if (core::Status st = writeStatus(d); !st.ok()) return st;
  }
  return created;
}

core::Result<ObjectPtr> DeploymentController::scaleReplicaSetAndRecordEvent(const ObjectPtr& rs,
                                                                            long long size,
                                                                            const json::value& d,
                                                                            bool* scaled) {
  if (scaled) *scaled = false;
  if (specReplicas(*rs) == size) return rs;
  return scaleReplicaSet(rs, size, d, specReplicas(*rs) < size ? "up" : "down", scaled);
}

core::Result<ObjectPtr> DeploymentController::scaleReplicaSet(const ObjectPtr& rs, long long size,
                                                              const json::value& d,
                                                              std::string_view operation,
                                                              bool* scaled) {
  if (scaled) *scaled = false;
  const long long desired = specReplicas(d), max = specReplicas(d) + maxSurge(d);
  const long long oldSize = specReplicas(*rs);
  bool sizeChanges = oldSize != size;
  if (!sizeChanges && !replicasAnnotationsNeedUpdate(*rs, desired, max)) return rs;
  json::value copy = *rs;
  copy.as_object()["spec"].as_object()["replicas"] = size;
  setReplicasAnnotations(copy.as_object(), desired, max);
  auto r = client_.update(kReplicaSets, nsOf(copy), copy);
  if (!r.ok()) return r.status();
  if (sizeChanges) {
    if (scaled) *scaled = true;
    recorder_.record(d, "Normal", "ScalingReplicaSet",
                     std::string(operation == "up" ? "Scaled up" : "Scaled down") +
                         " replica set " + nameOf(copy) + " from " + std::to_string(oldSize) +
                         " to " + std::to_string(size));
  }
  return share(std::move(r.value()));
}

// Old ReplicaSets beyond revisionHistoryLimit go, oldest revision first, but only empty ones
// whose controller has caught up (a ReplicaSet still scaling down keeps its history).
core::Status DeploymentController::cleanupDeployment(const RSList& oldRSs, const json::value& d) {
  if (!hasRevisionHistoryLimit(d)) return core::Status();
  RSList cleanable;
  for (const auto& rs : oldRSs)
    if (rs && !isBeingDeleted(*rs)) cleanable.push_back(rs);
  long long diff =
      static_cast<long long>(cleanable.size()) - intAt(d, {"spec", "revisionHistoryLimit"});
  if (diff <= 0) return core::Status();
  sortByRevision(cleanable);
  for (long long i = 0; i < diff; ++i) {
    const json::value& rs = *cleanable[i];
    if (statusInt(rs, "replicas") != 0 || specReplicas(rs) != 0 ||
        intAt(rs, {"metadata", "generation"}) > statusInt(rs, "observedGeneration"))
      continue;
    auto r = client_.remove(kReplicaSets, nsOf(rs), nameOf(rs));
    if (!r.ok() && !r.status().isNotFound()) return r.status();
  }
  return core::Status();
}

core::Status DeploymentController::syncDeploymentStatus(const RSList& allRSs,
                                                        const ObjectPtr& newRS, json::value& d) {
  json::object status = calculateStatus(allRSs, newRS, d, std::chrono::system_clock::now());
  const json::value* cur = valueAt(d, {"status"});
  if (cur && *cur == json::value(status)) return core::Status();
  d.as_object()["status"] = std::move(status);
  return writeStatus(d);
}

core::Status DeploymentController::writeStatus(json::value& d) {
  auto r = client_.updateStatus(kDeployments, nsOf(d), d);
  if (!r.ok()) return r.status();
  d = std::move(r.value());
  return core::Status();
}

core::Status DeploymentController::setRevision(json::value& d, const std::string& revision) {
  if (revision.empty() || annotation(d, kRevisionAnnotation) == revision) return core::Status();
  json::object patch{{"metadata", {{"annotations", {{kRevisionAnnotation, revision}}}}}};
  auto r = client_.patch(kDeployments, nsOf(d), nameOf(d), client::PatchType::kMerge,
                         json::serialize(patch));
  if (!r.ok()) return r.status();
  // Keep this sync's status work; take the stored metadata (resourceVersion, annotations).
  json::value status = d.as_object()["status"];
  d = std::move(r.value());
  d.as_object()["status"] = std::move(status);
  return core::Status();
}

}  // namespace berth::controllers::deployment
