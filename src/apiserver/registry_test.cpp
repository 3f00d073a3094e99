// Registry + watch cache on the in-memory store: the create/update/patch/delete pipelines and the
// promise that reads come from the cache.
#include "apiserver/registry.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

// Counts reads that reach the store, to prove lists and gets are served from the cache.
class CountingStore : public store::Interface {
 public:
  Result<store::KeyValue> get(std::string_view key) override {
    ++gets;
    return inner.get(key);
  }
  Result<store::ListResult> list(const store::ListOptions& o) override {
    ++lists;
    return inner.list(o);
  }
  Result<int64_t> create(std::string_view k, std::string_view v) override {
    return inner.create(k, v);
  }
  Result<int64_t> update(std::string_view k, std::string_view v, int64_t rev) override {
    return inner.update(k, v, rev);
  }
  Result<store::KeyValue> remove(std::string_view k, int64_t rev) override {
    return inner.remove(k, rev);
  }
  Result<std::unique_ptr<store::Watch>> watch(std::string_view p, int64_t after,
                                              store::WatchCallback cb) override {
    return inner.watch(p, after, std::move(cb));
  }
  int64_t currentRevision() override { return inner.currentRevision(); }
  int64_t compactedRevision() override { return inner.compactedRevision(); }
  Status compact(int64_t rev) override { return inner.compact(rev); }
  void close() override { inner.close(); }

  store::MemoryStore inner;
  std::atomic<int> gets{0}, lists{0};
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
  }
  void TearDown() override {
    registry.stop();
    cache.stop();
  }
  const core::ResourceType& rt(const char* group, const char* version, const char* plural) {
    return *core::findResource(group, version, plural);
  }
  json::object pod(const std::string& name, const std::string& app = "web") {
    return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                       R"(","labels":{"app":")" + app +
                       R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}})")
        .as_object();
  }

  CountingStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  WriteOptions wo{false, "test", ""};
};

TEST_F(RegistryTest, BootstrapCreatesNamespacesAndKubernetesService) {
  auto& ns = rt("", "v1", "namespaces");
  for (const char* n : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    EXPECT_TRUE(registry.get(ns, "", n).ok()) << n;
  }
  auto svc = registry.get(rt("", "v1", "services"), "default", "kubernetes");
  ASSERT_TRUE(svc.ok());
  EXPECT_NE((*svc)->json.find("\"10.96.0.1\""), std::string::npos);
}

TEST_F(RegistryTest, CreateFillsMetadataAndDefaults) {
  auto& pods = rt("", "v1", "pods");
  auto created = registry.create(pods, "default", pod("a"), wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  const auto& meta = created->at("metadata").as_object();
  EXPECT_FALSE(meta.at("uid").as_string().empty());
  EXPECT_FALSE(meta.at("resourceVersion").as_string().empty());
  EXPECT_EQ(meta.at("namespace").as_string(), "default");
  EXPECT_EQ(created->at("spec").at("restartPolicy").as_string(), "Always");
  auto dup = registry.create(pods, "default", pod("a"), wo);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), 409);
  EXPECT_EQ(dup.status().reason(), "AlreadyExists");
  EXPECT_EQ(dup.status().message(), "pods \"a\" already exists");
}

TEST_F(RegistryTest, GenerateNameAddsSuffix) {
  auto p = pod("");
  p["metadata"].as_object().erase("name");
  p["metadata"].as_object()["generateName"] = "web-";
  auto created = registry.create(rt("", "v1", "pods"), "default", p, wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::string name(created->at("metadata").at("name").as_string());
  EXPECT_EQ(name.rfind("web-", 0), 0u);
  EXPECT_EQ(name.size(), 9u);
}

TEST_F(RegistryTest, InvalidObjectListsFields) {
  auto p = pod("Bad_Name");
  auto r = registry.create(rt("", "v1", "pods"), "default", p, wo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 422);
  ASSERT_FALSE(r.status().causes().empty());
  EXPECT_EQ(r.status().causes()[0].field, "metadata.name");
}

TEST_F(RegistryTest, StaleUpdateConflicts) {
  auto& pods = rt("", "v1", "pods");
  auto created = registry.create(pods, "default", pod("a"), wo);
  ASSERT_TRUE(created.ok());
  json::object first = *created;
  json::object second = *created;
  first["metadata"].as_object()["labels"].as_object()["x"] = "1";
  ASSERT_TRUE(registry.update(pods, "default", "a", first, wo).ok());
  second["metadata"].as_object()["labels"].as_object()["x"] = "2";
  auto r = registry.update(pods, "default", "a", second, wo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 409);
  EXPECT_EQ(r.status().reason(), "Conflict");
}

TEST_F(RegistryTest, MergePatchAndGenerationBump) {
  auto& deps = rt("apps", "v1", "deployments");
  auto d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},
    "spec":{"containers":[{"name":"c","image":"x:1"}]}}}})")
               .as_object();
  auto created = registry.create(deps, "default", d, wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->at("metadata").at("generation").as_int64(), 1);
  PatchRequest pr{PatchType::kMerge, json::parse(R"({"spec":{"replicas":4}})"), false};
  auto patched = registry.patch(deps, "default", "d", pr, wo);
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_EQ(patched->at("spec").at("replicas").as_int64(), 4);
  EXPECT_EQ(patched->at("metadata").at("generation").as_int64(), 2);
  // Label-only change: generation stays.
  PatchRequest labels{PatchType::kMerge, json::parse(R"({"metadata":{"labels":{"a":"b"}}})"),
                      false};
  auto again = registry.patch(deps, "default", "d", labels, wo);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("metadata").at("generation").as_int64(), 2);
  auto scale = registry.getScale(deps, "default", "d");
  ASSERT_TRUE(scale.ok());
  EXPECT_EQ(scale->at("spec").at("replicas").as_int64(), 4);
  EXPECT_EQ(scale->at("status").at("selector").as_string(), "app=d");
}

