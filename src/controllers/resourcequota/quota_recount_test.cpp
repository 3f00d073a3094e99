#include "controllers/resourcequota/quota_recount.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace berth::controllers::resourcequota {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(QuotaRecount, TrackedResourcesFollowHardNames) {
  auto tracked = trackedResources({"requests.cpu", "configmaps", "count/deployments.apps",
                                   "count/widgets", "services.nodeports"});
  std::vector<GroupResource> want = {
      {"", "configmaps"}, {"", "pods"}, {"", "services"}, {"", "widgets"}, {"apps", "deployments"}};
  EXPECT_EQ(tracked, want);
}

TEST(QuotaRecount, RecountsEveryHardNameIncludingZeros) {
  auto quota = obj(R"({"status":{"hard":{"pods":"10","requests.memory":"4Gi","secrets":"3"}}})");
  std::vector<std::pair<GroupResource, std::vector<json::object>>> objects = {
      {{"", "pods"},
       {obj(R"({"spec":{"containers":[{"resources":{"requests":{"memory":"1Gi"}}}]}})"),
        obj(R"({"spec":{"containers":[{"resources":{"requests":{"memory":"512Mi"}}}]}})"),
        obj(R"({"spec":{"containers":[{}]},"status":{"phase":"Failed"}})")}}};
  auto used = recount(quota, objects);
  EXPECT_EQ(core::quota::prettyPrint(used), "pods=2,requests.memory=1536Mi,secrets=0");
}

TEST(QuotaRecount, ScopedQuotaCountsMatchingPodsOnly) {
  auto quota = obj(R"({"spec":{"scopes":["BestEffort"]},"status":{"hard":{"pods":"10"}}})");
  std::vector<std::pair<GroupResource, std::vector<json::object>>> objects = {
      {{"", "pods"},
       {obj(R"({"spec":{"containers":[{}]}})"),
        obj(R"({"spec":{"containers":[{"resources":{"limits":{"cpu":"1"}}}]}})")}}};
  EXPECT_EQ(core::quota::prettyPrint(recount(quota, objects)), "pods=1");
}

}  // namespace
}  // namespace berth::controllers::resourcequota
