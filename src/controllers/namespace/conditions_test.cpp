#include "controllers/namespace/conditions.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/json_access.h"

namespace berth::controllers::ns {
namespace {

namespace json = boost::json;

const json::object* condition(const json::object& ns, const std::string& type) {
  for (const auto& c : ns.at("status").at("conditions").as_array())
    if (core::stringField(c.as_object(), "type") == type) return &c.as_object();
  return nullptr;
}

TEST(NamespaceConditions, AllFiveOkWhenNothingIsWrong) {
  json::object ns;
  EXPECT_TRUE(updateConditions(ns, {}, "2026-01-01T00:00:00Z"));
  EXPECT_EQ(ns.at("status").at("conditions").as_array().size(), 5u);
  auto* c = condition(ns, "NamespaceContentRemaining");
  ASSERT_TRUE(c);
  EXPECT_EQ(core::stringField(*c, "status"), "False");
  EXPECT_EQ(core::stringField(*c, "reason"), "ContentRemoved");
  EXPECT_EQ(
      core::stringField(*condition(ns, "NamespaceDeletionGroupVersionParsingFailure"), "reason"),
      "ParsedGroupVersions");
  // The same report again changes nothing.
  EXPECT_FALSE(updateConditions(ns, {}, "2026-01-01T00:00:09Z"));
}

TEST(NamespaceConditions, RemainingContentAndFinalizersAsUpstreamWordsThem) {
  json::object ns;
  updateConditions(ns, {}, "2026-01-01T00:00:00Z");
  DeletionReport r;
  r.remainingByResource["pods."] = 2;
  r.remainingByResource["configmaps."] = 1;
  r.remainingByFinalizer["example.com/hold"] = 1;
  r.contentErrors.push_back("widgets.example.com: boom");
  EXPECT_TRUE(updateConditions(ns, r, "2026-01-01T00:00:05Z"));
  auto* remaining = condition(ns, "NamespaceContentRemaining");
  EXPECT_EQ(core::stringField(*remaining, "status"), "True");
  EXPECT_EQ(core::stringField(*remaining, "reason"), "SomeResourcesRemain");
  EXPECT_EQ(core::stringField(*remaining, "message"),
            "Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 "
            "resource instances");
  EXPECT_EQ(core::stringField(*remaining, "lastTransitionTime"), "2026-01-01T00:00:05Z");
  EXPECT_EQ(core::stringField(*condition(ns, "NamespaceFinalizersRemaining"), "message"),
            "Some finalizers are remaining: example.com/hold in 1 resource instances");
  auto* failure = condition(ns, "NamespaceDeletionContentFailure");
  EXPECT_EQ(core::stringField(*failure, "reason"), "ContentDeletionFailed");
  EXPECT_EQ(core::stringField(*failure, "message"),
            "Failed to delete all resource types, 1 remaining: widgets.example.com: boom");
  // Untouched conditions keep their transition time.
  EXPECT_EQ(
      core::stringField(*condition(ns, "NamespaceDeletionDiscoveryFailure"), "lastTransitionTime"),
      "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace berth::controllers::ns