// Upstream skips writes that change nothing but resourceVersion and managedFields: the object
// keeps its resourceVersion and no watch event follows.
TEST_F(RegistryTest, NoOpWritesKeepTheResourceVersion) {
  auto& pods = rt("", "v1", "pods");
  auto created = registry.create(pods, "default", pod("p"), wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto rv = [](const json::object& o) {
    return std::string(o.at("metadata").at("resourceVersion").as_string());
  };
  const std::string first = rv(*created);
  auto patchWith = [&](PatchType type, const char* body) {
    PatchRequest pr{type, json::parse(body), false};
    return registry.patch(pods, "default", "p", pr, wo);
  };
  // A patch restating what is there, and an update sending the object back as read.
  auto same = patchWith(PatchType::kStrategic, R"({"metadata":{"labels":{"app":"web"}}})");
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(rv(*same), first);
  auto unchanged = registry.update(pods, "default", "p", *created, wo);
  ASSERT_TRUE(unchanged.ok()) << unchanged.status().message();
  EXPECT_EQ(rv(*unchanged), first);
  // The same object with its metadata members in another order is still the same object.
  json::object reordered = *created;
  json::object meta;
  const auto& had = created->at("metadata").as_object();
  for (auto it = had.end(); it != had.begin();) {
    --it;
    meta[it->key()] = it->value();
  }
  reordered["metadata"] = std::move(meta);
  auto reorderedWrite = registry.update(pods, "default", "p", reordered, wo);
  ASSERT_TRUE(reorderedWrite.ok()) << reorderedWrite.status().message();
  EXPECT_EQ(rv(*reorderedWrite), first);
  // Any other change is written: a new annotation, then its removal, then a spec change.
  auto annotated = patchWith(PatchType::kMerge, R"({"metadata":{"annotations":{"k":"v"}}})");
  ASSERT_TRUE(annotated.ok()) << annotated.status().message();
  EXPECT_NE(rv(*annotated), first);
  auto removed = patchWith(PatchType::kMerge, R"({"metadata":{"annotations":null}})");
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_NE(rv(*removed), rv(*annotated));
  EXPECT_FALSE(removed->at("metadata").as_object().contains("annotations"));
  auto image = patchWith(PatchType::kStrategic,
                         R"({"spec":{"containers":[{"name":"c","image":"busybox:2"}]}})");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_NE(rv(*image), rv(*removed));
  EXPECT_EQ(image->at("spec").at("containers").at(0).at("image").as_string(), "busybox:2");
}

TEST_F(RegistryTest, ListsAndGetsComeFromTheCache) {
  auto& pods = rt("", "v1", "pods");
  for (int i = 0; i < 10000; ++i) {
    auto r = registry.create(pods, "default", pod("p" + std::to_string(i), i % 2 ? "a" : "b"), wo);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  int listsBefore = store.lists.load(), getsBefore = store.gets.load();
  ListRequest lr;
  lr.namespace_ = "default";
  auto all = registry.list(pods, lr);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 10000u);
  lr.labelSelector = "app=a";
  auto some = registry.list(pods, lr);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->items.size(), 5000u);
  EXPECT_TRUE(registry.get(pods, "default", "p42").ok());
  EXPECT_EQ(store.lists.load(), listsBefore);
  EXPECT_EQ(store.gets.load(), getsBefore);
  // Pagination walks every item exactly once.
  ListRequest page;
  page.namespace_ = "default";
  page.limit = 3000;
  size_t seen = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = registry.list(pods, page);
    ASSERT_TRUE(r.ok());
    seen += r->items.size();
    if (r->continueToken.empty()) break;
    page.continueToken = r->continueToken;
  }
  EXPECT_EQ(seen, 10000u);
}

