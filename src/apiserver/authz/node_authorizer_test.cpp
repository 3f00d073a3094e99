#include "apiserver/authz/node_authorizer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apiserver/authz/node_restriction.h"
#include "apiserver/authz/node_test_request.h"
#include "core/resources.h"

namespace berth::apiserver::authz {
namespace {

class NodeAuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph.podChanged("ns/web", R"({"spec":{"nodeName":"n1","serviceAccountName":"sa1",
      "volumes":[{"name":"s","secret":{"secretName":"tls"}},{"name":"c","configMap":{"name":"cfg"}},
                 {"name":"p","persistentVolumeClaim":{"claimName":"data"}}],
      "containers":[{"name":"c","env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"env-secret","key":"k"}}}]}]}})");
    graph.podChanged("ns/other", R"({"spec":{"nodeName":"n2","volumes":[{"name":"s","secret":{"secretName":"n2-secret"}}]}})");
    graph.pvcChanged("ns/data", R"({"spec":{"volumeName":"pv-1"}})");
  }
  bool allowed(const Attributes& a) { return authorizer.authorize(a).allowed(); }
  NodeGraph graph;
  NodeAuthorizer authorizer{graph};
};

TEST_F(NodeAuthorizerTest, ReadsOnlyWhatItsPodsUse) {
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets/tls")));
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets/env-secret")));
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/configmaps/cfg")));
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/persistentvolumeclaims/data")));
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/persistentvolumes/pv-1")));
  EXPECT_TRUE(allowed(nodeReq("n1", "POST", "/api/v1/namespaces/ns/serviceaccounts/sa1/token")));
  auto v = authorizer.authorize(nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets/n2-secret"));
  EXPECT_FALSE(v.allowed());
  EXPECT_EQ(v.reason, "no relationship found between node 'n1' and this object");
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets")));  // no listing
  EXPECT_TRUE(allowed(nodeReq("n2", "GET", "/api/v1/namespaces/ns/secrets/n2-secret")));
  // Once the pod is gone, so is the relationship.
  graph.podDeleted("ns/other");
  EXPECT_FALSE(allowed(nodeReq("n2", "GET", "/api/v1/namespaces/ns/secrets/n2-secret")));
}

TEST_F(NodeAuthorizerTest, PodsLeasesAndOthers) {
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/pods/web")));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/pods/other")));
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/pods",
                              {{"watch", "true"}, {"fieldSelector", "spec.nodeName=n1"}})));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/pods", {{"fieldSelector", "spec.nodeName=n2"}})));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/pods")));
  EXPECT_TRUE(allowed(nodeReq("n1", "PATCH", "/api/v1/namespaces/ns/pods/web/status")));
  EXPECT_FALSE(allowed(nodeReq("n1", "PATCH", "/api/v1/namespaces/ns/pods/other/status")));
  EXPECT_TRUE(allowed(nodeReq("n1", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")));
  EXPECT_FALSE(allowed(nodeReq("n1", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2")));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/n1")));
  EXPECT_TRUE(allowed(nodeReq("n1", "POST", "/api/v1/nodes")));
  EXPECT_TRUE(allowed(nodeReq("n1", "POST", "/api/v1/namespaces/ns/events")));
  EXPECT_FALSE(allowed(nodeReq("n1", "POST", "/api/v1/namespaces/ns/configmaps")));
  // Not a node: no opinion.
  Attributes a = nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets/tls");
  a.user.groups = {"system:authenticated"};
  EXPECT_EQ(authorizer.authorize(a).decision, Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, UnboundPodsBelongToNoNode) {
  graph.podChanged("ns/late", R"({"spec":{"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(graph.podOnNode("n1", "ns", "late"));
  graph.podChanged("ns/late", R"({"spec":{"nodeName":"n1","containers":[{"name":"c"}]}})");
  EXPECT_TRUE(graph.podOnNode("n1", "ns", "late"));
  // A write without nodeName (as a bound pod never has, but a graph must not keep stale links).
  graph.podChanged("ns/web", R"({"spec":{"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(graph.podOnNode("n1", "ns", "web"));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/secrets/tls")));
}

// Upstream 1.32's AuthorizeNodeWithSelectors: the parsed requirements decide, not the text.
TEST_F(NodeAuthorizerTest, PodListsNeedTheNodeNameSelector) {
  auto list = [&](std::multimap<std::string, std::string> q) {
    return authorizer.authorize(nodeReq("n1", "GET", "/api/v1/pods", std::move(q)));
  };
  EXPECT_TRUE(list({{"fieldSelector", "spec.nodeName==n1"}}).allowed());
  EXPECT_TRUE(list({{"fieldSelector", "status.phase!=Failed,spec.nodeName=n1"}}).allowed());
  EXPECT_TRUE(list({{"fieldSelector", "spec.nodeName=n1"}, {"labelSelector", "app=x"}}).allowed());
  EXPECT_FALSE(list({{"fieldSelector", "spec.nodeName!=n1"}}).allowed());
  EXPECT_FALSE(list({{"fieldSelector", "spec.nodeName=n1x"}}).allowed());
  // Does not parse: no requirements, so no node is selected.
  auto v = list({{"fieldSelector", "spec.nodeName=n1,junk"}});
  EXPECT_FALSE(v.allowed());
  EXPECT_EQ(v.reason, "can only list/watch pods with spec.nodeName field selector");
  // A selector on a label is no substitute.
  EXPECT_FALSE(list({{"labelSelector", "spec.nodeName=n1"}}).allowed());
  // One pod by name: allowed when it is bound to the node.
  EXPECT_TRUE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/pods",
                              {{"fieldSelector", "metadata.name=web"}})));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/pods",
                               {{"fieldSelector", "metadata.name=other"}})));
  // A selector only narrows collection verbs: it never helps a get of another node's pod.
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/namespaces/ns/pods/other",
                               {{"fieldSelector", "spec.nodeName=n1"}})));
}

