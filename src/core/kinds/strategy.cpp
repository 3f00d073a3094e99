// The strategy entry points of strategy.h: dispatch to the per-kind hooks, plus the generic
// create/update preparation (status reset, generation) of upstream pkg/registry strategies and
// rest.BeforeCreate/BeforeUpdate.
#include "core/kinds/strategy.h"

#include "core/kinds/internal.h"
#include "core/kinds/more_kinds.h"
#include "core/resource_behavior.h"

namespace berth::core::kinds {
namespace {

using namespace detail;

const KindOps& opsFor(const ResourceType& rt) {
  static const KindOps kGeneric;  // unknown kinds: metadata rules only
  const KindOps* ops = nullptr;
  if (rt.group.empty()) {
    ops = coreOps(rt.kind);
  } else if (rt.group == "apps") {
    ops = appsOps(rt.kind);
  } else if (rt.group == "batch") {
    ops = batchOps(rt.kind);
  } else {
    ops = otherOps(rt.group, rt.kind);
  }
  if (ops == nullptr) ops = moreOps(rt.group, rt.kind);
  return ops != nullptr ? *ops : kGeneric;
}

bool isHpa(const ResourceType& rt) {
  return rt.group == "autoscaling" && rt.kind == "HorizontalPodAutoscaler";
}

// Metadata fields a status update may not change (upstream ResetObjectMetaForStatus).
void resetMetaForStatus(json::object& meta, const json::object& oldMeta, bool allowLabels) {
  std::vector<const char*> fields = {"deletionTimestamp", "generation", "selfLink", "finalizers",
                                     "ownerReferences"};
  if (!allowLabels) {
    fields.push_back("labels");
    fields.push_back("annotations");
  }
  for (const char* f : fields) {
    if (const json::value* v = oldMeta.if_contains(f)) {
      meta[f] = *v;
    } else {
      meta.erase(f);
    }
  }
}

}  // namespace

void applyDefaults(const ResourceType& rt, boost::json::object& obj) {
  const KindOps& ops = opsFor(rt);
  if (ops.defaults) ops.defaults(obj);
  if (rt.behavior) rt.behavior->applyDefaults(obj);
}

FieldErrors validateCreate(const ResourceType& rt, const boost::json::object& obj) {
  FieldErrors errs;
  const KindOps& ops = opsFor(rt);
  validateObjectMeta(obj, rt.namespaced, ops.nameFn, errs);
  if (ops.validate) ops.validate(obj, errs);
  if (rt.behavior) {
    for (auto& e : rt.behavior->validate(obj, nullptr)) errs.push_back(std::move(e));
  }
  return errs;
}

FieldErrors validateUpdate(const ResourceType& rt, const boost::json::object& obj,
                           const boost::json::object& old, std::vector<std::string>* warnings) {
  FieldErrors errs;
  const KindOps& ops = opsFor(rt);
  validateObjectMetaUpdate(obj, old, errs);
  if (ops.validate) ops.validate(obj, errs);
  if (ops.validateUpdate) ops.validateUpdate(obj, old, errs);
  if (rt.behavior) {
    for (auto& e : rt.behavior->validate(obj, &old, warnings)) errs.push_back(std::move(e));
  }
  return errs;
}

void prepareForCreate(const ResourceType& rt, boost::json::object& obj) {
  const KindOps& ops = opsFor(rt);
  if (rt.hasSubresource("status") && !ops.keepStatusOnCreate) obj["status"] = json::object();
  if (tracksGeneration(rt)) {
    ensureObj(obj, "metadata")["generation"] = 1;
  } else {
    ensureObj(obj, "metadata").erase("generation");
  }
  if (ops.prepareCreate) ops.prepareCreate(obj);
  if (rt.behavior) rt.behavior->prepareForCreate(obj);
}

void prepareForUpdate(const ResourceType& rt, boost::json::object& obj,
                      const boost::json::object& old, bool statusUpdate) {
  const KindOps& ops = opsFor(rt);
  json::object& meta = ensureObj(obj, "metadata");
  static const json::object kEmpty;
  const json::object* om = getObj(old, "metadata");
  const json::object& oldMeta = om != nullptr ? *om : kEmpty;
  // rest.BeforeUpdate: identity fields a client may omit come from the stored object.
  for (const char* f : {"uid", "creationTimestamp"}) {
    if (!has(meta, f) && has(oldMeta, f)) meta[f] = oldMeta.at(f);
  }
  if (statusUpdate) {
    json::value status = obj.contains("status") ? obj["status"] : json::value(json::object());
    json::object next = old;
    json::object newMeta = meta;
    resetMetaForStatus(newMeta, oldMeta, ops.statusUpdatesMetadata);
    next["metadata"] = std::move(newMeta);
    next["status"] = std::move(status);
    obj = std::move(next);
    if (rt.behavior) rt.behavior->prepareForUpdate(obj, old, statusUpdate);
    return;
  }
  if (rt.hasSubresource("status")) {
    if (const json::value* s = old.if_contains("status")) {
      obj["status"] = *s;
    } else {
      obj.erase("status");
    }
  }
  if (ops.prepareUpdate) ops.prepareUpdate(obj, old);
  if (rt.behavior) rt.behavior->prepareForUpdate(obj, old, statusUpdate);
}

void setGenerationAfterUpdate(const ResourceType& rt, json::object& next, const json::object& old,
                              bool statusUpdate) {
  const json::object* oldMeta = getObj(old, "metadata");
  json::object& meta = ensureObj(next, "metadata");
  if (!tracksGeneration(rt)) {
    meta.erase("generation");
    return;
  }
  int64_t generation = oldMeta ? getInt(*oldMeta, "generation").value_or(1) : 1;
  // Both sides are defaulted here: a client omitting defaulted fields does not change the spec.
  if (!statusUpdate && !sameJson(getVal(next, "spec"), getVal(old, "spec"))) ++generation;
  meta["generation"] = generation;
}

void prepareForUpdate(const ResourceType& rt, boost::json::object& obj,
                      const boost::json::object& old, std::string_view subresource) {
  const KindOps& ops = opsFor(rt);
  if (!subresource.empty() && subresource != "status" && ops.prepareSubresource) {
    ops.prepareSubresource(subresource, obj, old);
    return;
  }
  prepareForUpdate(rt, obj, old, subresource == "status");
  if (subresource == "status" && ops.prepareStatusUpdate) ops.prepareStatusUpdate(obj, old);
}

void recordRequester(const ResourceType& rt, boost::json::object& obj, const Requester& user) {
  const KindOps& ops = opsFor(rt);
  if (ops.recordRequester) ops.recordRequester(obj, user);
}

bool tracksGeneration(const ResourceType& rt) {
  if (rt.behavior) return rt.behavior->tracksGeneration();
  static const std::pair<const char*, const char*> kTracked[] = {
      {"apps", "Deployment"},
      {"apps", "ReplicaSet"},
      {"apps", "DaemonSet"},
      {"apps", "StatefulSet"},
      {"", "ReplicationController"},
      {"batch", "Job"},
      {"batch", "CronJob"},
      {"autoscaling", "HorizontalPodAutoscaler"},
      {"policy", "PodDisruptionBudget"},
      {"networking.k8s.io", "Ingress"},
      {"networking.k8s.io", "IngressClass"},
      {"flowcontrol.apiserver.k8s.io", "FlowSchema"},
      {"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"},
  };
  for (const auto& [group, kind] : kTracked) {
    if (rt.group == group && rt.kind == kind) return true;
  }
  return false;
}

namespace {

// events.k8s.io/v1 Event ↔ core/v1 Event: one stored object, two shapes (upstream's
// pkg/apis/events conversion). Pairs are {events.k8s.io name, core name}.
constexpr std::pair<std::string_view, std::string_view> kEventFields[] = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"reportingController", "reportingComponent"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
};

bool isEventsV1(const ResourceType& rt) { return rt.group == "events.k8s.io"; }

void renameFields(boost::json::object& obj, bool toCore) {
  for (const auto& [ev, core] : kEventFields) {
    std::string_view from = toCore ? ev : core;
    std::string_view to = toCore ? core : ev;
    if (auto* v = obj.if_contains(from)) {
      boost::json::value moved = std::move(*v);
      obj.erase(from);
      obj[to] = std::move(moved);
    }
  }
}

}  // namespace

