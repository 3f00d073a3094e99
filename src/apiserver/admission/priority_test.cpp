#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/priority.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

class PriorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& pc : builtinPriorityClasses()) reader.add("priorityclasses", pc, "scheduling.k8s.io");
    plugin = newPriority(reader);
  }
  json::object pod(const char* spec) {
    auto o = parse(R"({"metadata":{"name":"p"}})");
    o["spec"] = json::parse(spec);
    return o;
  }
  FakeReader reader;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(PriorityTest, ResolvesNamedClass) {
  Request rq(type("", "pods"), "d", pod(R"({"priorityClassName":"system-cluster-critical"})"));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  EXPECT_EQ(rq.obj["spec"].as_object()["priority"], 2000000000);
  EXPECT_EQ(rq.obj["spec"].as_object()["preemptionPolicy"], "PreemptLowerPriority");
}

TEST_F(PriorityTest, UnknownClassForbidden) {
  Request rq(type("", "pods"), "d", pod(R"({"priorityClassName":"nope"})"));
  auto st = plugin->admit(rq.a);
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.message(), "pods \"p\" is forbidden: no PriorityClass with name nope was found");
}

TEST_F(PriorityTest, DefaultsToZeroThenToGlobalDefault) {
  Request none(type("", "pods"), "d", pod("{}"));
  ASSERT_TRUE(plugin->admit(none.a).ok());
  EXPECT_EQ(none.obj["spec"].as_object()["priority"], 0);
  EXPECT_FALSE(none.obj["spec"].as_object().contains("priorityClassName"));
  reader.add("priorityclasses", parse(R"({"metadata":{"name":"low"},"value":10,"globalDefault":true,
      "preemptionPolicy":"Never"})"), "scheduling.k8s.io");
  Request def(type("", "pods"), "d", pod("{}"));
  ASSERT_TRUE(plugin->admit(def.a).ok());
  EXPECT_EQ(def.obj["spec"].as_object()["priority"], 10);
  EXPECT_EQ(def.obj["spec"].as_object()["priorityClassName"], "low");
  EXPECT_EQ(def.obj["spec"].as_object()["preemptionPolicy"], "Never");
  // A second globalDefault class is refused.
  Request second(type("scheduling.k8s.io", "priorityclasses"), "",
                 parse(R"({"metadata":{"name":"other"},"value":5,"globalDefault":true})"));
  EXPECT_EQ(plugin->validate(second.a).message(),
            "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass low is "
            "already marked as default. Only one default can exist");
}

TEST_F(PriorityTest, PodMayNotBringItsOwnPriority) {
  Request rq(type("", "pods"), "d", pod(R"({"priority":7})"));
  EXPECT_EQ(plugin->admit(rq.a).message(),
            "pods \"p\" is forbidden: the integer value of priority (7) must not be provided in "
            "pod spec; priority admission controller computed 0 from the given PriorityClass name");
  Request same(type("", "pods"), "d", pod(R"({"priorityClassName":"system-node-critical",
                                             "priority":2000001000})"));
  EXPECT_TRUE(plugin->admit(same.a).ok());
}

TEST_F(PriorityTest, UpdateKeepsPriority) {
  auto old = pod(R"({"priority":2000000000,"preemptionPolicy":"PreemptLowerPriority"})");
  Request rq(type("", "pods"), "d", pod("{}"), &old);
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  EXPECT_EQ(rq.obj["spec"].as_object()["priority"], 2000000000);
}

}  // namespace
}  // namespace berth::apiserver::admission
