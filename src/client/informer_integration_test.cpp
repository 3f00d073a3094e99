// A SharedInformer against the real `berth server` (sqlite datastore, so it can be restarted
// with its data): paged initial sync of 200 ConfigMaps, live adds/updates/deletes, a server
// restart, and a server-forced 410 Expired that makes it re-list.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>
#include <set>

#include "client/informer.h"
#include "client/testing_server.h"

namespace berth::client {
namespace {

namespace json = boost::json;
using namespace berth::client::testing;

struct Counts {
  std::mutex mu;
  int adds = 0, updates = 0, deletes = 0, tombstones = 0;
  std::set<std::string> deleted;
  EventHandler handler() {
    return {[this](const ObjectPtr&) {
              std::lock_guard l(mu);
              ++adds;
            },
            [this](const ObjectPtr&, const ObjectPtr&) {
              std::lock_guard l(mu);
              ++updates;
            },
            [this](const DeletedObject& d) {
              std::lock_guard l(mu);
              ++deletes;
              if (d.finalStateUnknown) ++tombstones;
              deleted.insert(d.key);
            }};
  }
  int get(int Counts::*field) {
    std::lock_guard l(mu);
    return this->*field;
  }
};

std::string dataOf(const SharedInformer& inf, const std::string& name) {
  auto o = inf.lister().get("inf", name);
  if (!o) return "<none>";
  return std::string(o->at("data").at("k").as_string());
}

TEST(InformerIntegration, SyncsFollowsSurvivesRestartAndRelistsOn410) {
  TestServer server("sqlite");
  // A quiet server: with the in-process controllers and scheduler renewing their Leases, the
  // newest revision at restart is past the informer's last one and the restarted watch cache
  // (filled at that newest revision, as upstream's) answers the resumed watch with 410, which
  // the last part of this test provokes on purpose instead.
  server.setExtraArgs({"--disable-controllers", "--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto client = server.client("berth-client-test/informer");
  ASSERT_TRUE(client);
  createNamespace(*client, "inf");
  for (int i = 0; i < 200; ++i) {
    auto r = client->create(kConfigMaps, "inf", configMap("inf", "cm-" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  // (kube-root-ca.crt, which the server publishes into every namespace, is not the test's.)
  SharedInformer inf(*client, kConfigMaps,
                     {.namespace_ = "inf",
                      .fieldSelector = "metadata.name!=kube-root-ca.crt",
                      .pageSize = 50});
  Counts counts;
  inf.addEventHandler(counts.handler());
  auto syncStart = std::chrono::steady_clock::now();
  inf.start();
  ASSERT_TRUE(inf.waitForSync(std::chrono::seconds(10)));
  std::cerr << "informer: 200 ConfigMaps synced in 4 pages in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - syncStart)
                   .count()
            << " ms\n";
  EXPECT_EQ(inf.indexer().size(), 200u);
  EXPECT_EQ(inf.indexer().listNamespace("inf").size(), 200u);
  ASSERT_TRUE(eventually([&] { return counts.get(&Counts::adds) == 200; }));
  EXPECT_EQ(inf.reflector().stats().lists, 1);
  // Items of a list come with kind and apiVersion filled in, as watch events have them.
  EXPECT_EQ(inf.lister().get("inf", "cm-0")->at("kind"), "ConfigMap");

  // Changes made through the REST client reach the cache and the handlers.
  ASSERT_TRUE(client->create(kConfigMaps, "inf", configMap("inf", "new", "a")).ok());
  ASSERT_TRUE(
      client->patch(kConfigMaps, "inf", "cm-1", PatchType::kMerge, R"({"data":{"k":"changed"}})")
          .ok());
  ASSERT_TRUE(client->remove(kConfigMaps, "inf", "cm-2").ok());
  ASSERT_TRUE(eventually([&] {
    return dataOf(inf, "new") == "a" && dataOf(inf, "cm-1") == "changed" &&
           !inf.lister().get("inf", "cm-2");
  }));
  ASSERT_TRUE(eventually([&] {
    return counts.get(&Counts::adds) == 201 && counts.get(&Counts::updates) == 1 &&
           counts.get(&Counts::deletes) == 1;
  }));
  EXPECT_EQ(counts.get(&Counts::tombstones), 0);
  EXPECT_EQ(inf.indexer().size(), 200u);

  // The same state by a streaming list (sendInitialEvents), then live changes on that stream.
  {
    SharedInformer streamed(*client, kConfigMaps,
                            {.namespace_ = "inf",
                             .fieldSelector = "metadata.name!=kube-root-ca.crt",
                             .useWatchList = true});
    streamed.start();
    ASSERT_TRUE(streamed.waitForSync(std::chrono::seconds(10)));
    EXPECT_EQ(streamed.indexer().size(), 200u);
    EXPECT_EQ(dataOf(streamed, "cm-1"), "changed");
    ASSERT_TRUE(
        client->patch(kConfigMaps, "inf", "cm-5", PatchType::kMerge, R"({"data":{"k":"streamed"}})")
            .ok());
    ASSERT_TRUE(eventually([&] { return dataOf(streamed, "cm-5") == "streamed"; }));
    auto s = streamed.reflector().stats();
    EXPECT_EQ(s.lists, 1);
    EXPECT_EQ(s.watches, 1) << "one request both listed and watched";
    streamed.stop();
  }

  // Restart the server (same port, same data): the informer reconnects by itself.
  auto before = inf.reflector().stats();
  server.stop();
  ASSERT_TRUE(server.start("sqlite"));
  ASSERT_TRUE(client
                  ->patch(kConfigMaps, "inf", "cm-3", PatchType::kMerge,
                          R"({"data":{"k":"after-restart"}})")
                  .ok());
  ASSERT_TRUE(client->remove(kConfigMaps, "inf", "cm-4").ok());
  ASSERT_TRUE(eventually(
      [&] { return dataOf(inf, "cm-3") == "after-restart" && !inf.lister().get("inf", "cm-4"); },
      std::chrono::seconds(15)));
  auto afterRestart = inf.reflector().stats();
  EXPECT_GT(afterRestart.watches, before.watches);
  EXPECT_GT(afterRestart.watchErrors, before.watchErrors) << "the restart broke the watch";
  // The watch resumed from the last resourceVersion seen: no re-list was needed.
  EXPECT_EQ(afterRestart.lists, before.lists);
  EXPECT_EQ(afterRestart.expiredRelists, before.expiredRelists);

  // A watch from a revision older than the restarted server's history: 410 Expired, re-list.
  auto rawWatch = client->watch(kConfigMaps, "inf", {.resourceVersion = "1"});
  core::Status expired;
  if (rawWatch.ok()) {
    (void)(*rawWatch)->run([&](WatchEvent&& ev) {
      if (ev.type == "ERROR") expired = statusFromJson(ev.object, 500);
      return false;
    });
  } else {
    expired = rawWatch.status();
  }
  EXPECT_EQ(expired.code(), 410) << expired.message();
  EXPECT_TRUE(expired.isExpired()) << expired.reason();

  auto pre410 = inf.reflector().stats();
  inf.reflector().restartWatchFrom("1");
  ASSERT_TRUE(eventually([&] {
    auto s = inf.reflector().stats();
    return s.expiredRelists > pre410.expiredRelists && s.lists > pre410.lists;
  }));
  ASSERT_TRUE(client->create(kConfigMaps, "inf", configMap("inf", "after-410", "z")).ok());
  ASSERT_TRUE(eventually([&] { return dataOf(inf, "after-410") == "z"; }));
  EXPECT_EQ(inf.indexer().size(), 200u);  // 200 + new - cm-2 - cm-4 + after-410
  EXPECT_EQ(counts.get(&Counts::tombstones), 0) << "nothing vanished unseen";
  inf.stop();
}

TEST(InformerIntegration, FactorySharesOneInformerPerResource) {
  TestServer server("memory");
  ASSERT_TRUE(server.start());
  auto client = server.client("berth-client-test/factory");
  ASSERT_TRUE(client);
  SharedInformerFactory factory(*client, std::chrono::milliseconds(0));
  auto& a = factory.forResource(kNamespaces);
  auto& b = factory.forResource(kNamespaces);
  auto& c = factory.forResource(kConfigMaps);
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  factory.start();
  ASSERT_TRUE(factory.waitForCacheSync(std::chrono::seconds(10)));
  EXPECT_TRUE(a.lister().get("", "default"));
  factory.shutdown();
}

}  // namespace
}  // namespace berth::client
