// The webhook source's configurations over a real registry and watch cache: decoded once and
// shared between requests while nothing changes, decoded again after any change.
#include "apiserver/webhook_source.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

const core::ResourceType& vwcType() {
  return *core::findResource("admissionregistration.k8s.io", "v1",
                             "validatingwebhookconfigurations");
}

json::object configuration(const std::string& name, const std::string& hook) {
  return json::parse(R"({"metadata":{"name":")" + name + R"("},"webhooks":[{"name":")" + hook +
                     R"(","clientConfig":{"url":"https://127.0.0.1:1/"},"sideEffects":"None",)"
                     R"("admissionReviewVersions":["v1"]}]})")
      .as_object();
}

std::string hookName(const json::object& config) {
  return std::string(config.at("webhooks").as_array()[0].at("name").as_string());
}

class WebhookSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
    wo.fieldManager = "test";
  }
  void TearDown() override {
    registry.stop();
    cache.stop();
  }
  void settle() { ASSERT_TRUE(cache.waitUntilFresh(std::chrono::seconds(5))); }

  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  WriteOptions wo;
  std::shared_ptr<admission::WebhookSource> source = newRegistryWebhookSource(registry);
};

TEST_F(WebhookSourceTest, ConfigurationsAreReusedUntilOneChanges) {
  EXPECT_TRUE(source->configurations(false)->empty());
  ASSERT_TRUE(registry.create(vwcType(), "", configuration("b", "one.example.com"), wo).ok());
  ASSERT_TRUE(registry.create(vwcType(), "", configuration("a", "two.example.com"), wo).ok());
  settle();
  auto first = source->configurations(false);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ(hookName((*first)[0]), "two.example.com");  // sorted by name: a, b
  EXPECT_EQ(hookName((*first)[1]), "one.example.com");
  EXPECT_EQ(source->configurations(false), first);     // nothing changed: the same decoded list
  EXPECT_TRUE(source->configurations(true)->empty());  // mutating ones are their own list

  // An update (same name, new resourceVersion) is seen.
  auto current = registry.get(vwcType(), "", "b");
  ASSERT_TRUE(current.ok());
  json::object changed = configuration("b", "three.example.com");
  changed["metadata"].as_object()["resourceVersion"] = std::to_string((*current)->resourceVersion);
  ASSERT_TRUE(registry.update(vwcType(), "", "b", changed, wo).ok());
  settle();
  auto second = source->configurations(false);
  ASSERT_NE(second, first);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ(hookName((*second)[1]), "three.example.com");
  EXPECT_EQ(hookName((*first)[1]), "one.example.com");  // a list handed out stays as it was

  // So is a delete.
  ASSERT_TRUE(registry.remove(vwcType(), "", "a", DeleteOptions{}).ok());
  settle();
  auto third = source->configurations(false);
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ(hookName((*third)[0]), "three.example.com");
  ASSERT_TRUE(registry.remove(vwcType(), "", "b", DeleteOptions{}).ok());
  settle();
  EXPECT_TRUE(source->configurations(false)->empty());
}

}  // namespace
}  // namespace berth::apiserver
