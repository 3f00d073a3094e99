// The binder and the local-path provisioner against the real server (no node agent; the test
// plays the scheduler by annotating the claim and the kubelet by creating the directory):
// static binding, release with Retain, dynamic provisioning on the selected node in the
// directory it announces, reclaim Delete handing the volume to that node (which removes the
// directory and its finalizer, core/local_path.h) before it goes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "client/testing_server.h"
#include "controllers/persistentvolume/pv_common.h"
#include "core/local_path.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using client::testing::eventually;
using client::testing::TestServer;
using namespace pv;

json::value claim(const std::string& name, const std::string& extraSpec) {
  return json::parse(
      R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":")" + name +
      R"(","namespace":"default"},"spec":{)" + extraSpec +
      R"("accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"500Mi"}}}})");
}

std::string at(const json::value& v, const char* a, const char* b) {
  return text(sub(v.as_object(), a), b);
}

TEST(PersistentVolumeIntegrationTest, BindsReleasesProvisionsAndDeletes) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("pv-test");

  // The default class is there, as k3s ships it.
  json::value cls;
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kClasses, "", "local-path");
    if (r.ok()) cls = *r;
    return r.ok();
  }));
  EXPECT_EQ(text(cls.as_object(), "provisioner"), "rancher.io/local-path");
  EXPECT_EQ(text(cls.as_object(), "volumeBindingMode"), "WaitForFirstConsumer");
  EXPECT_EQ(text(cls.as_object(), "reclaimPolicy"), "Delete");
  EXPECT_EQ(
      core::volumes::annotation(cls.as_object(), "storageclass.kubernetes.io/is-default-class"),
      "true");

  // Immediate binding to a pre-created volume: the smaller of two that fit.
  for (auto [name, size] : {std::pair{"manual-big", "5Gi"}, std::pair{"manual-1", "1Gi"}}) {
    auto pv = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":")" +
                          std::string(name) + R"("},"spec":{"capacity":{"storage":")" + size +
                          R"("},"accessModes":["ReadWriteOnce"],"storageClassName":"manual",
                            "hostPath":{"path":"/tmp/berth-pv-test"}}})");
    ASSERT_TRUE(c->create(kVolumes, "", pv).ok());
  }
  auto created = c->create(kClaims, "default", claim("static", R"("storageClassName":"manual",)"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::string claimUid = at(*created, "metadata", "uid");
  json::value bound;
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kClaims, "default", "static");
    if (r.ok()) bound = *r;
    return r.ok() && at(*r, "status", "phase") == "Bound";
  })) << json::serialize(bound);
  EXPECT_EQ(at(bound, "spec", "volumeName"), "manual-1");
  EXPECT_EQ(text(sub(sub(bound.as_object(), "status"), "capacity"), "storage"), "1Gi");
  EXPECT_EQ(core::volumes::annotation(bound.as_object(), "pv.kubernetes.io/bind-completed"), "yes");
  json::value volume;
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "manual-1");
    if (r.ok()) volume = *r;
    return r.ok() && at(*r, "status", "phase") == "Bound";
  }));
  EXPECT_EQ(text(sub(sub(volume.as_object(), "spec"), "claimRef"), "uid"), claimUid);
  EXPECT_EQ(core::volumes::annotation(volume.as_object(), "pv.kubernetes.io/bound-by-controller"),
            "yes");
  // The other one is Available (new volumes start Pending until the binder has seen them).
  EXPECT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "manual-big");
    return r.ok() && at(*r, "status", "phase") == "Available";
  }));

  // Deleting the claim releases the volume; Retain (the default for manual PVs) keeps it.
  ASSERT_TRUE(c->remove(kClaims, "default", "static").ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "manual-1");
    return r.ok() && at(*r, "status", "phase") == "Released";
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(c->get(kVolumes, "", "manual-1").ok());

  // Reclaim Delete of a volume no provisioner made: nothing can delete it (upstream has no
  // deleter plugin for it either), so it is Failed and kept.
  auto manualDelete = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolume",
      "metadata":{"name":"manual-del"},"spec":{"capacity":{"storage":"1Gi"},
      "accessModes":["ReadWriteOnce"],"storageClassName":"manual-del",
      "persistentVolumeReclaimPolicy":"Delete","hostPath":{"path":"/tmp/berth-pv-test"}}})");
  ASSERT_TRUE(c->create(kVolumes, "", manualDelete).ok());
  ASSERT_TRUE(
      c->create(kClaims, "default", claim("del", R"("storageClassName":"manual-del",)")).ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "manual-del");
    return r.ok() && at(*r, "status", "phase") == "Bound";
  }));
  ASSERT_TRUE(c->remove(kClaims, "default", "del").ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "manual-del");
    return r.ok() && at(*r, "status", "phase") == "Failed";
  }));

  // Dynamic provisioning: no class named → the default; waits for a node, then gets a PV there.
  auto dyn = c->create(kClaims, "default", claim("dyn", ""));
  ASSERT_TRUE(dyn.ok()) << dyn.status().message();
  EXPECT_EQ(at(*dyn, "spec", "storageClassName"), "local-path");
  std::string uid = at(*dyn, "metadata", "uid");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto pending = c->get(kClaims, "default", "dyn");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(at(*pending, "status", "phase"), "Pending");
  EXPECT_TRUE(c->get(kVolumes, "", "pvc-" + uid).status().isNotFound());
  // Node n1 keeps its local-path volumes in a directory of its own.
  const std::string nodeDir = server.dataDir() + "/n1-storage";
  json::value node = {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", "n1"}, {"annotations", {{core::localpath::kAnnLocalPathDir, nodeDir}}}}}};
  ASSERT_TRUE(c->create(client::Resource{"", "v1", "nodes", false}, "", node).ok());
  ASSERT_TRUE(
      c->patch(kClaims, "default", "dyn", client::PatchType::kMerge,
               R"({"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"n1"}}})")
          .ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kClaims, "default", "dyn");
    return r.ok() && at(*r, "status", "phase") == "Bound";
  }));
  auto pv = c->get(kVolumes, "", "pvc-" + uid);
  ASSERT_TRUE(pv.ok());
  std::string path = text(sub(sub(pv->as_object(), "spec"), "hostPath"), "path");
  EXPECT_EQ(path, nodeDir + "/pvc-" + uid + "_default_dyn");
  EXPECT_EQ(core::volumes::volumePinnedNode(pv->as_object()), "n1");
  EXPECT_EQ(text(sub(pv->as_object(), "spec"), "persistentVolumeReclaimPolicy"), "Delete");
  EXPECT_EQ(text(sub(sub(pv->as_object(), "spec"), "capacity"), "storage"), "500Mi");
  // The kubelet would create the directory on first mount; the test does.
  fs::create_directories(path);
  std::ofstream(path + "/data") << "hello";

  // Reclaim Delete: the claim goes; the volume is handed to n1 (labelled, held by the clean-up
  // finalizer, deleted) and its directory, on the node, left to the node.
  ASSERT_TRUE(c->remove(kClaims, "default", "dyn").ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "pvc-" + uid);
    return r.ok() && sub(r->as_object(), "metadata").contains("deletionTimestamp");
  }));
  auto handed = c->get(kVolumes, "", "pvc-" + uid);
  ASSERT_TRUE(handed.ok());
  const auto& meta = sub(handed->as_object(), "metadata");
  EXPECT_EQ(text(sub(meta, "labels"), core::localpath::kLabelCleanupNode), "n1");
  EXPECT_TRUE(fs::exists(path + "/data")) << "the server removed the node's directory";
  // Play n1's agent: the directory goes, then the finalizer; then the volume is gone.
  fs::remove_all(path);
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "pvc-" + uid);
    if (!r.ok()) return r.status().isNotFound();
    json::object v = r->as_object();
    auto& fins = v["metadata"].as_object()["finalizers"].as_array();
    auto ours =
        std::find(fins.begin(), fins.end(), json::value(core::localpath::kCleanupFinalizer));
    if (ours == fins.end()) return false;
    fins.erase(ours);
    (void)c->update(kVolumes, "", v);
    return false;
  }));
}

