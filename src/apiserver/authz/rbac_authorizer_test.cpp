#include "apiserver/authz/rbac_authorizer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/request_info.h"

namespace berth::apiserver::authz {
namespace {

using Kind = PolicySource::Kind;
using Query = std::multimap<std::string, std::string>;

Attributes req(const std::string& user, std::vector<std::string> groups, std::string_view method,
               std::string_view path, Query q = {}) {
  Attributes a = requestAttributes(method, path, q);
  a.user.name = user;
  a.user.groups = std::move(groups);
  return a;
}

PolicyRule rule(std::vector<std::string> verbs, std::vector<std::string> groups,
                std::vector<std::string> resources, std::vector<std::string> names = {}) {
  return {std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}

TEST(RbacRules, ResourceMatching) {
  auto a = req("u", {}, "GET", "/api/v1/namespaces/ns/pods/web/log");
  EXPECT_TRUE(ruleAllows(rule({"get"}, {""}, {"pods/log"}), a));
  EXPECT_FALSE(ruleAllows(rule({"get"}, {""}, {"pods"}), a));  // subresource needs its own grant
  EXPECT_TRUE(ruleAllows(rule({"get"}, {""}, {"*/log"}), a));
  EXPECT_TRUE(ruleAllows(rule({"*"}, {"*"}, {"*"}), a));
  EXPECT_FALSE(ruleAllows(rule({"get"}, {"apps"}, {"pods/log"}), a));
  EXPECT_FALSE(ruleAllows(rule({"list"}, {""}, {"pods/log"}), a));
  EXPECT_TRUE(ruleAllows(rule({"get"}, {""}, {"pods/log"}, {"web"}), a));
  EXPECT_FALSE(ruleAllows(rule({"get"}, {""}, {"pods/log"}, {"db"}), a));
  // resourceNames never match a list (no name).
  auto list = req("u", {}, "GET", "/api/v1/namespaces/ns/pods");
  EXPECT_FALSE(ruleAllows(rule({"list"}, {""}, {"pods"}, {"web"}), list));
}

TEST(RbacRules, NonResourceUrls) {
  PolicyRule r{{"get"}, {}, {}, {}, {"/healthz", "/apis/*"}};
  EXPECT_TRUE(ruleAllows(r, req("u", {}, "GET", "/healthz")));
  EXPECT_TRUE(ruleAllows(r, req("u", {}, "GET", "/apis/apps/v1")));
  EXPECT_TRUE(ruleAllows(r, req("u", {}, "GET", "/apis/")));
  EXPECT_FALSE(ruleAllows(r, req("u", {}, "GET", "/apis")));
  EXPECT_FALSE(ruleAllows(r, req("u", {}, "POST", "/healthz")));
  EXPECT_FALSE(ruleAllows(r, req("u", {}, "GET", "/healthz/ping")));
  // Resource rules never match non-resource requests.
  EXPECT_FALSE(ruleAllows(rule({"*"}, {"*"}, {"*"}), req("u", {}, "GET", "/healthz")));
}

TEST(RbacRules, Covers) {
  std::vector<PolicyRule> owner = {rule({"get", "list"}, {""}, {"pods", "configmaps"}),
                                   rule({"*"}, {"apps"}, {"*"})};
  EXPECT_TRUE(covers(owner, {rule({"get"}, {""}, {"pods"})}));
  EXPECT_TRUE(covers(owner, {rule({"delete"}, {"apps"}, {"deployments/scale"})}));
  std::vector<PolicyRule> missing;
  EXPECT_FALSE(covers(owner, {rule({"get", "delete"}, {""}, {"pods", "secrets"})}, &missing));
  ASSERT_EQ(missing.size(), 3u);  // delete pods, get secrets, delete secrets
  EXPECT_EQ(compactString(missing[0]), "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}");
  // Named grants cover only the same names.
  EXPECT_FALSE(covers({rule({"get"}, {""}, {"pods"}, {"a"})}, {rule({"get"}, {""}, {"pods"})}));
  EXPECT_TRUE(covers({rule({"get"}, {""}, {"pods"}, {"a"})}, {rule({"get"}, {""}, {"pods"}, {"a"})}));
  EXPECT_TRUE(covers({PolicyRule{{"get"}, {}, {}, {}, {"/apis/*"}}},
                     {PolicyRule{{"get"}, {}, {}, {}, {"/apis/apps/*"}}}));
}

class RbacAuthorizerTest : public ::testing::Test {
 protected:
  void add(Kind k, const std::string& json) { source.add(k, json); }
  StaticPolicySource source;
  RbacAuthorizer rbac{source};
};

TEST_F(RbacAuthorizerTest, BindingsByUserGroupAndServiceAccount) {
  add(Kind::kClusterRole,
      R"({"metadata":{"name":"reader"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]})");
  add(Kind::kRoleBinding,
      R"({"metadata":{"name":"rb","namespace":"team"},"roleRef":{"kind":"ClusterRole","name":"reader"},
          "subjects":[{"kind":"User","name":"jane"},{"kind":"Group","name":"devs"},
                      {"kind":"ServiceAccount","name":"bot"}]})");
  auto v = rbac.authorize(req("jane", {}, "GET", "/api/v1/namespaces/team/pods"));
  EXPECT_TRUE(v.allowed());
  EXPECT_EQ(v.reason,
            "RBAC: allowed by RoleBinding \"rb/team\" of ClusterRole \"reader\" to User \"jane\"");
  EXPECT_FALSE(rbac.authorize(req("jane", {}, "GET", "/api/v1/namespaces/other/pods")).allowed());
  EXPECT_FALSE(rbac.authorize(req("jane", {}, "GET", "/api/v1/pods")).allowed());  // all namespaces
  EXPECT_FALSE(rbac.authorize(req("jane", {}, "DELETE", "/api/v1/namespaces/team/pods/x")).allowed());
  EXPECT_TRUE(rbac.authorize(req("bob", {"devs"}, "GET", "/api/v1/namespaces/team/pods/x")).allowed());
  EXPECT_TRUE(rbac.authorize(req("system:serviceaccount:team:bot", {}, "GET",
                                 "/api/v1/namespaces/team/pods"))
                  .allowed());
  EXPECT_FALSE(rbac.authorize(req("system:serviceaccount:other:bot", {}, "GET",
                                  "/api/v1/namespaces/team/pods"))
                   .allowed());
}

TEST_F(RbacAuthorizerTest, ClusterBindingsMissingRolesAndChanges) {
  add(Kind::kClusterRoleBinding,
      R"({"metadata":{"name":"crb"},"roleRef":{"kind":"ClusterRole","name":"gone"},
          "subjects":[{"kind":"User","name":"jane"}]})");
  auto v = rbac.authorize(req("jane", {}, "GET", "/api/v1/pods"));
  EXPECT_FALSE(v.allowed());
  EXPECT_EQ(v.reason, "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
  // The snapshot follows the source.
  add(Kind::kClusterRole,
      R"({"metadata":{"name":"gone"},"rules":[{"verbs":["*"],"nonResourceURLs":["/metrics"]},
          {"verbs":["list"],"apiGroups":["*"],"resources":["*"]}]})");
  EXPECT_TRUE(rbac.authorize(req("jane", {}, "GET", "/api/v1/pods")).allowed());
  EXPECT_TRUE(rbac.authorize(req("jane", {}, "GET", "/metrics")).allowed());
  EXPECT_FALSE(rbac.authorize(req("jane", {}, "GET", "/healthz")).allowed());
  auto rules = rbac.heldRules({"jane", {}, "", {}}, "any");
  EXPECT_EQ(rules.size(), 2u);
}