TEST_F(RegistryTest, WatchSeesChangesFromAListRevision) {
  auto& cms = rt("", "v1", "configmaps");
  auto cm = json::parse(R"({"metadata":{"name":"c"},"data":{"a":"1"}})").as_object();
  ASSERT_TRUE(registry.create(cms, "default", cm, wo).ok());
  ListRequest lr;
  lr.namespace_ = "default";
  auto listed = registry.list(cms, lr);
  ASSERT_TRUE(listed.ok());
  auto w = cache.forType(cms)->watch(listed->revision);
  ASSERT_TRUE(w.ok());
  PatchRequest pr{PatchType::kMerge, json::parse(R"({"data":{"a":"2"}})"), false};
  ASSERT_TRUE(registry.patch(cms, "default", "c", pr, wo).ok());
  ASSERT_TRUE(registry.remove(cms, "default", "c", {}).ok());
  std::vector<CacheEvent> got;
  for (int i = 0; i < 20 && got.size() < 2; ++i) {
    bool closed = false;
    auto evs = (*w)->next(std::chrono::milliseconds(100), &closed);
    got.insert(got.end(), evs.begin(), evs.end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, CacheEvent::Type::kModified);
  EXPECT_EQ(got[1].type, CacheEvent::Type::kDeleted);
  EXPECT_GT(got[1].revision, got[0].revision);
}

TEST_F(RegistryTest, FinalizersHoldDeletionUntilRemoved) {
  auto& cms = rt("", "v1", "configmaps");
  auto cm = json::parse(R"({"metadata":{"name":"f","finalizers":["example.com/x"]}})").as_object();
  ASSERT_TRUE(registry.create(cms, "default", cm, wo).ok());
  auto del = registry.remove(cms, "default", "f", {});
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_TRUE(registry.get(cms, "default", "f").ok());
  PatchRequest pr{PatchType::kMerge, json::parse(R"({"metadata":{"finalizers":null}})"), false};
  ASSERT_TRUE(registry.patch(cms, "default", "f", pr, wo).ok());
  auto gone = registry.get(cms, "default", "f");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), 404);
}

TEST_F(RegistryTest, ServicesGetUniqueClusterIps) {
  auto& svcs = rt("", "v1", "services");
  std::set<std::string> ips;
  for (int i = 0; i < 50; ++i) {
    auto s = json::parse(R"({"metadata":{"name":"s)" + std::to_string(i) +
                         R"("},"spec":{"type":"NodePort","ports":[{"port":80}]}})")
                 .as_object();
    auto r = registry.create(svcs, "default", s, wo);
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::string ip(r->at("spec").at("clusterIP").as_string());
    EXPECT_EQ(ip.rfind("10.", 0), 0u);
    EXPECT_TRUE(ips.insert(ip).second) << ip;
    int64_t np = r->at("spec").at("ports").at(0).at("nodePort").as_int64();
    EXPECT_GE(np, 30000);
    EXPECT_LE(np, 32767);
  }
}

TEST_F(RegistryTest, BindingAssignsNodeOnce) {
  auto& pods = rt("", "v1", "pods");
  ASSERT_TRUE(registry.create(pods, "default", pod("b"), wo).ok());
  auto binding = json::parse(R"({"target":{"kind":"Node","name":"n1"}})").as_object();
  ASSERT_TRUE(registry.bind("default", "b", binding, wo).ok());
  auto again = registry.bind("default", "b", binding, wo);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), 409);
}

// Objects are stored as Go would serialize them (protobuf/zero_values.h): the zero fields are in
// the stored bytes every read path serves, for the storage version and for another served
// version (autoscaling/v1 HPAs are stored as v2).
json::object servedObject(Registry& registry, const core::ResourceType& rt,
                          const std::string& name) {
  auto got = registry.get(rt, "default", name);
  EXPECT_TRUE(got.ok());
  return got.ok() ? json::parse(registry.toServedJson(rt, **got)).as_object() : json::object();
}

