// Reconciling the bootstrap RBAC policy on start, as upstream's RBAC post-start hook does with
// reconciliation.ReconcileClusterRole / ReconcileRoleBinding: missing objects are created;
// existing ones annotated rbac.authorization.k8s.io/autoupdate other than "false" get the
// labels, annotations, rules (those not already covered), aggregation selectors and subjects
// they lack. A binding whose roleRef differs is recreated (roleRef is immutable). Bootstrap
// objects an earlier Berth created and this one retired are deleted (upstream never retires
// any); the ServiceAccount of the NetworkPolicy identity is created here too.
#include <boost/json.hpp>

#include <algorithm>

#include "apiserver/authorization.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac_rules.h"
#include "apiserver/registry.h"
#include "core/json_access.h"
#include "core/resources.h"

namespace berth::apiserver {
namespace json = boost::json;
namespace {

WriteOptions serverWrite() {
  WriteOptions wo;
  wo.fieldManager = "berth-apiserver";
  // The server's own loopback identity, as upstream's (system:apiserver in system:masters).
  wo.requester = {"system:apiserver", {"system:masters"}, "", {}};
  return wo;
}

json::object& objectAt(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

json::array& arrayAt(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}

// Adds the wanted labels and annotations the object lacks; true when something changed.
bool mergeMeta(json::object& current, const json::object& wanted) {
  bool changed = false;
  json::object& meta = objectAt(current, "metadata");
  const json::object* wmeta = core::objectField(wanted, "metadata");
  for (const char* field : {"labels", "annotations"}) {
    const json::object* w = wmeta ? core::objectField(*wmeta, field) : nullptr;
    if (w == nullptr) continue;
    json::object& have = objectAt(meta, field);
    for (const auto& kv : *w) {
      if (have.contains(kv.key())) continue;
      have[kv.key()] = kv.value();
      changed = true;
    }
  }
  return changed;
}

bool autoupdate(const json::object& obj) {
  const json::object* meta = core::objectField(obj, "metadata");
  const json::object* ann = meta ? core::objectField(*meta, "annotations") : nullptr;
  return ann == nullptr ||
         core::stringField(*ann, "rbac.authorization.k8s.io/autoupdate") != "false";
}

bool mergeRole(json::object& current, const json::object& wanted) {
  bool changed = mergeMeta(current, wanted);
  // Aggregated roles get their rules from the aggregation loop; only their selectors merge.
  if (const json::object* wagg = core::objectField(wanted, "aggregationRule")) {
    json::array& have = arrayAt(objectAt(current, "aggregationRule"), "clusterRoleSelectors");
    if (const json::value* ws = wagg->if_contains("clusterRoleSelectors"); ws && ws->is_array()) {
      for (const auto& sel : ws->as_array()) {
        if (std::find(have.begin(), have.end(), sel) != have.end()) continue;
        have.push_back(sel);
        changed = true;
      }
    }
    return changed;
  }
  std::vector<authz::PolicyRule> haveRules = authz::rulesOf(current);
  json::array& rules = arrayAt(current, "rules");
  if (const json::value* wr = wanted.if_contains("rules"); wr && wr->is_array()) {
    for (const auto& r : wr->as_array()) {
      if (!r.is_object()) continue;
      if (authz::covers(haveRules, {authz::PolicyRule::fromJson(r.as_object())})) continue;
      rules.push_back(r);
      changed = true;
    }
  }
  return changed;
}

bool mergeSubjects(json::object& current, const json::object& wanted) {
  bool changed = mergeMeta(current, wanted);
  json::array& have = arrayAt(current, "subjects");
  if (const json::value* ws = wanted.if_contains("subjects"); ws && ws->is_array()) {
    for (const auto& s : ws->as_array()) {
      if (std::find(have.begin(), have.end(), s) != have.end()) continue;
      have.push_back(s);
      changed = true;
    }
  }
  return changed;
}

core::Status reconcileOne(Registry& registry, const core::ResourceType& rt,
                          const json::object& wanted, bool isBinding) {
  const json::object* meta = core::objectField(wanted, "metadata");
  std::string name = core::stringField(*meta, "name");
  std::string ns = core::stringField(*meta, "namespace");
  auto existing = registry.get(rt, ns, name);
  if (!existing.ok()) {
    if (!existing.status().isNotFound()) return existing.status();
    auto created = registry.create(rt, ns, wanted, serverWrite());
    if (!created.ok() && !created.status().isAlreadyExists()) return created.status();
    return {};
  }
  json::object current = registry.toServed(rt, **existing);
  if (!autoupdate(current)) return {};
  if (isBinding && current["roleRef"] != wanted.at("roleRef")) {
    DeleteOptions del;
    del.requester = serverWrite().requester;
    if (auto st = registry.remove(rt, ns, name, del); !st.ok() && !st.status().isNotFound())
      return st.status();
    auto created = registry.create(rt, ns, wanted, serverWrite());
    return created.ok() ? core::Status() : created.status();
  }
  bool changed = isBinding ? mergeSubjects(current, wanted) : mergeRole(current, wanted);
  if (!changed) return {};
  auto updated = registry.update(rt, ns, name, std::move(current), serverWrite());
  return updated.ok() || updated.status().isConflict() ? core::Status() : updated.status();
}

// Deletes an object an earlier version bootstrapped and this one retired, unless an
// administrator took it over (autoupdate "false") or it is not a bootstrap object at all.
core::Status removeRetired(Registry& registry, const core::ResourceType& rt,
                           const std::string& name) {
  auto existing = registry.get(rt, "", name);
  if (!existing.ok()) return existing.status().isNotFound() ? core::Status() : existing.status();
  json::object current = registry.toServed(rt, **existing);
  const json::object* meta = core::objectField(current, "metadata");
  const json::object* labels = meta ? core::objectField(*meta, "labels") : nullptr;
  if (!labels || core::stringField(*labels, "kubernetes.io/bootstrapping") != "rbac-defaults" ||
      !autoupdate(current))
    return {};
  DeleteOptions del;
  del.requester = serverWrite().requester;
  auto removed = registry.remove(rt, "", name, del);
  return removed.ok() || removed.status().isNotFound() ? core::Status() : removed.status();
}

// The ServiceAccount whose tokens agents joining with a token use for NetworkPolicy
// (authz::kNetworkPolicyServiceAccount); its binding is in the bootstrap policy.
core::Status ensureNetworkPolicyAccount(Registry& registry) {
  const auto* saType = core::findResource("", "v1", "serviceaccounts");
  if (registry.get(*saType, "kube-system", authz::kNetworkPolicyServiceAccount).ok()) return {};
  json::object sa{{"apiVersion", "v1"},
                  {"kind", "ServiceAccount"},
                  {"metadata", json::object{{"name", authz::kNetworkPolicyServiceAccount},
                                            {"namespace", "kube-system"}}}};
  auto created = registry.create(*saType, "kube-system", std::move(sa), serverWrite());
  return created.ok() || created.status().isAlreadyExists() ? core::Status() : created.status();
}

}  // namespace

core::Status reconcileBootstrapPolicy(Registry& registry) {
  const auto& policy = authz::bootstrapPolicy();
  const std::string g = "rbac.authorization.k8s.io";
  struct Part {
    const std::vector<json::object>* objects;
    const char* plural;
    bool binding;
  };
  for (const Part& part : {Part{&policy.clusterRoles, "clusterroles", false},
                           Part{&policy.roles, "roles", false},
                           Part{&policy.clusterRoleBindings, "clusterrolebindings", true},
                           Part{&policy.roleBindings, "rolebindings", true}}) {
    const core::ResourceType* rt = core::findResource(g, "v1", part.plural);
    for (const auto& obj : *part.objects) {
      if (auto st = reconcileOne(registry, *rt, obj, part.binding); !st.ok()) {
        return core::Status::internal("reconciling the bootstrap RBAC policy: " + st.message());
      }
    }
  }
  for (const auto& retired : authz::retiredBootstrapObjects()) {
    const core::ResourceType* rt = core::findResource(g, "v1", retired.plural);
    if (auto st = removeRetired(registry, *rt, retired.name); !st.ok())
      return core::Status::internal(std::string("removing the retired bootstrap ") +
                                    retired.plural + " " + retired.name + ": " + st.message());
  }
  if (auto st = ensureNetworkPolicyAccount(registry); !st.ok())
    return core::Status::internal("creating the NetworkPolicy ServiceAccount: " + st.message());
  return {};
}

}  // namespace berth::apiserver
