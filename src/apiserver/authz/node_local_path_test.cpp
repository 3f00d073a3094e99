// What a node may do with PersistentVolumes beyond reading those its pods use: remove the
// local-path directories of released volumes labelled for it (core/local_path.h), and nothing
// more — the Node authorizer's part and NodeRestriction's part.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apiserver/authz/node_authorizer.h"
#include "apiserver/authz/node_restriction.h"
#include "apiserver/authz/node_test_request.h"
#include "core/local_path.h"
#include "core/resources.h"

namespace berth::apiserver::authz {
namespace {

const char* kReleased = R"({"metadata":{"name":"pvc-1","resourceVersion":"7",
  "labels":{"berth.dev/local-path-cleanup-node":"n1"},
  "finalizers":["kubernetes.io/pv-protection","berth.dev/local-path-cleanup"]},
  "spec":{"hostPath":{"path":"/data/storage/pvc-1_ns_data"}},"status":{"phase":"Released"}})";

class NodeLocalPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph.pvChanged("pvc-1", kReleased);
    graph.pvChanged("pvc-2", R"({"metadata":{"name":"pvc-2"},"spec":{}})");
  }
  bool allowed(const Attributes& a) { return authorizer.authorize(a).allowed(); }
  NodeGraph graph;
  NodeAuthorizer authorizer{graph};
};

TEST_F(NodeLocalPathTest, ListsAndWatchesOnlyVolumesLabelledForIt) {
  auto list = [&](const std::string& node, std::multimap<std::string, std::string> q) {
    return allowed(nodeReq(node, "GET", "/api/v1/persistentvolumes", std::move(q)));
  };
  EXPECT_TRUE(list("n1", {{"labelSelector", "berth.dev/local-path-cleanup-node=n1"}}));
  EXPECT_TRUE(list(
      "n1", {{"labelSelector", "berth.dev/local-path-cleanup-node in (n1)"}, {"watch", "true"}}));
  EXPECT_FALSE(list("n1", {}));
  EXPECT_FALSE(list("n1", {{"labelSelector", "berth.dev/local-path-cleanup-node=n2"}}));
  EXPECT_FALSE(list("n1", {{"labelSelector", "berth.dev/local-path-cleanup-node in (n1,n2)"}}));
  EXPECT_FALSE(list("n1", {{"labelSelector", "berth.dev/local-path-cleanup-node!=n2"}}));
  EXPECT_FALSE(list("n1", {{"labelSelector", "berth.dev/local-path-cleanup-node"}}));
  EXPECT_FALSE(list("n1", {{"fieldSelector", "metadata.name=pvc-1"}}));
}

TEST_F(NodeLocalPathTest, UpdatesOnlyItsLabelledVolume) {
  EXPECT_TRUE(allowed(nodeReq("n1", "PUT", "/api/v1/persistentvolumes/pvc-1")));
  // What the clean-up does not need: a get or patch (no pod of n1 uses it).
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/persistentvolumes/pvc-1")));
  EXPECT_FALSE(allowed(nodeReq("n1", "PATCH", "/api/v1/persistentvolumes/pvc-1")));
  EXPECT_FALSE(allowed(nodeReq("n2", "GET", "/api/v1/persistentvolumes/pvc-1")));
  EXPECT_FALSE(allowed(nodeReq("n2", "PUT", "/api/v1/persistentvolumes/pvc-1")));
  EXPECT_FALSE(allowed(nodeReq("n1", "PUT", "/api/v1/persistentvolumes/pvc-2")));
  EXPECT_FALSE(allowed(nodeReq("n1", "GET", "/api/v1/persistentvolumes/pvc-2")));
  EXPECT_FALSE(allowed(nodeReq("n1", "DELETE", "/api/v1/persistentvolumes/pvc-1")));
  EXPECT_FALSE(allowed(nodeReq("n1", "POST", "/api/v1/persistentvolumes")));
  EXPECT_FALSE(allowed(nodeReq("n1", "PUT", "/api/v1/persistentvolumes/pvc-1/status")));
  // The label goes (or the volume does): so does the permission.
  graph.pvChanged("pvc-1", R"({"metadata":{"name":"pvc-1"}})");
  EXPECT_FALSE(allowed(nodeReq("n1", "PUT", "/api/v1/persistentvolumes/pvc-1")));
  graph.pvChanged("pvc-1", kReleased);
  graph.pvDeleted("pvc-1");
  EXPECT_FALSE(allowed(nodeReq("n1", "PUT", "/api/v1/persistentvolumes/pvc-1")));
}

class NodeRestrictionVolumeTest : public ::testing::Test {
 protected:
  NodeRestrictionVolumeTest() {
    a.operation = admission::Operation::kUpdate;
    a.resource = core::findResource("", "v1", "persistentvolumes");
    a.name = "pvc-1";
    a.user = {"system:node:n1", {"system:nodes"}, "", {}};
    a.object = &now;
    a.oldObject = &before;
    now["metadata"].as_object()["finalizers"] = boost::json::array{"kubernetes.io/pv-protection"};
  }
  std::string check() { return plugin.validate(a).message(); }
  NodeRestrictionPlugin plugin;
  boost::json::object before = boost::json::parse(kReleased).as_object();
  boost::json::object now = before;
  admission::Attributes a;
};

TEST_F(NodeRestrictionVolumeTest, OnlyDropsTheCleanupFinalizer) {
  EXPECT_EQ(check(), "");
  now["metadata"].as_object()["resourceVersion"] = "8";  // server bookkeeping
  EXPECT_EQ(check(), "");
  const std::string only =
      "node \"n1\" can only remove the berth.dev/local-path-cleanup finalizer of "
      "persistentvolume \"pvc-1\"";
  now["spec"].as_object()["hostPath"].as_object()["path"] = "/etc";
  EXPECT_EQ(check(), only);
  now["spec"] = before["spec"];
  now["metadata"].as_object()["finalizers"] = boost::json::array{};  // pv-protection too
  EXPECT_EQ(check(), only);
  now["metadata"].as_object()["finalizers"] = before["metadata"].as_object()["finalizers"];
  now["metadata"].as_object()["labels"] = boost::json::object{};  // nothing removed, label gone
  EXPECT_EQ(check(), only);
}

TEST_F(NodeRestrictionVolumeTest, OnlyVolumesLabelledForTheNode) {
  a.user = {"system:node:n2", {"system:nodes"}, "", {}};
  EXPECT_EQ(check(),
            "node \"n2\" can only update persistentvolumes labelled "
            "berth.dev/local-path-cleanup-node=n2");
  EXPECT_EQ(plugin.validate(a).code(), 403);
  a.user = {"system:node:n1", {"system:nodes"}, "", {}};
  a.operation = admission::Operation::kDelete;
  a.object = nullptr;
  EXPECT_EQ(check(),
            "node \"n1\" can only remove the berth.dev/local-path-cleanup finalizer of "
            "persistentvolumes");
  a.user = {"admin", {"system:masters"}, "", {}};
  EXPECT_EQ(check(), "");
}

}  // namespace
}  // namespace berth::apiserver::authz
