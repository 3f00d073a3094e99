#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

class LimitRangerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // As stored: the kind's defaults already filled defaultRequest from default.
    reader.add("limitranges", parse(R"({"metadata":{"name":"lr","namespace":"d"},"spec":{"limits":[
        {"type":"Container","max":{"cpu":"1"},"min":{"cpu":"50m"},
         "default":{"cpu":"500m","memory":"64Mi"},"defaultRequest":{"cpu":"100m","memory":"64Mi"},
         "maxLimitRequestRatio":{"cpu":"8"}},
        {"type":"Pod","max":{"memory":"1Gi"}},
        {"type":"PersistentVolumeClaim","max":{"storage":"2Gi"},"min":{"storage":"1Gi"}}]}})"));
    plugin = newLimitRanger(reader);
  }
  FakeReader reader;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(LimitRangerTest, FillsDefaultsAndAnnotates) {
  Request rq(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{
      "containers":[{"name":"a"},{"name":"b","resources":{"limits":{"cpu":"200m"},
                                                          "requests":{"cpu":"200m"}}}],
      "initContainers":[{"name":"i"}]}})"));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  const auto& spec = rq.obj["spec"].as_object();
  const auto& a = spec.at("containers").as_array()[0].as_object().at("resources").as_object();
  EXPECT_EQ(a.at("requests").as_object().at("cpu"), "100m");
  EXPECT_EQ(a.at("limits").as_object().at("cpu"), "500m");
  const auto& b = spec.at("containers").as_array()[1].as_object().at("resources").as_object();
  EXPECT_EQ(b.at("limits").as_object().at("cpu"), "200m");  // kept
  EXPECT_EQ(b.at("limits").as_object().at("memory"), "64Mi");
  EXPECT_EQ(rq.obj["metadata"].as_object()["annotations"].as_object()["kubernetes.io/limit-ranger"],
            "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for "
            "container a; memory request for container b; memory limit for container b; cpu, "
            "memory request for init container i; cpu, memory limit for init container i");
  EXPECT_TRUE(plugin->validate(rq.a).ok());
}

TEST_F(LimitRangerTest, RejectsOutOfBoundsWithUpstreamMessages) {
  Request big(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","resources":{"limits":{"cpu":"2","memory":"64Mi"},"requests":{"cpu":"1","memory":"64Mi"}}}]}})"));
  auto st = plugin->validate(big.a);
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.message(),
            "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2");
  Request ratio(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","resources":{"limits":{"cpu":"1","memory":"64Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}}]}})"));
  EXPECT_EQ(plugin->validate(ratio.a).message(),
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 8, but "
            "provided ratio is 10.000000");
  Request pod(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","resources":{"limits":{"cpu":"1","memory":"768Mi"},"requests":{"cpu":"1","memory":"64Mi"}}},
      {"name":"b","resources":{"limits":{"cpu":"1","memory":"768Mi"},"requests":{"cpu":"1","memory":"64Mi"}}}]}})"));
  EXPECT_EQ(plugin->validate(pod.a).message(),
            "pods \"p\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1536Mi");
  Request small(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","resources":{"limits":{"cpu":"10m"},"requests":{"cpu":"10m"}}}]}})"));
  EXPECT_EQ(plugin->validate(small.a).message(),
            "pods \"p\" is forbidden: minimum cpu usage per Container is 50m, but request is 10m");
}

TEST_F(LimitRangerTest, PersistentVolumeClaimStorageBounds) {
  Request pvc(type("", "persistentvolumeclaims"), "d", parse(R"({"metadata":{"name":"c"},"spec":{
      "resources":{"requests":{"storage":"5Gi"}}}})"));
  EXPECT_EQ(plugin->validate(pvc.a).message(),
            "persistentvolumeclaims \"c\" is forbidden: maximum storage usage per "
            "PersistentVolumeClaim is 2Gi, but request is 5Gi");
  Request ok(type("", "persistentvolumeclaims"), "d", parse(R"({"metadata":{"name":"c"},"spec":{
      "resources":{"requests":{"storage":"1500Mi"}}}})"));
  EXPECT_TRUE(plugin->validate(ok.a).ok());
}

TEST_F(LimitRangerTest, OtherNamespacesUntouched) {
  Request rq(type("", "pods"), "other", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  EXPECT_FALSE(rq.obj["spec"].as_object()["containers"].as_array()[0].as_object().contains("resources"));
}

}  // namespace
}  // namespace berth::apiserver::admission
