// Storage object in-use protection against the real server (no node agent; the test plays the
// kubelet by writing pod status): the admission plugin's finalizers, a claim kept while a
// scheduled pod uses it and released when the last user terminates or goes, a volume kept while
// Bound, and the controllers adding the finalizers to objects made without the plugin.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/finalizer_util.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/testing_pods.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;
using testing::kTestPods;

const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};
const client::Resource kVolumes{"", "v1", "persistentvolumes", false};
constexpr const char* kPvc = "kubernetes.io/pvc-protection";
constexpr const char* kPv = "kubernetes.io/pv-protection";

json::value claim(const std::string& name) {
  return json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":")" +
                     name + R"("},"spec":{"storageClassName":"manual","accessModes":[
      "ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})");
}

json::value volume(const std::string& name) {
  return json::parse(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":")" + name +
                     R"("},"spec":{"capacity":{"storage":"1Gi"},"accessModes":[
      "ReadWriteOnce"],"storageClassName":"manual","persistentVolumeReclaimPolicy":"Retain",
      "hostPath":{"path":"/tmp/berth-pvc-protection-test"}}})");
}

json::value pod(const std::string& name, const std::string& claimName) {
  return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                     R"("},"spec":{"nodeName":"n1","containers":[{"name":"a","image":"busybox"}],
      "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":")" +
                     claimName + R"("}}]}})");
}

bool gone(client::RestClient& c, const client::Resource& r, const std::string& ns,
          const std::string& name) {
  return c.get(r, ns, name).status().isNotFound();
}

// Creates in `ns`, retrying while the namespace's default ServiceAccount is not there yet.
void createPod(client::RestClient& c, const std::string& ns, const json::value& p) {
  core::Status last;
  ASSERT_TRUE(eventually([&] {
    auto r = c.create(kTestPods, ns, p);
    last = r.status();
    return r.ok();
  })) << last.message();
}

TEST(StorageProtectionIntegrationTest, ClaimAndVolumeWaitForTheirUsers) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("protection-test");

  ASSERT_TRUE(c->create(kVolumes, "", volume("pv1")).ok());
  auto created = c->create(kClaims, "default", claim("c1"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(hasFinalizer(*created, kPvc));  // set by admission, in the create's answer
  auto pv = c->get(kVolumes, "", "pv1");
  ASSERT_TRUE(pv.ok());
  EXPECT_TRUE(hasFinalizer(*pv, kPv));
  ASSERT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "pv1");
    return r.ok() && stringAt(*r, {"status", "phase"}) == "Bound";
  }));

  createPod(*c, "default", pod("user-a", "c1"));
  createPod(*c, "default", pod("user-b", "c1"));
  ASSERT_TRUE(c->remove(kClaims, "default", "c1").ok());
  // A bound volume can't go either while its claim is there.
  ASSERT_TRUE(c->remove(kVolumes, "", "pv1").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto kept = c->get(kClaims, "default", "c1");
  ASSERT_TRUE(kept.ok()) << "claim deleted while pods use it";
  EXPECT_TRUE(isBeingDeleted(*kept));
  EXPECT_TRUE(hasFinalizer(*kept, kPvc));
  EXPECT_TRUE(c->get(kVolumes, "", "pv1").ok());

  // One user finishes (Failed, as the kubelet writes it): the other still holds the claim.
  auto a = c->get(kTestPods, "default", "user-a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(testing::setPodStatusObject(*c, *a, json::object{{"phase", "Failed"}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_TRUE(c->get(kClaims, "default", "c1").ok());

  // The last user goes: the claim follows, then the volume (Released, so no longer in use).
  json::value now{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"gracePeriodSeconds", 0}};
  ASSERT_TRUE(c->remove(kTestPods, "default", "user-b", &now).ok());
  EXPECT_TRUE(eventually([&] { return gone(*c, kClaims, "default", "c1"); }));
  EXPECT_TRUE(eventually([&] { return gone(*c, kVolumes, "", "pv1"); }));

  // A claim nobody uses goes at once.
  ASSERT_TRUE(c->create(kClaims, "default", claim("idle")).ok());
  ASSERT_TRUE(c->remove(kClaims, "default", "idle").ok());
  EXPECT_TRUE(eventually([&] { return gone(*c, kClaims, "default", "idle"); }));
}

TEST(StorageProtectionIntegrationTest, ControllersAddFinalizersTheAdmissionPluginDidNot) {
  TestServer server;
  server.setExtraArgs({"--disable-admission-plugins", "StorageObjectInUseProtection"});
  ASSERT_TRUE(server.start());
  auto c = server.client("protection-test");
  auto created = c->create(kClaims, "default", claim("old"));
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(hasFinalizer(*created, kPvc));
  ASSERT_TRUE(c->create(kVolumes, "", volume("old-pv")).ok());
  EXPECT_TRUE(eventually([&] {
    auto r = c->get(kClaims, "default", "old");
    return r.ok() && hasFinalizer(*r, kPvc);
  }));
  EXPECT_TRUE(eventually([&] {
    auto r = c->get(kVolumes, "", "old-pv");
    return r.ok() && hasFinalizer(*r, kPv);
  }));
}

}  // namespace
}  // namespace berth::controllers
