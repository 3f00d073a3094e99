// Integration: the real `berth server` (which runs the garbage collector in-process) and
// owners of kinds no workload controller touches: a custom resource, a ReplicationController.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"
#include "core/json_access.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;

const client::Resource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
const client::Resource kWidgets{"example.com", "v1", "widgets", true};
const client::Resource kRcs{"", "v1", "replicationcontrollers", true};

std::string uidOf(const json::value& obj) {
  return core::stringField(obj.at("metadata").as_object(), "uid");
}

json::value dependentOf(const std::string& name, const std::string& apiVersion,
                        const std::string& kind, const std::string& owner,
                        const std::string& ownerUid) {
  auto cm = client::testing::configMap("default", name);
  cm.at("metadata").as_object()["ownerReferences"] = json::array{
      json::object{{"apiVersion", apiVersion}, {"kind", kind}, {"name", owner}, {"uid", ownerUid}}};
  return cm;
}

class GarbageCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    c_ = server_.client("gc-test");
    ASSERT_TRUE(c_);
  }
  bool gone(const std::string& name) {
    return eventually([&] {
      return c_->get(client::testing::kConfigMaps, "default", name).status().isNotFound();
    });
  }
  client::testing::TestServer server_;
  std::unique_ptr<client::RestClient> c_;
};

// A CRD created after the collector started: its objects own others and are collected from.
TEST_F(GarbageCollectorTest, DependentsOfACustomResourceAreCollected) {
  auto crd = json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1",
    "kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced",
      "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
      "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":
        {"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})");
  ASSERT_TRUE(c_->create(kCrds, "", crd).ok());
  json::value widget =
      json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}})");
  core::Result<json::value> made = core::Status::unavailable("");
  ASSERT_TRUE(eventually([&] { return (made = c_->create(kWidgets, "default", widget)).ok(); }));
  ASSERT_TRUE(c_->create(client::testing::kConfigMaps, "default",
                         dependentOf("w-part", "example.com/v1", "Widget", "w", uidOf(*made)))
                  .ok());
  // Still owned: the collector must not take it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(c_->get(client::testing::kConfigMaps, "default", "w-part").ok());
  json::value background = json::object{{"propagationPolicy", "Background"}};
  ASSERT_TRUE(c_->remove(kWidgets, "default", "w", &background).ok());
  EXPECT_TRUE(gone("w-part"));
}

