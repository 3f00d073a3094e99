// The bootstrap policy as data. Rules follow upstream 1.32's bootstrappolicy, written as
// rule(verbs, groups, resources[, names]) and urls(verbs, paths).
#include "apiserver/authz/bootstrap_policy.h"

#include <boost/json.hpp>

#include <map>
#include <string>

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

using Strings = std::vector<std::string>;
using Rules = std::vector<PolicyRule>;

const Strings kRead = {"get", "list", "watch"};
const Strings kWrite = {"create", "delete", "deletecollection", "patch", "update"};
const Strings kReadWrite = {"get",   "list",   "watch", "create",
                            "update", "patch", "delete", "deletecollection"};
constexpr const char* kRbac = "rbac.authorization.k8s.io";
constexpr const char* kAggregateTo = "rbac.authorization.k8s.io/aggregate-to-";

PolicyRule rule(Strings verbs, Strings groups, Strings resources, Strings names = {}) {
  return PolicyRule{std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}
PolicyRule urls(Strings verbs, Strings paths) {
  return PolicyRule{std::move(verbs), {}, {}, {}, std::move(paths)};
}
// Upstream's eventsRule(): components record events in both groups.
PolicyRule events() { return rule({"create", "update", "patch"}, {"", "events.k8s.io"}, {"events"}); }

json::object meta(const std::string& name, const std::string& ns,
                  const std::map<std::string, std::string>& extraLabels = {}) {
  json::object labels{{"kubernetes.io/bootstrapping", "rbac-defaults"}};
  for (const auto& [k, v] : extraLabels) labels[k] = v;
  json::object m{{"name", name},
                 {"labels", std::move(labels)},
                 {"annotations", json::object{{"rbac.authorization.k8s.io/autoupdate", "true"}}}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

json::array toJson(const Rules& rules) {
  json::array a;
  for (const auto& r : rules) a.push_back(r.toJson());
  return a;
}

struct Subject {
  std::string kind, name, ns;
};
Subject user(std::string n) { return {"User", std::move(n), ""}; }
Subject group(std::string n) { return {"Group", std::move(n), ""}; }
Subject sa(std::string ns, std::string n) { return {"ServiceAccount", std::move(n), std::move(ns)}; }

json::array subjectsJson(const std::vector<Subject>& subjects) {
  json::array a;
  for (const auto& s : subjects) {
    json::object o{{"kind", s.kind}, {"name", s.name}};
    o["apiGroup"] = s.kind == "ServiceAccount" ? "" : kRbac;
    if (!s.ns.empty()) o["namespace"] = s.ns;
    a.push_back(std::move(o));
  }
  return a;
}

class Builder {
 public:
  BootstrapPolicy policy;

  void clusterRole(const std::string& name, Rules rules,
                   const std::map<std::string, std::string>& labels = {},
                   const std::string& aggregateFrom = "") {
    json::object o{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                   {"kind", "ClusterRole"},
                   {"metadata", meta(name, "", labels)},
                   {"rules", toJson(rules)}};
    if (!aggregateFrom.empty()) {
      json::object sel{{"matchLabels", json::object{{kAggregateTo + aggregateFrom, "true"}}}};
      o["aggregationRule"] = json::object{{"clusterRoleSelectors", json::array{sel}}};
    }
    policy.clusterRoles.push_back(std::move(o));
  }
  void clusterBinding(const std::string& name, const std::vector<Subject>& subjects,
                      const std::string& role = "") {
    policy.clusterRoleBindings.push_back(binding("ClusterRoleBinding", name, "", subjects,
                                                 "ClusterRole", role.empty() ? name : role));
  }
  void role(const std::string& ns, const std::string& name, Rules rules) {
    policy.roles.push_back(json::object{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                        {"kind", "Role"},
                                        {"metadata", meta(name, ns)},
                                        {"rules", toJson(rules)}});
  }
  void roleBinding(const std::string& ns, const std::string& name,
                   const std::vector<Subject>& subjects, const std::string& role) {
    policy.roleBindings.push_back(binding("RoleBinding", name, ns, subjects, "Role", role));
  }
  // A controller's role and its binding to the controller's ServiceAccount in kube-system and
  // to the in-process controller manager.
  void controller(const std::string& name, Rules rules) {
    std::string full = "system:controller:" + name;
    rules.push_back(events());
    clusterRole(full, std::move(rules));
    clusterBinding(full, {sa("kube-system", name), user("system:kube-controller-manager")});
  }

 private:
  static json::object binding(const char* kind, const std::string& name, const std::string& ns,
                              const std::vector<Subject>& subjects, const char* roleKind,
                              const std::string& role) {
    return json::object{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                        {"kind", kind},
                        {"metadata", meta(name, ns)},
                        {"roleRef", json::object{{"apiGroup", kRbac}, {"kind", roleKind}, {"name", role}}},
                        {"subjects", subjectsJson(subjects)}};
  }
};

Rules aggregateToView() {
  return {
      rule(kRead, {""},
           {"pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
            "services", "services/status", "endpoints", "persistentvolumeclaims",
            "persistentvolumeclaims/status", "configmaps"}),
      rule(kRead, {""},
           {"limitranges", "resourcequotas", "bindings", "events", "replicationcontrollers/status",
            "pods/log", "pods/status", "resourcequotas/status", "namespaces/status"}),
      rule(kRead, {""}, {"namespaces"}),
      rule(kRead, {"discovery.k8s.io"}, {"endpointslices"}),
      rule(kRead, {"apps"},
           {"controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
            "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
            "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"}),
      rule(kRead, {"autoscaling"}, {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}),
      rule(kRead, {"batch"}, {"cronjobs", "cronjobs/status", "jobs", "jobs/status"}),
      rule(kRead, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}),
      rule(kRead, {"networking.k8s.io"},
           {"ingresses", "ingresses/status", "networkpolicies"}),
  };
}

Rules aggregateToEdit() {
  return {
      rule({"impersonate"}, {""}, {"serviceaccounts"}),
      rule(kWrite, {""},
           {"pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"}),
      rule({"create"}, {""}, {"pods/eviction"}),
      rule(kWrite, {""},
           {"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
            "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"}),
      rule({"create"}, {""}, {"serviceaccounts/token"}),
      rule(kRead, {""},
           {"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
            "services/proxy"}),
      rule(kWrite, {"apps"},
           {"daemonsets", "deployments", "deployments/rollback", "deployments/scale",
            "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"}),
      rule(kWrite, {"autoscaling"}, {"horizontalpodautoscalers"}),
      rule(kWrite, {"batch"}, {"cronjobs", "jobs"}),
      rule(kWrite, {"policy"}, {"poddisruptionbudgets"}),
      rule(kWrite, {"networking.k8s.io"}, {"ingresses", "networkpolicies"}),
      rule(kRead, {"coordination.k8s.io"}, {"leases"}),
      rule(kWrite, {"coordination.k8s.io"}, {"leases"}),
  };
}

Rules aggregateToAdmin() {
  return {
      rule({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}),
      rule(kReadWrite, {kRbac}, {"roles", "rolebindings"}),
  };
}

Rules nodeRulesList() {
  return {
      rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
      rule({"create"}, {"authorization.k8s.io"},
           {"subjectaccessreviews", "localsubjectaccessreviews"}),
      rule(kRead, {""}, {"services"}),
      rule({"create", "get", "list", "watch"}, {""}, {"nodes"}),
      rule({"update", "patch"}, {""}, {"nodes/status"}),
      rule({"update", "patch"}, {""}, {"nodes"}),
      events(),
      rule(kRead, {""}, {"pods"}),
      rule({"create", "delete"}, {""}, {"pods"}),
      rule({"update", "patch"}, {""}, {"pods/status"}),
      rule({"create"}, {""}, {"pods/eviction"}),
      rule({"get"}, {""}, {"secrets", "configmaps"}),
      rule({"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
      rule({"get"}, {""}, {"endpoints"}),
      rule({"update", "patch"}, {""}, {"persistentvolumeclaims/status"}),
      rule({"get"}, {"storage.k8s.io"}, {"volumeattachments"}),
      rule({"create"}, {""}, {"serviceaccounts/token"}),
      rule({"create", "get", "list", "watch"}, {"certificates.k8s.io"},
           {"certificatesigningrequests"}),
      rule({"get", "create", "update", "patch", "delete"}, {"coordination.k8s.io"}, {"leases"}),
      rule(kRead, {"storage.k8s.io"}, {"csidrivers"}),
      rule({"create", "delete", "get", "patch", "update"}, {"storage.k8s.io"}, {"csinodes"}),
      rule(kRead, {"node.k8s.io"}, {"runtimeclasses"}),
  };
}

// A controller's ClusterRole system:controller:<name>, bound to its ServiceAccount in
// kube-system and to the in-process controller manager (Builder::controller).
struct ControllerRole {
  const char* name;
  Rules rules;
};

// Upstream's controller_policy.go, in its order; a controller's events rule is added for it.
std::vector<ControllerRole> controllerRoles() {
  return {
      {"clusterrole-aggregation-controller",
       {rule({"escalate", "get", "list", "watch", "update", "patch"}, {kRbac}, {"clusterroles"})}},
      {"cronjob-controller",
       {rule({"get", "list", "watch", "update"}, {"batch"}, {"cronjobs"}),
        rule({"get", "list", "watch", "create", "update", "delete", "patch"}, {"batch"}, {"jobs"}),
        rule({"update"}, {"batch"}, {"cronjobs/status", "cronjobs/finalizers"}),
        rule({"list", "delete"}, {""}, {"pods"})}},
      {"daemon-set-controller",
       {rule(kRead, {"apps"}, {"daemonsets"}),
        rule({"update"}, {"apps"}, {"daemonsets/status", "daemonsets/finalizers"}),
        rule({"list", "watch"}, {""}, {"nodes"}),
        rule({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"}),
        rule({"create"}, {""}, {"pods/binding"}),
        rule({"get", "list", "watch", "create", "delete", "update", "patch"}, {"apps"},
             {"controllerrevisions"})}},
      {"deployment-controller",
       {rule({"get", "list", "watch", "update"}, {"apps"}, {"deployments"}),
        rule({"update"}, {"apps"}, {"deployments/status", "deployments/finalizers"}),
        rule({"get", "list", "watch", "create", "update", "patch", "delete"}, {"apps"},
             {"replicasets"}),
        rule({"get", "list", "watch", "update"}, {""}, {"pods"})}},
      {"disruption-controller",
       {rule(kRead, {"apps"}, {"deployments", "replicasets", "statefulsets"}),
        rule(kRead, {""}, {"replicationcontrollers"}),
        rule(kRead, {"policy"}, {"poddisruptionbudgets"}),
        rule({"update"}, {"policy"}, {"poddisruptionbudgets/status"}),
        rule({"get"}, {"*"}, {"*/scale"}), rule({"patch", "update"}, {""}, {"pods/status"})}},
      {"generic-garbage-collector",
       {rule({"get", "list", "watch", "patch", "update", "delete"}, {"*"}, {"*"})}},
      {"job-controller",
       {rule({"get", "list", "watch", "update", "patch"}, {"batch"}, {"jobs"}),
        rule({"update"}, {"batch"}, {"jobs/status", "jobs/finalizers"}),
        rule({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"})}},
      {"namespace-controller",
       {rule({"get", "list", "watch", "delete"}, {""}, {"namespaces"}),
        rule({"update"}, {""}, {"namespaces/finalize", "namespaces/status"}),
        rule({"get", "list", "delete", "deletecollection"}, {"*"}, {"*"})}},
      {"node-controller",
       {rule({"get", "list", "update", "delete", "patch"}, {""}, {"nodes"}),
        rule({"patch", "update"}, {""}, {"nodes/status"}),
        rule({"patch", "update"}, {""}, {"pods/status"}),
        rule({"list", "delete"}, {""}, {"pods"})}},
      {"persistent-volume-binder",
       {rule({"create", "delete", "get", "list", "update", "watch"}, {""}, {"persistentvolumes"}),
        rule({"update"}, {""}, {"persistentvolumes/status"}),
        rule({"get", "list", "update", "watch"}, {""}, {"persistentvolumeclaims"}),
        rule({"update"}, {""}, {"persistentvolumeclaims/status"}),
        rule({"create", "delete", "get", "list", "watch"}, {""}, {"pods"}),
        rule(kRead, {"storage.k8s.io"}, {"storageclasses"})}},
      // Berth's built-in rancher.io/local-path provisioner (k3s runs it with a role of its own).
      // It reads Nodes for the directory each announces and updates a released PV to hand it to
      // its node for clean-up (core/local_path.h).
      {"local-path-provisioner",
       {rule({"create", "delete", "get", "list", "watch", "update"}, {""}, {"persistentvolumes"}),
        rule(kRead, {""}, {"persistentvolumeclaims", "nodes"}),
        rule({"create", "get", "list", "watch"}, {"storage.k8s.io"}, {"storageclasses"})}},
      // Upstream's pvc-protection / pv-protection controllers (controller_policy.go).
      {"pvc-protection-controller",
       {rule({"get", "list", "watch", "update"}, {""}, {"persistentvolumeclaims"}),
        rule({"list", "watch", "get"}, {""}, {"pods"})}},
      {"pv-protection-controller",
       {rule({"get", "list", "watch", "update"}, {""}, {"persistentvolumes"})}},
      {"pod-garbage-collector",
       {rule({"list", "watch", "delete"}, {""}, {"pods"}), rule(kRead, {""}, {"nodes"}),
        rule({"patch"}, {""}, {"pods/status"})}},
      {"replicaset-controller",
       {rule({"get", "list", "watch", "update"}, {"apps"}, {"replicasets"}),
        rule({"update"}, {"apps"}, {"replicasets/status", "replicasets/finalizers"}),
        rule({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"})}},
      {"replication-controller",
       {rule({"get", "list", "watch", "update"}, {""}, {"replicationcontrollers"}),
        rule({"update"}, {""},
             {"replicationcontrollers/status", "replicationcontrollers/finalizers"}),
        rule({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"})}},
      {"resourcequota-controller",
       {rule({"list", "watch"}, {"*"}, {"*"}), rule({"update"}, {""}, {"resourcequotas/status"})}},
      {"service-account-controller", {rule({"create"}, {""}, {"serviceaccounts"})}},
      {"statefulset-controller",
       {rule(kRead, {""}, {"pods"}), rule(kRead, {"apps"}, {"statefulsets"}),
        rule({"update"}, {"apps"}, {"statefulsets/status", "statefulsets/finalizers"}),
        rule({"get", "create", "delete", "update", "patch"}, {""}, {"pods"}),
        rule({"get", "create", "delete", "update", "patch", "list", "watch"}, {"apps"},
             {"controllerrevisions"}),
        rule({"get", "create"}, {""}, {"persistentvolumeclaims"}),
        rule({"update", "delete"}, {""}, {"persistentvolumeclaims"})}},
      {"ttl-after-finished-controller",
       {rule({"get", "list", "watch", "delete"}, {"batch"}, {"jobs"})}},
      {"taint-eviction-controller",
       {rule({"get", "list", "watch", "delete"}, {""}, {"pods"}),
        rule({"patch"}, {""}, {"pods/status"})}},
      {"root-ca-cert-publisher", {rule({"create", "update"}, {""}, {"configmaps"})}},
      {"token-cleaner", {rule({"delete"}, {""}, {"secrets"})}},
      {"certificate-controller",
       {rule({"get", "list", "watch", "delete"}, {"certificates.k8s.io"},
             {"certificatesigningrequests"}),
        rule({"update"}, {"certificates.k8s.io"},
             {"certificatesigningrequests/status", "certificatesigningrequests/approval"}),
        rule({"approve", "sign"}, {"certificates.k8s.io"}, {"signers"},
             {"kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet",
              "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown"}),
        rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})}},
      {"endpointslice-controller",
       {rule({"get", "list", "watch"}, {""}, {"services", "pods", "nodes"}),
        rule({"update"}, {""}, {"services/finalizers"}),
        rule({"get", "list", "create", "update", "delete"}, {"discovery.k8s.io"},
             {"endpointslices"})}},
      {"horizontal-pod-autoscaler",
       {rule({"get", "list", "watch"}, {"autoscaling"}, {"horizontalpodautoscalers"}),
        rule({"update"}, {"autoscaling"}, {"horizontalpodautoscalers/status"}),
        rule({"get", "update"}, {"*"}, {"*/scale"}), rule({"list"}, {""}, {"pods"}),
        rule({"list"}, {"metrics.k8s.io"}, {"pods"})}},
  };
}

void addControllerRoles(Builder& b) {
  for (auto& c : controllerRoles()) b.controller(c.name, std::move(c.rules));
}

void addComponentRoles(Builder& b) {
  b.clusterRole("system:node", nodeRulesList());
  b.clusterRole("system:node-proxier",
                {rule({"list", "watch"}, {""}, {"services", "endpoints"}),
                 rule(kRead, {""}, {"nodes"}), events(),
                 rule({"list", "watch"}, {"discovery.k8s.io"}, {"endpointslices"})});
  // Berth's built-in ingress controller (src/ingress), running in `berth server`.
  b.clusterRole("system:berth:ingress-controller",
                {rule(kRead, {"networking.k8s.io"}, {"ingresses", "ingressclasses"}),
                 rule({"create"}, {"networking.k8s.io"}, {"ingressclasses"}),
                 rule({"update", "patch"}, {"networking.k8s.io"}, {"ingresses/status"}),
                 rule(kRead, {""}, {"services", "secrets"}),
                 rule(kRead, {"discovery.k8s.io"}, {"endpointslices"}), events()});
  b.clusterRole("system:kube-dns", {rule({"list", "watch"}, {""}, {"endpoints", "services"}),
                                    rule({"list", "watch"}, {"discovery.k8s.io"},
                                         {"endpointslices"})});
  b.clusterRole(
      "system:kube-scheduler",
      {events(), rule({"create"}, {"coordination.k8s.io"}, {"leases"}),
       rule({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"}),
       rule({"create"}, {""}, {"endpoints"}),
       rule({"get", "update"}, {""}, {"endpoints"}, {"kube-scheduler"}),
       rule(kRead, {""}, {"nodes"}), rule({"delete"}, {""}, {"pods"}),
       rule(kRead, {""}, {"pods"}), rule({"create"}, {""}, {"bindings", "pods/binding"}),
       rule({"patch", "update"}, {""}, {"pods/status"}),
       rule({"list", "watch"}, {""}, {"replicationcontrollers", "services", "namespaces"}),
       rule({"list", "watch"}, {"apps"}, {"replicasets", "statefulsets"}),
       rule({"list", "watch"}, {"policy"}, {"poddisruptionbudgets"}),
       rule(kRead, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
       rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
       rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}),
       rule(kRead, {"storage.k8s.io"}, {"csinodes", "csidrivers", "storageclasses"}),
       rule(kRead, {"scheduling.k8s.io"}, {"priorityclasses"})});
  b.clusterRole("system:volume-scheduler",
                {rule({"get", "list", "patch", "update", "watch"}, {""}, {"persistentvolumes"}),
                 rule(kRead, {"storage.k8s.io"}, {"storageclasses"}),
                 rule({"get", "list", "patch", "update", "watch"}, {""},
                      {"persistentvolumeclaims"})});
  b.clusterRole(
      "system:kube-controller-manager",
      {events(), rule({"create"}, {"coordination.k8s.io"}, {"leases"}),
       rule({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-controller-manager"}),
       rule({"create"}, {""}, {"endpoints"}),
       rule({"get", "update"}, {""}, {"endpoints"}, {"kube-controller-manager"}),
       rule({"create"}, {""}, {"secrets", "serviceaccounts"}), rule({"delete"}, {""}, {"secrets"}),
       rule({"get"}, {""}, {"namespaces", "secrets", "serviceaccounts", "configmaps"}),
       rule({"update"}, {""}, {"secrets", "serviceaccounts"}),
       rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
       rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}),
       rule({"list", "watch"}, {"*"}, {"*"}),
       rule({"create"}, {""}, {"serviceaccounts/token"})});
  b.clusterRole("system:auth-delegator",
                {rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
                 rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})});
  b.clusterRole("system:kube-aggregator", {rule(kRead, {""}, {"services", "endpoints"})});
  b.clusterRole("system:node-bootstrapper",
                {rule({"create", "get", "list", "watch"}, {"certificates.k8s.io"},
                      {"certificatesigningrequests"})});
  b.clusterRole("system:service-account-issuer-discovery",
                {urls({"get"}, {"/.well-known/openid-configuration",
                                "/.well-known/openid-configuration/", "/openid/v1/jwks",
                                "/openid/v1/jwks/"})});
  const std::string csr = "system:certificates.k8s.io:";
  b.clusterRole(csr + "certificatesigningrequests:nodeclient",
                {rule({"create"}, {"certificates.k8s.io"},
                      {"certificatesigningrequests/nodeclient"})});
  b.clusterRole(csr + "certificatesigningrequests:selfnodeclient",
                {rule({"create"}, {"certificates.k8s.io"},
                      {"certificatesigningrequests/selfnodeclient"})});
  for (const char* signer : {"kube-apiserver-client", "kube-apiserver-client-kubelet",
                             "kubelet-serving", "legacy-unknown"}) {
    b.clusterRole(csr + signer + "-approver",
                  {rule({"approve"}, {"certificates.k8s.io"}, {"signers"},
                        {std::string("kubernetes.io/") + signer})});
  }
}

// The roles people are bound to: superuser, discovery and health, and the aggregated
// admin ⊇ edit ⊇ view.
void addUserFacingRoles(Builder& b) {
  b.clusterRole("cluster-admin", {rule({"*"}, {"*"}, {"*"}), urls({"*"}, {"*"})});
  b.clusterRole("system:discovery",
                {urls({"get"}, {"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*",
                                "/livez", "/readyz", "/healthz", "/version", "/version/"})});
  b.clusterRole("system:monitoring",
                {urls({"get"}, {"/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz",
                                "/livez/*", "/readyz/*", "/healthz/*"})});
  b.clusterRole("system:basic-user",
                {rule({"create"}, {"authorization.k8s.io"},
                      {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
                 rule({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})});
  b.clusterRole("system:public-info-viewer",
                {urls({"get"}, {"/livez", "/readyz", "/healthz", "/version", "/version/"})});
  // admin ⊇ edit ⊇ view through aggregation, as upstream.
  b.clusterRole("admin", {}, {}, "admin");
  b.clusterRole("edit", {}, {{std::string(kAggregateTo) + "admin", "true"}}, "edit");
  b.clusterRole("view", {}, {{std::string(kAggregateTo) + "edit", "true"}}, "view");
  b.clusterRole("system:aggregate-to-admin", aggregateToAdmin(),
                {{std::string(kAggregateTo) + "admin", "true"}});
  b.clusterRole("system:aggregate-to-edit", aggregateToEdit(),
                {{std::string(kAggregateTo) + "admin", "true"},
                 {std::string(kAggregateTo) + "edit", "true"}});
  b.clusterRole("system:aggregate-to-view", aggregateToView(),
                {{std::string(kAggregateTo) + "admin", "true"},
                 {std::string(kAggregateTo) + "edit", "true"},
                 {std::string(kAggregateTo) + "view", "true"}});
}

// upstream's ClusterRoleBindings() of the roles above and of the components'.
void addClusterRoleBindings(Builder& b) {
  b.clusterBinding("cluster-admin", {group("system:masters")});
  b.clusterBinding("system:monitoring", {group("system:monitoring")});
  b.clusterBinding("system:discovery", {group("system:authenticated")});
  b.clusterBinding("system:basic-user", {group("system:authenticated")});
  b.clusterBinding("system:public-info-viewer",
                   {group("system:authenticated"), group("system:unauthenticated")});
  // Node agents run the service proxy and cluster DNS (Berth-specific subjects).
  b.clusterBinding("system:node-proxier", {user("system:kube-proxy"), group("system:nodes")});
  b.clusterBinding("system:kube-dns", {sa("kube-system", "kube-dns"), group("system:nodes")});
  b.clusterBinding("system:kube-controller-manager", {user("system:kube-controller-manager")});
  b.clusterBinding("system:kube-scheduler", {user("system:kube-scheduler")});
  b.clusterBinding("system:berth:ingress-controller", {user("system:berth:ingress-controller")});
  b.clusterBinding("system:volume-scheduler", {user("system:kube-scheduler")});
  b.clusterBinding("system:node", {});
  b.clusterBinding("system:service-account-issuer-discovery", {group("system:serviceaccounts")});
  b.clusterBinding("kubeadm:node-autoapprove-bootstrap", {group("system:bootstrappers")},
                   "system:certificates.k8s.io:certificatesigningrequests:nodeclient");
  b.clusterBinding("kubeadm:node-autoapprove-certificate-rotation", {group("system:nodes")},
                   "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient");
  b.clusterBinding("kubeadm:get-nodes", {group("system:bootstrappers")}, "system:node-bootstrapper");
}

// What Berth's node agent needs beyond a kubelet's (Berth-specific).
void addNodeAgentPolicy(Builder& b) {
  // The agent also enforces NetworkPolicy (as k3s embeds its policy controller), which needs
  // every pod's labels and IPs. It does so under its own identity, not the node's (whose pod
  // reads the Node authorizer holds to the node's own pods), as k3s's policy controller runs on
  // its controller credentials: a client certificate for the user (the server's in-process
  // agent) or a token of the ServiceAccount (`berth agent`, network_policy_identity.h).
  b.clusterRole(kNetworkPolicyRole,
                {rule({"list", "watch"}, {"networking.k8s.io"}, {"networkpolicies"}),
                 rule({"list", "watch"}, {""}, {"pods", "namespaces"})});
  b.clusterBinding(kNetworkPolicyRole, {user(kNetworkPolicyUser),
                                        sa("kube-system", kNetworkPolicyServiceAccount)});
  // The agent also publishes its DNS server as the EndpointSlice kube-system/kube-dns-<node>
  // (NodeRestriction holds each node to its own slice).
  b.role("kube-system", "system:berth:node-dns",
         {rule({"get", "create", "update", "patch", "delete"}, {"discovery.k8s.io"},
               {"endpointslices"})});
  b.roleBinding("kube-system", "system:berth:node-dns", {group("system:nodes")},
                "system:berth:node-dns");
}

// upstream's NamespaceRoles() and NamespaceRoleBindings(): kube-system and kube-public.
void addNamespacedRoles(Builder& b) {
  const std::string authReader = "extension-apiserver-authentication-reader";
  b.role("kube-system", authReader,
         {rule(kRead, {""}, {"configmaps"}, {"extension-apiserver-authentication"})});
  b.roleBinding("kube-system", "system::" + authReader,
                {user("system:kube-controller-manager"), user("system:kube-scheduler")},
                authReader);
  for (const char* who : {"kube-controller-manager", "kube-scheduler"}) {
    std::string name = std::string("system::leader-locking-") + who;
    b.role("kube-system", name,
           {rule({"watch"}, {""}, {"configmaps"}),
            rule({"get", "update"}, {""}, {"configmaps"}, {who})});
    b.roleBinding("kube-system", name, {user(std::string("system:") + who)}, name);
  }
  b.role("kube-public", "system:controller:bootstrap-signer",
         {rule(kRead, {""}, {"configmaps"}),
          rule({"update"}, {""}, {"configmaps"}, {"cluster-info"}), events()});
  b.roleBinding("kube-public", "system:controller:bootstrap-signer",
                {sa("kube-system", "bootstrap-signer")}, "system:controller:bootstrap-signer");
}

// The policy's lists keep the order of these calls.
BootstrapPolicy build() {
  Builder b;
  addUserFacingRoles(b);
  addComponentRoles(b);
  addControllerRoles(b);
  addClusterRoleBindings(b);
  addNodeAgentPolicy(b);
  addNamespacedRoles(b);
  return std::move(b.policy);
}

}  // namespace

const BootstrapPolicy& bootstrapPolicy() {
  static const BootstrapPolicy policy = build();
  return policy;
}

const std::vector<PolicyRule>& nodeRules() {
  static const Rules rules = nodeRulesList();
  return rules;
}

const std::vector<RetiredObject>& retiredBootstrapObjects() {
  static const std::vector<RetiredObject> retired{
      {"clusterrolebindings", "system:berth:node-network-policy"},
      {"clusterroles", "system:berth:node-network-policy"},
  };
  return retired;
}

}  // namespace berth::apiserver::authz
