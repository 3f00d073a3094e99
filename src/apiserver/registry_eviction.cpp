// pods/eviction: a delete that respects PodDisruptionBudgets, as upstream's EvictionREST
// (pkg/registry/core/pod/storage/eviction.go). An eviction spends one of the matching budget's
// disruptionsAllowed by writing the pod into the budget's status.disruptedPods, guarded by the
// budget's resourceVersion, so two evictions racing for the last allowed disruption cannot both
// win; the disruption controller then recomputes the status (and drops the entry after two
// minutes if the pod was not deleted after all).
#include <boost/json.hpp>

#include "apiserver/registry.h"
#include "apiserver/registry_internal.h"
#include "core/json_access.h"
#include "core/labels.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::ResourceType;
using namespace registry_detail;

namespace {

// Upstream's MaxDisruptedPodSize.
constexpr size_t kMaxDisruptedPods = 2000;
constexpr int kMaxBudgetRetries = 20;
const char* const kViolation = "Cannot evict pod as it would violate the pod's disruption budget.";

int64_t intField(const json::object* o, std::string_view key) {
  auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_int64() ? v->as_int64() : 0;
}

bool podReady(const json::object& pod) {
  const auto* st = core::objectField(pod, "status");
  auto* conds = st ? st->if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : conds->as_array())
    if (c.is_object() && core::stringField(c.as_object(), "type") == "Ready")
      return core::stringField(c.as_object(), "status") == "True";
  return false;
}

// Upstream's canIgnorePDB: terminal and Pending pods and pods already being deleted are
// evicted without consulting any budget.
bool canIgnoreBudget(const json::object& pod) {
  const auto* st = core::objectField(pod, "status");
  std::string phase = st ? core::stringField(*st, "phase") : "";
  const auto* meta = core::objectField(pod, "metadata");
  return phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
         (meta && meta->contains("deletionTimestamp"));
}

Status budgetCause(Status st, std::string message) {
  st.withCauses({{"DisruptionBudget", std::move(message), ""}});
  return st;
}

// Sets the DisruptionAllowed condition as upstream's UpdateDisruptionAllowedCondition.
void markInsufficient(json::object& status, int64_t observedGeneration) {
  auto& condsV = status["conditions"];
  if (!condsV.is_array()) condsV = json::array();
  for (auto& c : condsV.as_array()) {
    if (!c.is_object() || core::stringField(c.as_object(), "type") != "DisruptionAllowed") continue;
    auto& o = c.as_object();
    if (core::stringField(o, "status") != "False") o["lastTransitionTime"] = nowRfc3339();
    o["status"] = "False";
    o["reason"] = "InsufficientPods";
    o["observedGeneration"] = observedGeneration;
    return;
  }
  condsV.as_array().push_back(json::object{{"type", "DisruptionAllowed"},
                                           {"status", "False"},
                                           {"observedGeneration", observedGeneration},
                                           {"lastTransitionTime", nowRfc3339()},
                                           {"reason", "InsufficientPods"},
                                           {"message", ""}});
}

}  // namespace

Result<json::object> Registry::evict(const std::string& ns, const std::string& name,
                                     const json::object& eviction) {
  if (const auto* m = core::objectField(eviction, "metadata")) {
    std::string evName = core::stringField(*m, "name");
    if (!evName.empty() && evName != name)
      return Status::badRequest("name in URL does not match name in Eviction object");
  }
  DeleteOptions d;
  if (const auto* o = core::objectField(eviction, "deleteOptions")) {
    if (auto* g = o->if_contains("gracePeriodSeconds"); g && g->is_int64())
      d.gracePeriodSeconds = g->as_int64();
    if (const auto* p = core::objectField(*o, "preconditions")) {
      d.preconditionUid = core::stringField(*p, "uid");
      d.preconditionResourceVersion = core::stringField(*p, "resourceVersion");
    }
    if (auto* dr = o->if_contains("dryRun"); dr && dr->is_array() && !dr->as_array().empty())
      d.dryRun = true;
  }
  const auto* podType = core::findResource("", "v1", "pods");
  auto podCur = readCurrent(*podType, storageKey(*podType, ns, name), name);
  if (!podCur.ok()) return podCur.status();
  const json::object& pod = podCur->obj;
  if (!canIgnoreBudget(pod)) {
    if (auto st = spendDisruption(ns, name, pod, d.dryRun); !st.ok()) return st;
  }
  auto r = remove(*podType, ns, name, d);
  if (!r.ok()) return r.status();
  json::object st = Status().toJson();
  st["status"] = "Success";
  st["code"] = 201;
  return st;
}

