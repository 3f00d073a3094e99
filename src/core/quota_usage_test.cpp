#include "core/quota_usage.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace berth::core::quota {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

std::string usageOf(std::string_view group, std::string_view resource, std::string_view text) {
  return prettyPrint(usage(group, resource, obj(text)));
}

TEST(QuotaUsage, ObjectCountsUseLegacyAndCountNames) {
  EXPECT_EQ(usageOf("", "configmaps", "{}"), "configmaps=1,count/configmaps=1");
  EXPECT_EQ(usageOf("apps", "deployments", "{}"), "count/deployments.apps=1");
  EXPECT_EQ(usageOf("", "events", "{}"), "count/events=1");
}

TEST(QuotaUsage, PodsSumContainersAndTakeLargestInit) {
  auto pod = R"({"spec":{"containers":[
      {"name":"a","resources":{"requests":{"cpu":"100m","memory":"1Gi"},"limits":{"cpu":"1"}}},
      {"name":"b","resources":{"requests":{"cpu":"200m","memory":"512Mi"}}}],
    "initContainers":[{"name":"i","resources":{"requests":{"cpu":"2"}}}]}})";
  EXPECT_EQ(usageOf("", "pods", pod),
            "count/pods=1,cpu=2,limits.cpu=1,memory=1536Mi,pods=1,requests.cpu=2,"
            "requests.memory=1536Mi");
  EXPECT_EQ(usageOf("", "pods", R"({"spec":{},"status":{"phase":"Succeeded"}})"), "");
}

TEST(QuotaUsage, ServicesCountNodePortsAndLoadBalancers) {
  EXPECT_EQ(usageOf("", "services", R"({"spec":{"type":"NodePort","ports":[{},{}]}})"),
            "count/services=1,services=1,services.nodeports=2");
  EXPECT_EQ(usageOf("", "services", R"({"spec":{"type":"LoadBalancer","ports":[{}]}})"),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1");
}

TEST(QuotaUsage, ClaimsChargeStoragePerClass) {
  EXPECT_EQ(usageOf("", "persistentvolumeclaims",
                    R"({"spec":{"storageClassName":"gold","resources":{"requests":{"storage":"1Gi"}}}})"),
            "count/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/"
            "persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/requests.storage=1Gi,"
            "persistentvolumeclaims=1,requests.storage=1Gi");
}

TEST(QuotaUsage, ScopesApplyToPodsOnly) {
  auto quota = [](std::string_view scopes) {
    return obj(std::string(R"({"spec":)") + std::string(scopes) +
               R"(,"status":{"hard":{"pods":"5","configmaps":"5"}}})");
  };
  auto bestEffort = obj(R"({"spec":{"containers":[{"name":"c"}]}})");
  auto burstable =
      obj(R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]}})");
  auto terminating = obj(R"({"spec":{"activeDeadlineSeconds":30,"containers":[{"name":"c"}]}})");
  EXPECT_TRUE(quotaMatches(quota(R"({"scopes":["BestEffort"]})"), "", "pods", bestEffort));
  EXPECT_FALSE(quotaMatches(quota(R"({"scopes":["BestEffort"]})"), "", "pods", burstable));
  EXPECT_TRUE(quotaMatches(quota(R"({"scopes":["NotBestEffort"]})"), "", "pods", burstable));
  EXPECT_TRUE(quotaMatches(quota(R"({"scopes":["Terminating"]})"), "", "pods", terminating));
  EXPECT_FALSE(quotaMatches(quota(R"({"scopes":["Terminating"]})"), "", "pods", bestEffort));
  EXPECT_TRUE(quotaMatches(quota(R"({"scopes":["NotTerminating"]})"), "", "pods", bestEffort));
  EXPECT_FALSE(quotaMatches(quota(R"({"scopes":["BestEffort"]})"), "", "configmaps", obj("{}")));
  EXPECT_TRUE(quotaMatches(quota("{}"), "", "configmaps", obj("{}")));
  auto high = quota(
      R"({"scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In","values":["high"]}]}})");
  EXPECT_TRUE(quotaMatches(high, "", "pods", obj(R"({"spec":{"priorityClassName":"high"}})")));
  EXPECT_FALSE(quotaMatches(high, "", "pods", obj(R"({"spec":{"priorityClassName":"low"}})")));
  EXPECT_FALSE(quotaMatches(high, "", "pods", obj(R"({"spec":{}})")));
  // A quota the controller has not filled status.hard of is not enforced yet (upstream).
  EXPECT_FALSE(quotaMatches(obj(R"({"spec":{"hard":{"pods":"1"}}})"), "", "pods", bestEffort));
}

TEST(QuotaUsage, PodConstraintsNameMissingValuesPerContainer) {
  auto pod = obj(R"({"spec":{"containers":[
      {"name":"c","resources":{"requests":{"cpu":"1"}}},
      {"name":"d","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"1"}}}]}})");
  EXPECT_EQ(missingConstraints("", "pods", pod, {"limits.cpu", "pods"}),
            "must specify limits.cpu for: c");
  EXPECT_EQ(missingConstraints("", "pods", pod, {"limits.cpu", "requests.memory"}),
            "must specify limits.cpu for: c; requests.memory for: c,d");
  EXPECT_EQ(missingConstraints("", "pods", pod, {"requests.cpu", "pods"}), "");
  EXPECT_EQ(missingConstraints("", "configmaps", obj("{}"), {"limits.cpu"}), "");
}

TEST(QuotaUsage, MatchingResourcesPerKind) {
  std::vector<std::string> hard = {"configmaps", "count/configmaps", "pods", "requests.cpu",
                                   "services.nodeports", "count/deployments.apps"};
  EXPECT_EQ(matchingResources("", "configmaps", hard),
            (std::vector<std::string>{"configmaps", "count/configmaps"}));
  EXPECT_EQ(matchingResources("", "pods", hard),
            (std::vector<std::string>{"pods", "requests.cpu"}));
  EXPECT_EQ(matchingResources("", "services", hard),
            (std::vector<std::string>{"services.nodeports"}));
  EXPECT_EQ(matchingResources("apps", "deployments", hard),
            (std::vector<std::string>{"count/deployments.apps"}));
}

}  // namespace
}  // namespace berth::core::quota
