#include "apiserver/authz/request_info.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::apiserver::authz {
namespace {

using Query = std::multimap<std::string, std::string>;

Attributes parse(std::string_view method, std::string_view path, Query q = {}) {
  return requestAttributes(method, path, q);
}

TEST(RequestInfo, ResourceVerbsFromMethodAndPath) {
  auto a = parse("GET", "/api/v1/namespaces/default/pods");
  EXPECT_TRUE(a.resourceRequest);
  EXPECT_EQ(a.verb, "list");
  EXPECT_EQ(a.apiGroup, "");
  EXPECT_EQ(a.apiVersion, "v1");
  EXPECT_EQ(a.ns, "default");
  EXPECT_EQ(a.resource, "pods");
  EXPECT_EQ(a.name, "");

  a = parse("GET", "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ(a.verb, "get");
  EXPECT_EQ(a.name, "web");
  EXPECT_EQ(parse("POST", "/apis/apps/v1/namespaces/x/deployments").verb, "create");
  EXPECT_EQ(parse("PUT", "/apis/apps/v1/namespaces/x/deployments/d").verb, "update");
  EXPECT_EQ(parse("PATCH", "/apis/apps/v1/namespaces/x/deployments/d").verb, "patch");
  EXPECT_EQ(parse("DELETE", "/apis/apps/v1/namespaces/x/deployments/d").verb, "delete");
  EXPECT_EQ(parse("DELETE", "/apis/apps/v1/namespaces/x/deployments").verb, "deletecollection");
  EXPECT_EQ(parse("HEAD", "/api/v1/nodes/n1").verb, "get");
  a = parse("POST", "/apis/apps/v1/namespaces/x/deployments");
  EXPECT_EQ(a.apiGroup, "apps");
}

TEST(RequestInfo, Watch) {
  EXPECT_EQ(parse("GET", "/api/v1/pods", {{"watch", "true"}}).verb, "watch");
  EXPECT_EQ(parse("GET", "/api/v1/pods", {{"watch", "1"}}).verb, "watch");
  EXPECT_EQ(parse("GET", "/api/v1/pods", {{"watch", "false"}}).verb, "list");
  auto a = parse("GET", "/api/v1/watch/namespaces/ns/pods/p");
  EXPECT_EQ(a.verb, "watch");
  EXPECT_EQ(a.ns, "ns");
  EXPECT_EQ(a.resource, "pods");
  EXPECT_EQ(a.name, "p");
  // A list pinned to one name by a field selector is about that name.
  a = parse("GET", "/api/v1/namespaces/ns/pods",
            {{"watch", "true"}, {"fieldSelector", "metadata.name=web"}});
  EXPECT_EQ(a.verb, "watch");
  EXPECT_EQ(a.name, "web");
  EXPECT_EQ(a.fieldSelector, "metadata.name=web");
}

TEST(RequestInfo, SubresourcesAndNamespaces) {
  auto a = parse("GET", "/api/v1/namespaces/ns/pods/web/log");
  EXPECT_EQ(a.resource, "pods");
  EXPECT_EQ(a.subresource, "log");
  EXPECT_EQ(a.name, "web");
  a = parse("PUT", "/api/v1/namespaces/ns/status");
  EXPECT_EQ(a.resource, "namespaces");
  EXPECT_EQ(a.name, "ns");
  EXPECT_EQ(a.ns, "ns");
  EXPECT_EQ(a.subresource, "status");
  a = parse("GET", "/api/v1/namespaces/ns");
  EXPECT_EQ(a.resource, "namespaces");
  EXPECT_EQ(a.name, "ns");
  EXPECT_EQ(a.ns, "ns");
  a = parse("GET", "/api/v1/namespaces");
  EXPECT_EQ(a.verb, "list");
  EXPECT_EQ(a.ns, "");
  a = parse("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view");
  EXPECT_EQ(a.ns, "");
  EXPECT_EQ(a.resource, "clusterroles");
}

TEST(RequestInfo, NonResourcePaths) {
  for (const char* p : {"/", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/healthz",
                        "/version", "/openapi/v2", "/metrics"}) {
    auto a = parse("GET", p);
    EXPECT_FALSE(a.resourceRequest) << p;
    EXPECT_EQ(a.verb, "get") << p;
    EXPECT_EQ(a.path, p);
  }
  EXPECT_EQ(parse("POST", "/apis").verb, "post");
}

TEST(RequestInfo, ForbiddenMessagesAsUpstream) {
  auto a = parse("GET", "/api/v1/namespaces/default/pods");
  a.user.name = "x";
  auto st = forbiddenStatus(a, "");
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.reason(), "Forbidden");
  EXPECT_EQ(st.message(),
            "pods is forbidden: User \"x\" cannot list resource \"pods\" in API group \"\" in the "
            "namespace \"default\"");
  EXPECT_EQ(st.detailKind(), "pods");

  a = parse("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view");
  a.user.name = "jane";
  st = forbiddenStatus(a, "RBAC: clusterrole.rbac.authorization.k8s.io \"y\" not found");
  EXPECT_EQ(st.message(),
            "clusterroles.rbac.authorization.k8s.io \"view\" is forbidden: User \"jane\" cannot "
            "get resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the "
            "cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"y\" not found");
  EXPECT_EQ(st.detailName(), "view");
  EXPECT_EQ(st.detailGroup(), "rbac.authorization.k8s.io");

  a = parse("GET", "/api/v1/namespaces/ns/pods/web/log");
  a.user.name = "u";
  EXPECT_EQ(forbiddenStatus(a, "").message(),
            "pods \"web\" is forbidden: User \"u\" cannot get resource \"pods/log\" in API group "
            "\"\" in the namespace \"ns\"");

  a = parse("GET", "/metrics");
  a.user.name = "system:anonymous";
  EXPECT_EQ(forbiddenStatus(a, "").message(),
            "forbidden: User \"system:anonymous\" cannot get path \"/metrics\"");
}

// Any path and method parse without crashing, and the attributes are self-consistent.
TEST(RequestInfo, FuzzedPathsNeverCrash) {
  std::mt19937 rng(42);
  const std::vector<std::string> pieces = {"api", "apis", "v1", "namespaces", "watch", "proxy",
                                           "pods", "status", "finalize", "", "x", "%2F", "..",
                                           "apps", "log", "/", "//", "a/b", "*"};
  const std::vector<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                            "OPTIONS", "", "get"};
  for (int i = 0; i < 20000; ++i) {
    std::string path;
    int n = static_cast<int>(rng() % 8);
    for (int j = 0; j < n; ++j) path += "/" + pieces[rng() % pieces.size()];
    if (rng() % 5 == 0) path += std::string(1, static_cast<char>(rng() % 256));
    Query q;
    if (rng() % 2) q.emplace("watch", rng() % 2 ? "true" : "x");
    if (rng() % 2) q.emplace("fieldSelector", rng() % 2 ? "metadata.name=a" : "metadata.name=");
    auto a = requestAttributes(methods[rng() % methods.size()], path, q);
    if (!a.resourceRequest) {
      EXPECT_TRUE(a.resource.empty());
    }
    (void)forbiddenStatus(a, "r");
  }
}

}  // namespace
}  // namespace berth::apiserver::authz
