#include "controllers/garbagecollector/graph.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

namespace berth::controllers::gc {
namespace {

ObservedObject cm(const std::string& name, const std::string& uid,
                  std::vector<OwnerRef> owners = {}) {
  ObservedObject o;
  o.ref = {"v1", "ConfigMap", "ns", name, uid};
  o.owners = std::move(owners);
  return o;
}

OwnerRef ownerRef(const std::string& name, const std::string& uid, bool block = false) {
  return {"v1", "ConfigMap", name, uid, true, block};
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(GcGraph, DependentOfUnseenOwnerMakesAVirtualNodeToVerify) {
  Graph g;
  auto a = g.observe(cm("child", "c1", {ownerRef("parent", "p1")}));
  EXPECT_TRUE(contains(a.attemptToDelete, "p1"));
  auto p = g.node("p1");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->observed);
  ASSERT_EQ(p->dependents.size(), 1u);
  EXPECT_EQ(p->dependents[0].uid, "c1");
  // The owner's namespace is the dependent's until verified.
  EXPECT_EQ(p->ref.namespace_, "ns");
  // Observing the owner makes the node real: forgetVirtual is then a no-op.
  g.observe(cm("parent", "p1"));
  EXPECT_TRUE(g.forgetVirtual("p1").attemptToDelete.empty());
  EXPECT_TRUE(g.node("p1")->observed);
}

TEST(GcGraph, AbsentVirtualOwnerQueuesItsDependents) {
  Graph g;
  g.observe(cm("child", "c1", {ownerRef("parent", "p1")}));
  auto a = g.forgetVirtual("p1");
  EXPECT_TRUE(contains(a.attemptToDelete, "c1"));
  EXPECT_FALSE(g.node("p1"));
}

TEST(GcGraph, DeletedOwnerQueuesDependents) {
  Graph g;
  g.observe(cm("parent", "p1"));
  g.observe(cm("a", "c1", {ownerRef("parent", "p1")}));
  g.observe(cm("b", "c2", {ownerRef("parent", "p1")}));
  auto a = g.forget("p1");
  EXPECT_TRUE(contains(a.attemptToDelete, "c1"));
  EXPECT_TRUE(contains(a.attemptToDelete, "c2"));
  EXPECT_EQ(g.size(), 2u);
}

TEST(GcGraph, ForegroundOwnerQueuesDependentsAndWaitsOnBlockingOnes) {
  Graph g;
  g.observe(cm("parent", "p1"));
  g.observe(cm("a", "c1", {ownerRef("parent", "p1", true)}));
  g.observe(cm("b", "c2", {ownerRef("parent", "p1", false)}));
  auto deleting = cm("parent", "p1");
  deleting.beingDeleted = deleting.deletingDependents = true;
  auto a = g.observe(deleting);
  EXPECT_TRUE(contains(a.attemptToDelete, "c1"));
  EXPECT_TRUE(contains(a.attemptToDelete, "c2"));
  EXPECT_TRUE(contains(a.attemptToDelete, "p1"));
  auto p = g.node("p1");
  ASSERT_EQ(p->blockingDependents.size(), 1u);
  EXPECT_EQ(p->blockingDependents[0].uid, "c1");
  // The blocking dependent going away wakes the owner.
  auto gone = g.forget("c1");
  EXPECT_TRUE(contains(gone.attemptToDelete, "p1"));
  EXPECT_TRUE(g.node("p1")->blockingDependents.empty());
}

TEST(GcGraph, UnblockingOrRemovingAReferenceWakesAForegroundOwner) {
  Graph g;
  auto deleting = cm("parent", "p1");
  deleting.beingDeleted = deleting.deletingDependents = true;
  g.observe(deleting);
  g.observe(cm("a", "c1", {ownerRef("parent", "p1", true)}));
  auto a = g.observe(cm("a", "c1", {ownerRef("parent", "p1", false)}));
  EXPECT_TRUE(contains(a.attemptToDelete, "p1"));
  auto b = g.observe(cm("a", "c1"));
  EXPECT_TRUE(contains(b.attemptToDelete, "p1"));
  EXPECT_TRUE(g.node("p1")->dependents.empty());
}

TEST(GcGraph, OrphanFinalizerQueuesOrphaning) {
  Graph g;
  auto o = cm("parent", "p1");
  o.beingDeleted = o.orphaning = true;
  auto a = g.observe(o);
  EXPECT_EQ(a.attemptToOrphan, std::vector<std::string>{"p1"});
}

TEST(GcGraph, ReadsOwnerReferencesAndDeletionStateFromJson) {
  auto obj = boost::json::parse(R"({"metadata":{"name":"x","namespace":"ns","uid":"u",
    "deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":["foregroundDeletion"],
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"r1",
      "controller":true,"blockOwnerDeletion":true},{"kind":"Bad"}]}})");
  auto o = observedFrom(obj, "v1", "Pod");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->ref.kind, "Pod");
  EXPECT_EQ(o->ref.uid, "u");
  ASSERT_EQ(o->owners.size(), 1u);  // a reference without uid is skipped
  EXPECT_TRUE(o->owners[0].blockOwnerDeletion);
  EXPECT_TRUE(o->deletingDependents);
  EXPECT_FALSE(o->orphaning);
  EXPECT_FALSE(observedFrom(boost::json::parse(R"({"metadata":{"name":"x"}})"), "v1", "Pod"));
}

}  // namespace
}  // namespace berth::controllers::gc