TEST(NodeRestriction, OwnNodeAndLabels) {
  NodeRestrictionPlugin plugin;
  const auto* nodes = core::findResource("", "v1", "nodes");
  boost::json::object obj = {{"metadata", {{"name", "n1"}, {"labels", {{"a", "b"}}}}}};
  admission::Attributes a;
  a.operation = admission::Operation::kCreate;
  a.resource = nodes;
  a.name = "n1";
  a.user = {"system:node:n1", {"system:nodes"}, "", {}};
  a.object = &obj;
  EXPECT_TRUE(plugin.validate(a).ok());
  a.name = "n2";
  EXPECT_EQ(plugin.validate(a).message(), "node \"n1\" is not allowed to modify node \"n2\"");
  a.name = "n1";
  obj["metadata"].as_object()["labels"].as_object()["node-restriction.kubernetes.io/x"] = "y";
  EXPECT_EQ(plugin.validate(a).message(),
            "node \"n1\" is not allowed to set the following labels: "
            "node-restriction.kubernetes.io/x");
  a.user = {"admin", {"system:masters"}, "", {}};
  EXPECT_TRUE(plugin.validate(a).ok());
}

}  // namespace
}  // namespace berth::apiserver::authz

namespace berth::apiserver::authz {
namespace {

// A node creates mirror pods of its static pods, owned by itself and referencing nothing it
// could not read otherwise (upstream's NodeRestriction).
TEST(NodeRestriction, MirrorPodsOwnedByTheNodeOnly) {
  NodeRestrictionPlugin plugin;
  boost::json::object pod = boost::json::parse(R"({
    "metadata":{"name":"web-n1","namespace":"default",
      "annotations":{"kubernetes.io/config.mirror":"abc"},
      "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n1","uid":"u","controller":true}]},
    "spec":{"nodeName":"n1","containers":[{"name":"a","image":"x"}]}})").as_object();
  admission::Attributes a;
  a.operation = admission::Operation::kCreate;
  a.resource = core::findResource("", "v1", "pods");
  a.ns = "default";
  a.name = "web-n1";
  a.user = {"system:node:n1", {"system:nodes"}, "", {}};
  a.object = &pod;
  EXPECT_TRUE(plugin.validate(a).ok()) << plugin.validate(a).message();
  auto& meta = pod["metadata"].as_object();
  auto& owner = meta["ownerReferences"].as_array()[0].as_object();
  owner["name"] = "n2";
  EXPECT_EQ(plugin.validate(a).message(),
            "node \"n1\" can only create pods with an owner reference set to itself");
  owner["name"] = "n1";
  owner["controller"] = false;
  EXPECT_EQ(plugin.validate(a).message(),
            "node \"n1\" can only create pods with a controller owner reference set to itself");
  owner["controller"] = true;
  auto& spec = pod["spec"].as_object();
  spec["volumes"] = boost::json::parse(R"([{"name":"s","secret":{"secretName":"x"}}])");
  EXPECT_EQ(plugin.validate(a).message(), "node \"n1\" can not create pods that reference secrets");
  spec.erase("volumes");
  spec["nodeName"] = "n2";
  EXPECT_EQ(plugin.validate(a).code(), 403);
  spec["nodeName"] = "n1";
  meta.erase("annotations");
  EXPECT_EQ(plugin.validate(a).message(),
            "pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n1\" can only "
            "create mirror pods");
}

}  // namespace
}  // namespace berth::apiserver::authz
