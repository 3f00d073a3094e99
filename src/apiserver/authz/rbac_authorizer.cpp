#include "apiserver/authz/rbac_authorizer.h"

#include <boost/json.hpp>

#include <unordered_map>

#include "core/json_access.h"

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

using Kind = PolicySource::Kind;

struct Binding {
  std::string source;  // `ClusterRoleBinding "b" of ClusterRole "r"`
  std::string ns;      // "" for a ClusterRoleBinding (applies everywhere)
  const std::vector<PolicyRule>* rules = nullptr;  // null: the role is missing
  std::string missing;  // upstream's not-found message when rules is null
};

struct SubjectRef {
  size_t binding;
  std::string subject;  // `User "jane"`, `Group "g"`, `ServiceAccount "sa/ns"`
};

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

struct RbacAuthorizer::Snapshot {
  uint64_t generation = 0;
  std::unordered_map<std::string, std::vector<PolicyRule>> clusterRoles;  // by name
  std::unordered_map<std::string, std::vector<PolicyRule>> roles;         // by ns + "/" + name
  std::vector<Binding> bindings;
  // "U:<user>" and "G:<group>" → bindings naming that subject.
  std::unordered_map<std::string, std::vector<SubjectRef>> bySubject;

  template <typename Fn>  // fn(const Binding&, const SubjectRef&) → true to stop
  void visit(const http::UserInfo& user, const std::string& ns, Fn&& fn) const {
    auto walk = [&](const std::string& key) {
      auto it = bySubject.find(key);
      if (it == bySubject.end()) return false;
      for (const auto& ref : it->second) {
        const Binding& b = bindings[ref.binding];
        if (!b.ns.empty() && b.ns != ns) continue;
        if (fn(b, ref)) return true;
      }
      return false;
    };
    if (walk("U:" + user.name)) return;
    for (const auto& g : user.groups)
      if (walk("G:" + g)) return;
  }
};

namespace {

void addRoles(const PolicySource& src, Kind kind,
              std::unordered_map<std::string, std::vector<PolicyRule>>& out) {
  src.forEach(kind, [&](std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const json::object* meta = core::objectField(v.as_object(), "metadata");
    if (meta == nullptr) return;
    std::string key = core::stringField(*meta, "name");
    if (kind == Kind::kRole) key = core::stringField(*meta, "namespace") + "/" + key;
    out[key] = rulesOf(v.as_object());
  });
}

void addBindings(const PolicySource& src, Kind kind, RbacAuthorizer::Snapshot& s) {
  const bool cluster = kind == Kind::kClusterRoleBinding;
  src.forEach(kind, [&](std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const json::object& o = v.as_object();
    const json::object* meta = core::objectField(o, "metadata");
    const json::object* ref = core::objectField(o, "roleRef");
    if (meta == nullptr || ref == nullptr) return;
    std::string name = core::stringField(*meta, "name");
    std::string ns = cluster ? "" : core::stringField(*meta, "namespace");
    std::string roleKind = core::stringField(*ref, "kind");
    std::string roleName = core::stringField(*ref, "name");
    Binding b;
    b.ns = ns;
    b.source = std::string(cluster ? "ClusterRoleBinding " + quoted(name)
                                   : "RoleBinding " + quoted(name + "/" + ns)) +
               " of " + roleKind + " " + quoted(roleName);
    if (roleKind == "ClusterRole") {
      auto it = s.clusterRoles.find(roleName);
      if (it != s.clusterRoles.end()) b.rules = &it->second;
      b.missing = "clusterrole.rbac.authorization.k8s.io " + quoted(roleName) + " not found";
    } else if (roleKind == "Role" && !cluster) {
      auto it = s.roles.find(ns + "/" + roleName);
      if (it != s.roles.end()) b.rules = &it->second;
      b.missing = "role.rbac.authorization.k8s.io " + quoted(roleName) + " not found";
    } else {
      b.missing = "unsupported role reference kind: " + quoted(roleKind);
    }
    size_t index = s.bindings.size();
    s.bindings.push_back(std::move(b));
    const json::value* subjects = o.if_contains("subjects");
    if (subjects == nullptr || !subjects->is_array()) return;
    for (const auto& sv : subjects->as_array()) {
      if (!sv.is_object()) continue;
      const json::object& subj = sv.as_object();
      std::string sk = core::stringField(subj, "kind");
      std::string sn = core::stringField(subj, "name");
      if (sk == "User") {
        s.bySubject["U:" + sn].push_back({index, "User " + quoted(sn)});
      } else if (sk == "Group") {
        s.bySubject["G:" + sn].push_back({index, "Group " + quoted(sn)});
      } else if (sk == "ServiceAccount") {
        // A subject without a namespace means the binding's own (upstream appliesToUser).
        std::string sns = core::stringField(subj, "namespace");
        if (sns.empty()) sns = ns;
        s.bySubject["U:system:serviceaccount:" + sns + ":" + sn].push_back(
            {index, "ServiceAccount " + quoted(sn + "/" + sns)});
      }
    }
  });
}

}  // namespace