TEST_F(RegistryTest, ZeroValuesCreatedObjectsCarryGoZeroFields) {
  const auto& ds = *core::findResource("apps", "v1", "daemonsets");
  WriteOptions wo;
  auto created = registry.create(
      ds, "default",
      json::parse(R"({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
        "template":{"metadata":{"labels":{"a":"b"}},
        "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})")
          .as_object(),
      wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->at("status").at("numberReady"), json::value(0));  // the response too
  auto got = servedObject(registry, ds, "d");
  EXPECT_EQ(json::serialize(got.at("status")),
            R"({"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,)"
            R"("numberReady":0})");
  EXPECT_EQ(got.at("spec").at("template").at("spec").at("containers").at(0).at("resources"),
            json::object());
}

TEST_F(RegistryTest, ZeroValuesOtherServedVersionsToo) {
  const auto& v1 = *core::findResource("autoscaling", "v1", "horizontalpodautoscalers");
  WriteOptions wo;
  auto created = registry.create(v1, "default",
                                 json::parse(R"({"metadata":{"name":"h"},"spec":{"maxReplicas":3,
        "scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"}}})")
                                     .as_object(),
                                 wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto got = servedObject(registry, v1, "h");
  EXPECT_EQ(got.at("apiVersion"), json::value("autoscaling/v1"));
  EXPECT_EQ(got.at("status").at("currentReplicas"), json::value(0));
  EXPECT_EQ(got.at("status").at("desiredReplicas"), json::value(0));
}

}  // namespace
TEST_F(RegistryTest, ContinueTokenIsASnapshotUntilCompacted) {
  auto& pods = rt("", "v1", "pods");
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(registry.create(pods, "default", pod("p" + std::to_string(i)), wo).ok());
  ListRequest lr;
  lr.namespace_ = "default";
  lr.limit = 2;
  auto first = registry.list(pods, lr);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->continueToken.empty());
  EXPECT_EQ(first->remaining.value_or(-1), 4);
  // Delete what the later pages would show; the continued list still shows the snapshot.
  for (int i = 2; i < 6; ++i)
    ASSERT_TRUE(registry.remove(pods, "default", "p" + std::to_string(i), DeleteOptions{}).ok());
  lr.continueToken = first->continueToken;
  auto second = registry.list(pods, lr);
  ASSERT_TRUE(second.ok()) << second.status().message();
  ASSERT_EQ(second->items.size(), 2u);
  EXPECT_EQ(second->items[0]->name, "p2");
  EXPECT_EQ(second->revision, first->revision);
  // Once the first page's revision is compacted away, the token is 410 Expired.
  ASSERT_TRUE(store.compact(store.currentRevision()).ok());
  auto third = registry.list(pods, lr);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), 410);
  EXPECT_EQ(third.status().reason(), "Expired");
  EXPECT_NE(third.status().message().find("continue parameter is too old"), std::string::npos);
}

TEST_F(RegistryTest, ConcurrentPatchesNeverConflict) {
  auto& cms = rt("", "v1", "configmaps");
  ASSERT_TRUE(registry
                  .create(cms, "default",
                          json::parse(R"({"metadata":{"name":"hot"},"data":{}})").as_object(), wo)
                  .ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        PatchRequest pr{
            PatchType::kMerge,
            json::object{{"data", json::object{{"k" + std::to_string(t), std::to_string(i)}}}}};
        if (!registry.patch(cms, "default", "hot", pr, wo).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto hot = registry.get(cms, "default", "hot");
  ASSERT_TRUE(hot.ok());
  auto obj = registry.toServed(cms, **hot);
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(obj["data"].as_object()["k" + std::to_string(t)], json::value("99"));
}

TEST_F(RegistryTest, ListOptionCombinationsAreValidated) {
  ListRequest lr;
  lr.resourceVersionMatch = "Exact";
  auto st = validateListOptions(lr, false, std::nullopt);
  EXPECT_EQ(st.code(), 422);
  EXPECT_NE(st.message().find("ListOptions.meta.k8s.io \"\" is invalid"), std::string::npos)
      << st.message();
  lr.resourceVersion = "10";
  EXPECT_TRUE(validateListOptions(lr, false, std::nullopt).ok());
  EXPECT_EQ(validateListOptions(lr, true, std::nullopt).code(), 422);  // match on a watch
  lr.resourceVersionMatch = "NotOlderThan";
  EXPECT_TRUE(validateListOptions(lr, true, true).ok());
  EXPECT_EQ(validateListOptions(lr, false, true).code(), 422);  // sendInitialEvents on a list
  ListRequest cont;
  cont.continueToken = "x";
  cont.resourceVersion = "5";
  EXPECT_EQ(validateListOptions(cont, false, std::nullopt).code(), 400);
}

}  // namespace berth::apiserver