// A DELETE naming no policy orphans a ReplicationController's dependents (upstream's default
// for core/v1 RCs); orphanDependents=false (the deprecated field) deletes them.
TEST_F(GarbageCollectorTest, ReplicationControllersOrphanByDefault) {
  auto rc = [](const std::string& name) {
    return json::parse(R"({"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":")" +
                       name + R"("},"spec":{"replicas":0,"selector":{"app":")" + name +
                       R"("},"template":{"metadata":{"labels":{"app":")" + name +
                       R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  };
  auto kept = c_->create(kRcs, "default", rc("kept"));
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  ASSERT_TRUE(
      c_->create(client::testing::kConfigMaps, "default",
                 dependentOf("kept-part", "v1", "ReplicationController", "kept", uidOf(*kept)))
          .ok());
  ASSERT_TRUE(c_->remove(kRcs, "default", "kept").ok());
  ASSERT_TRUE(eventually([&] { return c_->get(kRcs, "default", "kept").status().isNotFound(); }));
  auto part = c_->get(client::testing::kConfigMaps, "default", "kept-part");
  ASSERT_TRUE(part.ok());
  EXPECT_FALSE(part->at("metadata").as_object().contains("ownerReferences"));

  auto dropped = c_->create(kRcs, "default", rc("dropped"));
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE(c_->create(client::testing::kConfigMaps, "default",
                         dependentOf("dropped-part", "v1", "ReplicationController", "dropped",
                                     uidOf(*dropped)))
                  .ok());
  json::value cascade = json::object{{"orphanDependents", false}};
  ASSERT_TRUE(c_->remove(kRcs, "default", "dropped", &cascade).ok());
  EXPECT_TRUE(gone("dropped-part"));
}

// A dependent the collector learns of only after its owner was orphan-deleted (here: created
// while a finalizer of the test's own held the owner, after the collector had already orphaned
// the dependents it knew) is orphaned too, not collected as a dependent of a missing owner.
TEST_F(GarbageCollectorTest, LateDependentsOfAnOrphanedOwnerAreOrphaned) {
  auto rc = json::parse(R"({"apiVersion":"v1","kind":"ReplicationController","metadata":{
    "name":"late","finalizers":["example.com/hold"]},"spec":{"replicas":0,"selector":{"app":"late"},
    "template":{"metadata":{"labels":{"app":"late"}},
    "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  auto owner = c_->create(kRcs, "default", rc);
  ASSERT_TRUE(owner.ok()) << owner.status().message();
  json::value orphan = json::object{{"propagationPolicy", "Orphan"}};
  ASSERT_TRUE(c_->remove(kRcs, "default", "late", &orphan).ok());
  // The collector removes its `orphan` finalizer; ours keeps the owner.
  ASSERT_TRUE(eventually([&] {
    auto o = c_->get(kRcs, "default", "late");
    if (!o.ok()) return false;
    const auto* f = o->at("metadata").as_object().if_contains("finalizers");
    return f && f->as_array().size() == 1;
  }));
  ASSERT_TRUE(c_->create(client::testing::kConfigMaps, "default",
                         dependentOf("late-part", "v1", "ReplicationController", "late",
                                     uidOf(*owner)))
                  .ok());
  ASSERT_TRUE(c_->patch(kRcs, "default", "late", client::PatchType::kMerge,
                        R"({"metadata":{"finalizers":null}})")
                  .ok());
  ASSERT_TRUE(eventually([&] { return c_->get(kRcs, "default", "late").status().isNotFound(); }));
  EXPECT_TRUE(eventually([&] {
    auto part = c_->get(client::testing::kConfigMaps, "default", "late-part");
    return part.ok() && !part->at("metadata").as_object().contains("ownerReferences");
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(c_->get(client::testing::kConfigMaps, "default", "late-part").ok());
}

// upstream: a namespaced owner must be in the dependent's namespace, else the reference is
// absent (and reported); a cluster-scoped dependent naming a namespaced owner is reported and
// never collected.
TEST_F(GarbageCollectorTest, InvalidNamespaceOwnerRefsAreReported) {
  auto owner = c_->create(client::testing::kConfigMaps, "default",
                          client::testing::configMap("default", "owner"));
  ASSERT_TRUE(owner.ok());
  std::string ownerUid = uidOf(*owner);
  client::testing::createNamespace(*c_, "other");
  auto stray = dependentOf("stray", "v1", "ConfigMap", "owner", ownerUid);
  stray.at("metadata").as_object()["namespace"] = "other";
  ASSERT_TRUE(c_->create(client::testing::kConfigMaps, "other", stray).ok());
  std::string expected =
      "Warning OwnerRefInvalidNamespace: ownerRef [v1/ConfigMap, namespace: "
      "other, name: owner, uid: " +
      ownerUid + "] does not exist in namespace \"other\"";
  EXPECT_TRUE(eventually([&] { return testing::hasEvent(*c_, "other", "stray", expected); }));
  EXPECT_TRUE(eventually([&] {
    return c_->get(client::testing::kConfigMaps, "other", "stray").status().isNotFound();
  }));

  const client::Resource kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
  json::value role = json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1",
      "kind":"ClusterRole","metadata":{"name":"gc-test-role"},"rules":[]})");
  role.at("metadata").as_object()["ownerReferences"] = json::array{json::object{
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", ownerUid}}};
  ASSERT_TRUE(c_->create(kClusterRoles, "", role).ok());
  EXPECT_TRUE(eventually([&] {
    return testing::hasEvent(*c_, "default", "gc-test-role",
                             "Warning OwnerRefInvalidNamespace: ownerRef [v1/ConfigMap, "
                             "namespace: , name: owner, uid: " +
                                 ownerUid + "] does not exist in namespace \"\"");
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(c_->get(kClusterRoles, "", "gc-test-role").ok());  // never collected
}

}  // namespace
}  // namespace berth::controllers