TEST_F(RbacAuthorizerTest, BootstrapPolicyGrants) {
  const auto& policy = bootstrapPolicy();
  for (const auto& o : policy.clusterRoles) add(Kind::kClusterRole, boost::json::serialize(o));
  for (const auto& o : policy.clusterRoleBindings)
    add(Kind::kClusterRoleBinding, boost::json::serialize(o));
  for (const auto& o : policy.roles) add(Kind::kRole, boost::json::serialize(o));
  for (const auto& o : policy.roleBindings) add(Kind::kRoleBinding, boost::json::serialize(o));
  const std::vector<std::string> anon = {"system:unauthenticated"};
  EXPECT_TRUE(rbac.authorize(req("system:anonymous", anon, "GET", "/healthz")).allowed());
  EXPECT_TRUE(rbac.authorize(req("system:anonymous", anon, "GET", "/version")).allowed());
  EXPECT_FALSE(rbac.authorize(req("system:anonymous", anon, "GET", "/api")).allowed());
  EXPECT_FALSE(rbac.authorize(req("system:anonymous", anon, "GET", "/metrics")).allowed());
  const std::vector<std::string> authd = {"system:authenticated"};
  EXPECT_TRUE(rbac.authorize(req("jane", authd, "GET", "/apis/apps/v1")).allowed());
  EXPECT_TRUE(rbac.authorize(req("jane", authd, "POST",
                                 "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))
                  .allowed());
  EXPECT_FALSE(rbac.authorize(req("jane", authd, "GET", "/api/v1/namespaces/default/pods")).allowed());
  // Components.
  auto sched = [&](std::string_view m, std::string_view p) {
    return rbac.authorize(req("system:kube-scheduler", authd, m, p)).allowed();
  };
  EXPECT_TRUE(sched("GET", "/api/v1/pods"));
  EXPECT_TRUE(sched("POST", "/api/v1/namespaces/ns/pods/p/binding"));
  EXPECT_TRUE(sched("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"));
  EXPECT_FALSE(sched("GET", "/api/v1/namespaces/ns/secrets/s"));
  auto kcm = [&](std::string_view m, std::string_view p) {
    return rbac.authorize(req("system:kube-controller-manager", authd, m, p)).allowed();
  };
  EXPECT_TRUE(kcm("GET", "/apis/apps/v1/deployments"));
  EXPECT_TRUE(kcm("POST", "/apis/apps/v1/namespaces/ns/replicasets"));
  EXPECT_TRUE(kcm("PUT", "/apis/apps/v1/namespaces/ns/deployments/d/status"));
  EXPECT_TRUE(kcm("DELETE", "/api/v1/namespaces/ns/configmaps/c"));  // namespace + GC
  EXPECT_TRUE(kcm("POST", "/api/v1/namespaces/ns/events"));
  EXPECT_FALSE(kcm("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"));
  // Nodes run the proxy and DNS.
  EXPECT_TRUE(rbac.authorize(req("system:node:n1", {"system:nodes"}, "GET",
                                 "/apis/discovery.k8s.io/v1/endpointslices", {{"watch", "1"}}))
                  .allowed());
}

}  // namespace
}  // namespace berth::apiserver::authz