std::shared_ptr<const RbacAuthorizer::Snapshot> RbacAuthorizer::snapshot() const {
  uint64_t gen = source_.generation();
  auto snap = snapshot_.load();
  if (snap && snap->generation == gen) return snap;
  std::lock_guard lock(rebuildMu_);
  snap = snapshot_.load();
  gen = source_.generation();
  if (snap && snap->generation == gen) return snap;
  auto next = std::make_shared<Snapshot>();
  next->generation = gen;  // read before listing: a change while listing rebuilds again
  addRoles(source_, Kind::kClusterRole, next->clusterRoles);
  addRoles(source_, Kind::kRole, next->roles);
  addBindings(source_, Kind::kClusterRoleBinding, *next);
  addBindings(source_, Kind::kRoleBinding, *next);
  snapshot_.store(next);
  return next;
}

Verdict RbacAuthorizer::authorize(const Attributes& a) const {
  auto snap = snapshot();
  Verdict verdict;
  std::vector<std::string> errors;
  snap->visit(a.user, a.ns, [&](const Binding& b, const SubjectRef& ref) {
    if (b.rules == nullptr) {
      errors.push_back(b.missing);
      return false;
    }
    if (!rulesAllow(*b.rules, a)) return false;
    verdict = {Decision::kAllow, "RBAC: allowed by " + b.source + " to " + ref.subject};
    return true;
  });
  if (verdict.allowed() || errors.empty()) return verdict;
  // utilerrors.NewAggregate: one error as is, several as "[a, b]".
  std::string joined;
  for (size_t i = 0; i < errors.size(); ++i) joined += (i ? ", " : "") + errors[i];
  verdict.reason = "RBAC: " + (errors.size() == 1 ? joined : "[" + joined + "]");
  return verdict;
}

std::vector<PolicyRule> RbacAuthorizer::heldRules(const http::UserInfo& user, const std::string& ns,
                                                  std::vector<std::string>* errors) const {
  auto snap = snapshot();
  std::vector<PolicyRule> out;
  snap->visit(user, ns, [&](const Binding& b, const SubjectRef&) {
    if (b.rules == nullptr) {
      if (errors) errors->push_back(b.missing);
    } else {
      out.insert(out.end(), b.rules->begin(), b.rules->end());
    }
    return false;
  });
  return out;
}

void RbacAuthorizer::rulesFor(const http::UserInfo& user, const std::string& ns,
                              RuleSet& out) const {
  std::vector<std::string> errors;
  auto rules = heldRules(user, ns, &errors);
  out.rules.insert(out.rules.end(), rules.begin(), rules.end());
  out.errors.insert(out.errors.end(), errors.begin(), errors.end());
  if (!errors.empty()) out.incomplete = true;
}

bool RbacAuthorizer::roleRules(std::string_view kind, const std::string& ns,
                               const std::string& name, std::vector<PolicyRule>* out) const {
  auto snap = snapshot();
  const auto& map = kind == "ClusterRole" ? snap->clusterRoles : snap->roles;
  auto it = map.find(kind == "ClusterRole" ? name : ns + "/" + name);
  if (it == map.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace berth::apiserver::authz