// Upstream's checkAndDecrement over the one budget matching the pod, retried on conflict.
Status Registry::spendDisruption(const std::string& ns, const std::string& podName,
                                 const json::object& pod, bool dryRun) {
  const auto* pdbType = core::findResource("policy", "v1", "poddisruptionbudgets");
  auto podLabels = core::labelsOf(pod);
  for (int attempt = 0; attempt < kMaxBudgetRetries; ++attempt) {
    ListRequest lr;
    lr.namespace_ = ns;
    auto listed = list(*pdbType, lr);
    if (!listed.ok()) return listed.status();
    std::vector<std::string> matching;
    for (const auto& o : listed->items) {
      auto parsed = parseStored(o->json);
      if (!parsed.ok()) continue;
      const auto* spec = core::objectField(*parsed, "spec");
      const auto* sel = spec ? core::objectField(*spec, "selector") : nullptr;
      if (!sel) continue;  // no selector selects nothing; an empty one selects every pod
      auto s = core::LabelSelector::fromJson(*sel);
      if (s.ok() && s->matches(podLabels)) matching.push_back(o->name);
    }
    if (matching.empty()) return {};
    if (matching.size() > 1) {
      return Status::internal(
          "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
          "not support.");
    }
    const std::string& pdbName = matching.front();
    auto cur = readCurrent(*pdbType, storageKey(*pdbType, ns, pdbName), pdbName);
    if (cur.status().isNotFound()) continue;
    if (!cur.ok()) return cur.status();
    json::object pdb = cur->obj;
    const auto* spec = core::objectField(pdb, "spec");
    const auto* status = core::objectField(pdb, "status");
    const auto* meta = core::objectField(pdb, "metadata");
    int64_t observed = intField(status, "observedGeneration");
    int64_t allowed = intField(status, "disruptionsAllowed");
    // An unready pod may go while the budget is met anyway (IfHealthyBudget, the default), or
    // always (AlwaysAllow): evicting it costs no healthy pod.
    if (!podReady(pod)) {
      std::string policy = spec ? core::stringField(*spec, "unhealthyPodEvictionPolicy") : "";
      int64_t desired = intField(status, "desiredHealthy");
      if (policy == "AlwaysAllow" || (intField(status, "currentHealthy") >= desired && desired > 0))
        return {};
    }
    if (observed < intField(meta, "generation")) {
      return budgetCause(
          Status::tooManyRequests(kViolation, 10),
          "The disruption budget " + pdbName + " is still being processed by the server.");
    }
    if (allowed < 0)
      return Status::forbidden("poddisruptionbudget.policy \"" + pdbName +
                               "\" is forbidden: pdb disruptions allowed is negative");
    const auto* disrupted = status ? core::objectField(*status, "disruptedPods") : nullptr;
    if (disrupted && disrupted->size() > kMaxDisruptedPods)
      return Status::forbidden("poddisruptionbudget.policy \"" + pdbName +
                               "\" is forbidden: DisruptedPods map too big - too many evictions "
                               "not confirmed by PDB controller");
    if (allowed == 0) {
      return budgetCause(Status::tooManyRequests(kViolation),
                         "The disruption budget " + pdbName + " needs " +
                             std::to_string(intField(status, "desiredHealthy")) +
                             " healthy pods and has " +
                             std::to_string(intField(status, "currentHealthy")) + " currently");
    }
    if (dryRun) return {};
    auto& stV = pdb["status"];
    if (!stV.is_object()) stV = json::object();
    auto& st = stV.as_object();
    st["disruptionsAllowed"] = allowed - 1;
    if (allowed - 1 == 0) markInsufficient(st, observed);
    auto& dp = st["disruptedPods"];
    if (!dp.is_object()) dp = json::object();
    dp.as_object()[podName] = nowRfc3339();
    // The write is conditional on the budget's revision: a concurrent eviction (or the
    // controller's status update) makes it fail, and the loop re-reads the budget.
    auto written = persistUpdate(*pdbType, std::move(pdb), cur->modRevision, false);
    if (written.ok()) return {};
    if (!written.status().isConflict()) return written.status();
  }
  return Status::tooManyRequests(kViolation, 1);
}

}  // namespace berth::apiserver