Status convertToStorage(const ResourceType& rt, boost::json::object& obj) {
  if (rt.behavior) return rt.behavior->convertToStorage(rt, obj);
  if (isEventsV1(rt)) {
    renameFields(obj, /*toCore=*/true);
    obj["apiVersion"] = "v1";
    obj["kind"] = "Event";
    return {};
  }
  if (isHpa(rt)) {
    std::string_view apiVersion = getStr(obj, "apiVersion");
    if (apiVersion == "autoscaling/v1" || (apiVersion.empty() && rt.version == "v1")) {
      hpaV1ToV2(obj);
    }
  }
  obj["apiVersion"] = rt.group.empty() ? rt.storageVersion : rt.group + "/" + rt.storageVersion;
  if (getStr(obj, "kind").empty()) obj["kind"] = rt.kind;
  return {};
}

Status convertFromStorage(const ResourceType& rt, boost::json::object& obj) {
  if (rt.behavior) return rt.behavior->convertFromStorage(rt, obj);
  if (isEventsV1(rt)) {
    if (getStr(obj, "apiVersion") != "events.k8s.io/v1") renameFields(obj, /*toCore=*/false);
    obj["apiVersion"] = rt.apiVersion();
    obj["kind"] = "Event";
    return {};
  }
  if (isHpa(rt) && rt.version == "v1" && getStr(obj, "apiVersion") != "autoscaling/v1") {
    hpaV2ToV1(obj);
  }
  obj["apiVersion"] = rt.apiVersion();
  if (getStr(obj, "kind").empty()) obj["kind"] = rt.kind;
  return {};
}

Status convertListFromStorage(const ResourceType& rt,
                              const std::vector<boost::json::object*>& objs) {
  if (rt.behavior) return rt.behavior->convertListFromStorage(rt, objs);
  for (boost::json::object* o : objs) (void)convertFromStorage(rt, *o);
  return {};
}

}  // namespace berth::core::kinds