// Upstream's deleteFor skips the clean-up of a volume whose Node is NotFound and deletes it
// (rancher/local-path-provisioner#480): a volume whose node is gone neither waits for that
// node's agent forever nor is handed to it. Both orders: the node goes after the volume was
// handed over (the provisioner drops the clean-up finalizer), and before its claim goes.
TEST(PersistentVolumeIntegrationTest, VolumesOfADeletedNodeAreDeletedWithoutCleanUp) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("pv-gone-node-test");
  const client::Resource nodes{"", "v1", "nodes", false};
  json::value node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n2"}}}};
  ASSERT_TRUE(c->create(nodes, "", node).ok());
  ASSERT_TRUE(eventually([&] { return c->get(kClasses, "", "local-path").ok(); }));
  std::map<std::string, std::string> volumeOf;
  for (std::string name : {"handed", "orphan"}) {
    auto created = c->create(kClaims, "default", claim(name, ""));
    ASSERT_TRUE(created.ok()) << created.status().message();
    volumeOf[name] = "pvc-" + at(*created, "metadata", "uid");
    ASSERT_TRUE(
        c->patch(kClaims, "default", name, client::PatchType::kMerge,
                 R"({"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"n2"}}})")
            .ok());
    ASSERT_TRUE(eventually([&] {
      auto r = c->get(kClaims, "default", name);
      return r.ok() && at(*r, "status", "phase") == "Bound";
    })) << name;
  }
  // "handed": released while n2 exists, so it waits for n2's agent (which never comes).
  ASSERT_TRUE(c->remove(kClaims, "default", "handed").ok());
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", volumeOf["handed"]);
    return r.ok() && sub(r->as_object(), "metadata").contains("deletionTimestamp");
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto waiting = c->get(kVolumes, "", volumeOf["handed"]);
  ASSERT_TRUE(waiting.ok()) << "the volume went while its node still existed";
  EXPECT_EQ(text(sub(sub(waiting->as_object(), "metadata"), "labels"),
                 core::localpath::kLabelCleanupNode),
            "n2");
  // The node goes: the handed volume follows without its clean-up.
  ASSERT_TRUE(c->remove(nodes, "", "n2").ok());
  EXPECT_TRUE(eventually([&] {
    return c->get(kVolumes, "", volumeOf["handed"]).status().isNotFound();
  })) << "a volume handed to a deleted node waits for its clean-up";
  // "orphan": released after its node went; deleted at once, never handed to n2.
  ASSERT_TRUE(c->remove(kClaims, "default", "orphan").ok());
  EXPECT_TRUE(eventually([&] {
    return c->get(kVolumes, "", volumeOf["orphan"]).status().isNotFound();
  })) << "a volume of a deleted node waits for its clean-up";
}

}  // namespace
}  // namespace berth::controllers
