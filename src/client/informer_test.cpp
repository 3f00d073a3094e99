// SharedInformer's cache and notification rules, fed directly through its ReflectorSink side
// (no server: the reflector's connection attempts to port 1 fail and change nothing).
#include "client/informer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>

#include "client/testing_server.h"

namespace berth::client {
namespace {

namespace json = boost::json;
using testing::eventually;

ObjectPtr cm(std::string name, std::string rv) {
  return std::make_shared<const json::value>(
      json::object{{"kind", "ConfigMap"},
                   {"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", rv}}}});
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  EventHandler handler() {
    return {[this](const ObjectPtr& o) { push("add " + key(o)); },
            [this](const ObjectPtr& a, const ObjectPtr& b) {
              push("update " + key(b) + " " + std::string(objectResourceVersion(*a)) + "->" +
                   std::string(objectResourceVersion(*b)));
            },
            [this](const DeletedObject& d) {
              push(std::string(d.finalStateUnknown ? "tombstone " : "delete ") + d.key);
            }};
  }
  static std::string key(const ObjectPtr& o) { return metaNamespaceKey(*o); }
  void push(std::string s) {
    std::lock_guard lock(mu);
    events.push_back(std::move(s));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
};

class InformerUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c =
        RestClient::create(RestConfig{.server = "https://127.0.0.1:1", .insecureSkipVerify = true});
    ASSERT_TRUE(c.ok());
    client_ = std::move(c).value();
  }
  std::unique_ptr<RestClient> client_;
  const Resource res_{"", "v1", "configmaps", true};
};

TEST_F(InformerUnitTest, RelistTurnsVanishedObjectsIntoTombstones) {
  SharedInformer inf(*client_, res_);
  Recorder rec;
  inf.addEventHandler(rec.handler());
  inf.start();
  EXPECT_FALSE(inf.hasSynced());
  inf.onReplace({cm("a", "1"), cm("b", "2")}, "2");
  EXPECT_TRUE(inf.hasSynced());
  inf.onUpdate(cm("a", "3"));
  inf.onDelete(cm("b", "4"));
  inf.onAdd(cm("c", "5"));
  // A re-list after 410: "a" changed, "c" vanished unseen, "d" is new.
  inf.onReplace({cm("a", "7"), cm("d", "8")}, "8");
  std::vector<std::string> want{"add ns/a",    "add ns/b",      "update ns/a 1->3",
                                "delete ns/b", "add ns/c",      "update ns/a 3->7",
                                "add ns/d",    "tombstone ns/c"};
  ASSERT_TRUE(eventually([&] { return rec.snapshot().size() >= want.size(); }));
  EXPECT_EQ(rec.snapshot(), want);
  EXPECT_EQ(inf.indexer().size(), 2u);
  EXPECT_EQ(objectResourceVersion(*inf.lister().get("ns", "a")), "7");
  inf.stop();
}

TEST_F(InformerUnitTest, LateHandlerIsCaughtUpAndResyncRedeliversEverything) {
  SharedInformer inf(*client_, res_, {.resyncPeriod = std::chrono::milliseconds(100)});
  inf.start();
  inf.onReplace({cm("a", "1"), cm("b", "2")}, "2");
  Recorder late;
  inf.addEventHandler(late.handler());
  ASSERT_TRUE(eventually([&] {
    auto e = late.snapshot();
    return std::count(e.begin(), e.end(), "update ns/a 1->1") >= 1 &&
           std::count(e.begin(), e.end(), "update ns/b 2->2") >= 1;
  }));
  auto e = late.snapshot();
  ASSERT_GE(e.size(), 2u);
  std::vector<std::string> first(e.begin(), e.begin() + 2);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<std::string>{"add ns/a", "add ns/b"}));
  inf.stop();
}

TEST_F(InformerUnitTest, RemovedHandlerGetsNothingMoreAndStopEndsDispatch) {
  SharedInformer inf(*client_, res_);
  Recorder rec;
  int id = inf.addEventHandler(rec.handler());
  inf.start();
  inf.onReplace({cm("a", "1")}, "1");
  ASSERT_TRUE(eventually([&] { return rec.snapshot().size() == 1; }));
  inf.removeEventHandler(id);
  inf.onAdd(cm("b", "2"));
  inf.stop();
  EXPECT_EQ(rec.snapshot(), (std::vector<std::string>{"add ns/a"}));
  EXPECT_EQ(inf.indexer().size(), 2u);
}

TEST(OnEveryChange, CallsWithTheNewObjectAndTheDeletedStateOnlyWhenAsked) {
  std::vector<std::string> seen;
  auto f = [&seen](const ObjectPtr& o) { seen.push_back(o->at("n").as_string().c_str()); };
  auto obj = [](const char* n) {
    return std::make_shared<const boost::json::value>(boost::json::object{{"n", n}});
  };
  EventHandler all = onEveryChange(f);
  all.onAdd(obj("added"));
  all.onUpdate(obj("old"), obj("new"));
  all.onDelete(DeletedObject{obj("gone"), "k", false});
  all.onDelete(DeletedObject{nullptr, "k", true});  // no state: nothing to call with
  EXPECT_EQ(seen, (std::vector<std::string>{"added", "new", "gone"}));
  EXPECT_FALSE(onEveryChange(f, false).onDelete);
}

}  // namespace
}  // namespace berth::client
