#include "scheduler/plugins/volumebinding/volume_binding.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

namespace json = boost::json;

ObjectPtr obj(const std::string& text) {
  return std::make_shared<const json::value>(json::parse(text));
}

class FakeCluster : public VolumeBindingCluster {
 public:
  ObjectPtr claim(const std::string& ns, const std::string& name) const override {
    auto it = claims.find(ns + "/" + name);
    return it == claims.end() ? nullptr : it->second;
  }
  ObjectPtr storageClass(const std::string& name) const override {
    auto it = classes.find(name);
    return it == classes.end() ? nullptr : it->second;
  }
  ObjectPtr volume(const std::string& name) const override {
    auto it = pvs.find(name);
    return it == pvs.end() ? nullptr : it->second;
  }
  std::vector<ObjectPtr> volumes() const override {
    std::vector<ObjectPtr> out;
    for (const auto& [n, v] : pvs) out.push_back(v);
    return out;
  }
  core::Status selectNode(const std::string& ns, const std::string& claim,
                          const std::string& node) override {
    writes.push_back("select " + ns + "/" + claim + " " + node);
    return {};
  }
  core::Status bindVolume(const json::value& volume, const json::value& claim) override {
    writes.push_back("bind " + std::string(volume.at("metadata").at("name").as_string()) + " " +
                     std::string(claim.at("metadata").at("name").as_string()));
    return {};
  }
  std::map<std::string, ObjectPtr> claims, classes, pvs;
  std::vector<std::string> writes;
};

const char* kAffinityN1 = R"("nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[
    {"key":"kubernetes.io/hostname","operator":"In","values":["n1"]}]}]}})";

class VolumeBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster = std::make_shared<FakeCluster>();
    cluster->classes["local-path"] = obj(R"({"metadata":{"name":"local-path"},
        "provisioner":"rancher.io/local-path","volumeBindingMode":"WaitForFirstConsumer"})");
    cluster->classes["static"] = obj(R"({"metadata":{"name":"static"},
        "provisioner":"kubernetes.io/no-provisioner","volumeBindingMode":"WaitForFirstConsumer"})");
    cluster->classes["fast"] = obj(R"({"metadata":{"name":"fast"},"provisioner":"x",
        "volumeBindingMode":"Immediate"})");
    plugin = std::make_unique<VolumeBinding>(cluster);
    n1 = testing::simpleNode("n1", "4", "8Gi", R"({"kubernetes.io/hostname":"n1"})");
    n2 = testing::simpleNode("n2", "4", "8Gi", R"({"kubernetes.io/hostname":"n2"})");
  }
  void addClaim(const std::string& name, const std::string& cls, const std::string& volume = "") {
    cluster->claims["default/" + name] =
        obj(R"({"metadata":{"name":")" + name + R"(","namespace":"default","uid":")" + name +
            R"(-uid"},"spec":{"storageClassName":")" + cls + R"(","volumeName":")" + volume +
            R"(","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})");
  }
  void addVolume(const std::string& name, const std::string& cls, const std::string& extra,
                 const std::string& phase = "Available") {
    cluster->pvs[name] = obj(R"({"metadata":{"name":")" + name + R"("},"spec":{
        "storageClassName":")" +
                             cls + R"(","capacity":{"storage":"2Gi"},
        "accessModes":["ReadWriteOnce"],"hostPath":{"path":"/x"})" +
                             extra + R"(},"status":{"phase":")" + phase + R"("}})");
  }
  PodInfoPtr podWith(const std::string& claim) {
    return testing::pod(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}],
        "volumes":[{"name":"v","persistentVolumeClaim":{"claimName":")" +
                        claim + R"("}}]}})");
  }
  PluginStatus run(const PodInfo& pod, const NodeInfo& node, CycleState& state) {
    Snapshot snap;
    auto st = plugin->preFilter(state, pod, snap);
    if (!st.ok()) return st;
    return plugin->filter(state, pod, node);
  }

  std::shared_ptr<FakeCluster> cluster;
  std::unique_ptr<VolumeBinding> plugin;
  NodeInfo n1, n2;
};

TEST_F(VolumeBindingTest, PodsWithoutClaimsSkip) {
  CycleState state;
  Snapshot snap;
  auto pod = testing::pod(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}})");
  EXPECT_EQ(plugin->preFilter(state, *pod, snap).code, Code::kSkip);
}

TEST_F(VolumeBindingTest, MissingClaimAndUnboundImmediateClaimAreUnresolvable) {
  CycleState s1;
  auto st = run(*podWith("nope"), n1, s1);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons.at(0), "persistentvolumeclaim \"nope\" not found");
  addClaim("imm", "fast");
  CycleState s2;
  st = run(*podWith("imm"), n1, s2);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons.at(0), VolumeBinding::kUnboundImmediate);
}

TEST_F(VolumeBindingTest, BoundVolumeWithNodeAffinityPinsThePod) {
  addVolume("pv-local", "local-path", std::string(",") + kAffinityN1, "Bound");
  addClaim("data", "local-path", "pv-local");
  auto pod = podWith("data");
  CycleState s1, s2;
  EXPECT_TRUE(run(*pod, n1, s1).ok());
  auto st = run(*pod, n2, s2);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons.at(0), VolumeBinding::kNodeConflict);
}

TEST_F(VolumeBindingTest, WaitForFirstConsumerProvisionsOnTheChosenNode) {
  addClaim("data", "local-path");
  auto pod = podWith("data");
  CycleState state;
  ASSERT_TRUE(run(*pod, n2, state).ok());
  ASSERT_TRUE(plugin->reserve(state, *pod, "n2").ok());
  EXPECT_EQ(cluster->writes, std::vector<std::string>{"select default/data n2"});
}

TEST_F(VolumeBindingTest, WaitForFirstConsumerTakesAStaticVolumeOnlyWhereItLives) {
  addVolume("pv-n1", "static", std::string(",") + kAffinityN1);
  addClaim("data", "static");
  auto pod = podWith("data");
  CycleState s1, s2;
  auto st = run(*pod, n2, s2);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons.at(0), VolumeBinding::kBindConflict);
  ASSERT_TRUE(run(*pod, n1, s1).ok());
  ASSERT_TRUE(plugin->reserve(s1, *pod, "n1").ok());
  EXPECT_EQ(cluster->writes, std::vector<std::string>{"bind pv-n1 data"});
}

}  // namespace
}  // namespace berth::scheduler::plugins
