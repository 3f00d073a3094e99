// SharedObjectPool: what is shared (same scope, key and resourceVersion, while alive) and what
// is not; and, against the real server, two factories on two clients (the in-process
// controller-manager's and scheduler's situation) caching one copy of each object, with
// managedFields stripped in the caches but still on the wire.
#include "client/object_pool.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/informer.h"
#include "client/testing_server.h"
#include "client/transform.h"

namespace berth::client {
namespace {

namespace json = boost::json;

ObjectPtr pod(std::string name, std::string rv, std::string ns = "ns") {
  return std::make_shared<const json::value>(json::object{
      {"kind", "Pod"}, {"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}});
}

TEST(SharedObjectPool, SharesTheSameVersionOfTheSameObject) {
  SharedObjectPool pool;
  auto first = pool.share("s", pod("a", "5"));
  auto second = pool.share("s", pod("a", "5"));
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(pool.shared(), 1u);
}

TEST(SharedObjectPool, FindsOnlyWhatIsPooled) {
  SharedObjectPool pool;
  EXPECT_FALSE(pool.find("s", *pod("a", "5")));
  auto a = pool.share("s", pod("a", "5"));
  EXPECT_EQ(pool.find("s", *pod("a", "5")).get(), a.get());
  EXPECT_FALSE(pool.find("s", *pod("a", "6")));
  EXPECT_FALSE(pool.find("t", *pod("a", "5")));
}

TEST(SharedObjectPool, KeepsDifferentVersionsScopesAndObjectsApart) {
  SharedObjectPool pool;
  auto a5 = pool.share("s", pod("a", "5"));
  EXPECT_NE(pool.share("s", pod("a", "6")).get(), a5.get());  // a newer write
  EXPECT_NE(pool.share("t", pod("a", "5")).get(), a5.get());  // another server or transform
  EXPECT_NE(pool.share("s", pod("b", "5")).get(), a5.get());  // another name
  EXPECT_NE(pool.share("s", pod("a", "5", "other")).get(), a5.get());  // another namespace
  EXPECT_EQ(pool.shared(), 0u);
}

TEST(SharedObjectPool, HoldsNothingAlive) {
  SharedObjectPool pool;
  std::weak_ptr<const json::value> weak;
  {
    auto a = pool.share("s", pod("a", "5"));
    weak = a;
  }
  EXPECT_TRUE(weak.expired());  // the pool's reference is weak
  auto again = pool.share("s", pod("a", "5"));
  EXPECT_TRUE(again);
  EXPECT_EQ(pool.shared(), 0u);  // the gone object was not resurrected: the new one is pooled
}

TEST(SharedObjectPool, PassesObjectsWithoutNameOrVersion) {
  SharedObjectPool pool;
  auto bookmark = std::make_shared<const json::value>(
      json::object{{"kind", "Pod"}, {"metadata", {{"resourceVersion", "9"}}}});
  EXPECT_EQ(pool.share("s", bookmark).get(), bookmark.get());
  auto unversioned = pod("a", "");
  EXPECT_EQ(pool.share("s", unversioned).get(), unversioned.get());
  EXPECT_EQ(pool.size(), 0u);
}

TEST(SharedObjectPool, SweepsEntriesOfGoneObjects) {
  SharedObjectPool pool;
  for (int i = 0; i < 10000; ++i) pool.share("s", pod("p" + std::to_string(i), "1"));
  // Every object died at once; sweeps keep the table from growing with them.
  EXPECT_LT(pool.size(), 8192u);
}

TEST(StripManagedFields, RemovesOnlyManagedFields) {
  json::value obj = json::parse(
      R"({"metadata":{"name":"a","managedFields":[{"manager":"m"}],"labels":{"x":"y"}},"spec":{}})");
  stripManagedFields(obj);
  EXPECT_EQ(json::serialize(obj), R"({"metadata":{"name":"a","labels":{"x":"y"}},"spec":{}})");
  json::value notObject = 3;
  stripManagedFields(notObject);  // no metadata: unchanged, no crash
  EXPECT_EQ(notObject, 3);
}

// Against the real server: the controller-manager's and the scheduler's situation.
TEST(SharedObjectPoolIntegration, TwoFactoriesCacheOneCopyWithoutManagedFields) {
  testing::TestServer server;
  server.setExtraArgs({"--disable-controllers", "--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto a = server.client("berth-client-test/pool-a");
  auto b = server.client("berth-client-test/pool-b");
  ASSERT_TRUE(a && b);
  testing::createNamespace(*a, "pool");
  for (int i = 0; i < 20; ++i) {
    auto r = a->create(testing::kConfigMaps, "pool",
                       testing::configMap("pool", "cm-" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  // On the wire, the objects carry managedFields (the create's Update entry).
  auto wire = a->get(testing::kConfigMaps, "pool", "cm-3");
  ASSERT_TRUE(wire.ok());
  ASSERT_TRUE(wire->at("metadata").as_object().contains("managedFields"));

  SharedInformerFactory fa(*a, std::chrono::milliseconds(0), "pool");
  SharedInformerFactory fb(*b, std::chrono::milliseconds(0), "pool");
  auto& ia = fa.forResource(testing::kConfigMaps);
  auto& ib = fb.forResource(testing::kConfigMaps);
  fa.start();
  fb.start();
  ASSERT_TRUE(fa.waitForCacheSync(std::chrono::seconds(10)));
  ASSERT_TRUE(fb.waitForCacheSync(std::chrono::seconds(10)));

  for (int i = 0; i < 20; ++i) {
    std::string name = "cm-" + std::to_string(i);
    auto oa = ia.lister().get("pool", name);
    auto ob = ib.lister().get("pool", name);
    ASSERT_TRUE(oa && ob) << name;
    EXPECT_EQ(oa.get(), ob.get()) << name << ": each factory holds its own copy";
    EXPECT_FALSE(oa->at("metadata").as_object().contains("managedFields")) << name;
  }

  // A change arrives by watch to both: they end up sharing the new version too.
  json::value updated = *ia.lister().get("pool", "cm-3");
  updated.as_object()["data"].as_object()["k"] = "changed";
  ASSERT_TRUE(a->update(testing::kConfigMaps, "pool", updated).ok());
  auto changed = [&](SharedInformer& inf) {
    auto o = inf.lister().get("pool", "cm-3");
    return o && o->at("data").at("k") == "changed";
  };
  ASSERT_TRUE(
      testing::eventually([&] { return changed(ia) && changed(ib); }, std::chrono::seconds(10)));
  EXPECT_EQ(ia.lister().get("pool", "cm-3").get(), ib.lister().get("pool", "cm-3").get());
  EXPECT_FALSE(
      ia.lister().get("pool", "cm-3")->at("metadata").as_object().contains("managedFields"));
  // The update sent without managedFields kept the server's (upstream: absent = unchanged).
  auto after = a->get(testing::kConfigMaps, "pool", "cm-3");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->at("metadata").as_object().contains("managedFields"));

  // An informer built without the factory's defaults keeps managedFields and its own copies.
  SharedInformer own(*a, testing::kConfigMaps, {.namespace_ = "pool"});
  own.start();
  ASSERT_TRUE(own.waitForSync(std::chrono::seconds(10)));
  auto mine = own.lister().get("pool", "cm-5");
  ASSERT_TRUE(mine);
  EXPECT_TRUE(mine->at("metadata").as_object().contains("managedFields"));
  EXPECT_NE(mine.get(), ia.lister().get("pool", "cm-5").get());
  own.stop();
  fa.shutdown();
  fb.shutdown();
}

}  // namespace
}  // namespace berth::client
