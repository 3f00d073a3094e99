// persistentVolumeClaim volumes: the bound PV's directory is created and handed out for the
// bind mount; an unbound or missing claim, or a volume pinned to another node, is an error the
// pod worker reports as FailedMount and retries.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>

#include "kubelet/volumes.h"

namespace berth::kubelet {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

class ClaimSource : public ObjectSource {
 public:
  std::map<std::string, json::object> claims, volumes;
  core::Result<json::object> configMap(const std::string&, const std::string& n) override {
    return core::Status::notFound("configmaps", n);
  }
  core::Result<json::object> secret(const std::string&, const std::string& n) override {
    return core::Status::notFound("secrets", n);
  }
  core::Result<json::object> persistentVolumeClaim(const std::string& ns,
                                                   const std::string& n) override {
    auto it = claims.find(ns + "/" + n);
    if (it == claims.end()) return core::Status::notFound("persistentvolumeclaims", n);
    return it->second;
  }
  core::Result<json::object> persistentVolume(const std::string& n) override {
    auto it = volumes.find(n);
    if (it == volumes.end()) return core::Status::notFound("persistentvolumes", n);
    return it->second;
  }
};

class ClaimVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("berth-pvc-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  core::Result<std::map<std::string, PodVolume>> setup(const std::string& node = "n1") {
    auto pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns"},"spec":{"volumes":[
        {"name":"data","persistentVolumeClaim":{"claimName":"c","readOnly":true}}]}})");
    PodRuntimeFacts facts;
    facts.nodeName = node;
    return setupVolumes(pod.as_object(), (dir / "pod").string(), source, nullptr, facts);
  }
  void bind(const std::string& pvPath) {
    source.claims["ns/c"] =
        json::parse(R"({"spec":{"volumeName":"pv1"},"status":{"phase":"Bound"}})").as_object();
    source.volumes["pv1"] = json::parse(R"({"spec":{"hostPath":{"path":")" + pvPath +
                                        R"(","type":"DirectoryOrCreate"},"nodeAffinity":{
        "required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname",
        "operator":"In","values":["n1"]}]}]}}}})")
                                .as_object();
  }
  fs::path dir;
  ClaimSource source;
};

TEST_F(ClaimVolumeTest, MissingOrUnboundClaimIsAnError) {
  auto r = setup();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().isNotFound());
  source.claims["ns/c"] = json::parse(R"({"spec":{},"status":{"phase":"Pending"}})").as_object();
  r = setup();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "PersistentVolumeClaim \"c\" is not bound yet");
}

TEST_F(ClaimVolumeTest, BoundClaimMountsTheVolumesDirectory) {
  std::string path = (dir / "storage" / "pvc-1_ns_c").string();
  bind(path);
  auto r = setup();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->count("data"), 1u);
  EXPECT_EQ(r->at("data").hostPath, path);
  EXPECT_TRUE(r->at("data").readOnly);
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::all);  // 0777
}

TEST_F(ClaimVolumeTest, VolumePinnedToAnotherNodeIsRefused) {
  std::string path = (dir / "storage" / "elsewhere").string();
  bind(path);
  auto r = setup("n2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is on node \"n1\""), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace berth::kubelet
