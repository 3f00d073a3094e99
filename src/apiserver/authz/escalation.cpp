#include "apiserver/authz/escalation.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/json_access.h"

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

constexpr const char* kRbac = "rbac.authorization.k8s.io";

core::Status forbidden(const std::string& plural, const std::string& name, const std::string& why) {
  core::Status st = core::Status::forbidden(plural + "." + kRbac + " \"" + name +
                                            "\" is forbidden: " + why);
  st.withDetails(name, kRbac, plural);
  return st;
}

// Go's %q of a []string: ["a" "b"].
std::string quotedList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " \"" : "\"") + v[i] + "\"";
  return out + "]";
}

// Upstream's ConfirmNoEscalation message, or "" when the user holds every rule.
std::string escalationError(const RbacAuthorizer& rbac, const http::UserInfo& user,
                            const std::string& ns, const std::vector<PolicyRule>& wanted) {
  std::vector<std::string> errors;
  std::vector<PolicyRule> held = rbac.heldRules(user, ns, &errors);
  std::vector<PolicyRule> missing;
  if (covers(held, wanted, &missing)) return "";
  std::string msg = "user \"" + user.name + "\" (groups=" + quotedList(user.groups) +
                    ") is attempting to grant RBAC permissions not currently held:";
  for (const auto& r : missing) msg += "\n" + compactString(r);
  if (!errors.empty()) {
    msg += "; resolution errors: [";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? " " : "") + errors[i];
    msg += "]";
  }
  return msg;
}

}  // namespace

bool EscalationPlugin::allowedVerb(const http::UserInfo& user, const std::string& verb,
                                   const std::string& resource, const std::string& ns,
                                   const std::string& name) const {
  Attributes at;
  at.user = user;
  at.verb = verb;
  at.resourceRequest = true;
  at.apiGroup = kRbac;
  at.apiVersion = "v1";
  at.resource = resource;
  at.ns = ns;
  at.name = name;
  return authorizer_.authorize(at).allowed();
}

core::Status EscalationPlugin::validate(const admission::Attributes& a) {
  if (a.operation != admission::Operation::kCreate && a.operation != admission::Operation::kUpdate)
    return {};
  if (a.object == nullptr || a.resource == nullptr || a.resource->group != kRbac) return {};
  const auto& groups = a.user.groups;
  // The server's own writes and the privileged group (upstream EscalationAllowed).
  if (a.user.name.empty() ||
      std::find(groups.begin(), groups.end(), "system:masters") != groups.end())
    return {};
  http::UserInfo user{a.user.name, a.user.groups, a.user.uid, a.user.extra};
  const std::string& plural = a.resource->plural;
  if (plural == "roles" || plural == "clusterroles") return checkRole(a, user);
  if (plural == "rolebindings" || plural == "clusterrolebindings") return checkBinding(a, user);
  return {};
}

core::Status EscalationPlugin::checkRole(const admission::Attributes& a,
                                         const http::UserInfo& user) const {
  const std::string& plural = a.resource->plural;
  if (allowedVerb(user, "escalate", plural, a.ns, a.name)) return {};
  std::vector<PolicyRule> rules = rulesOf(*a.object);
  if (a.oldObject != nullptr && a.object->if_contains("rules") &&
      a.oldObject->if_contains("rules") && a.object->at("rules") == a.oldObject->at("rules") &&
      !a.object->contains("aggregationRule"))
    return {};  // metadata-only updates (labels, finalizers) need no check
  if (a.object->contains("aggregationRule") && !a.object->at("aggregationRule").is_null()) {
    PolicyRule all{{"*"}, {"*"}, {"*"}, {}, {}};
    PolicyRule urls{{"*"}, {}, {}, {}, {"*"}};
    if (!escalationError(rbac_, user, "", {all, urls}).empty())
      return forbidden(plural, a.name, "must have cluster-admin privileges to use the aggregationRule");
    return {};
  }
  std::string err = escalationError(rbac_, user, a.ns, rules);
  return err.empty() ? core::Status() : forbidden(plural, a.name, err);
}

core::Status EscalationPlugin::checkBinding(const admission::Attributes& a,
                                            const http::UserInfo& user) const {
  const std::string& plural = a.resource->plural;
  const json::object* ref = core::objectField(*a.object, "roleRef");
  if (ref == nullptr) return {};
  std::string kind = core::stringField(*ref, "kind");
  std::string roleName = core::stringField(*ref, "name");
  std::string refPlural = kind == "ClusterRole" ? "clusterroles" : "roles";
  if (allowedVerb(user, "bind", refPlural, a.ns, roleName)) return {};
  std::vector<PolicyRule> rules;
  if (!rbac_.roleRules(kind, a.ns, roleName, &rules)) {
    std::string what = kind == "ClusterRole" ? "clusterrole" : "role";
    return core::Status::badRequest(what + "." + kRbac + " \"" + roleName + "\" not found");
  }
  std::string err = escalationError(rbac_, user, a.ns, rules);
  return err.empty() ? core::Status() : forbidden(plural, a.name, err);
}

}  // namespace berth::apiserver::authz
