// CRDs end to end inside one process: registry + watch cache + CRD controller on the in-memory
// store, including a restart on the same store and the cleanup of a deleted CRD's objects.
#include "apiserver/crd_hooks.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "apiserver/crd/definition.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {
namespace json = boost::json;

// What ApiServer::start wires up, minus HTTP.
struct Instance {
  explicit Instance(store::Interface& s)
      : store(s), cache(s), controller(crdHooks(cache, registry)) {
    cache.addObserver(std::string(crd::kStoragePrefix),
                      [this](const store::Event& e) { controller.onEvent(e); });
    EXPECT_TRUE(cache.start().ok());
    registry = std::make_unique<Registry>(store, cache);
    EXPECT_TRUE(registry->bootstrap("127.0.0.1", 6443).ok());
    controller.start();
  }
  ~Instance() {
    controller.stop();
    registry->stop();
    cache.stop();
  }
  store::Interface& store;
  CacheSet cache;
  std::unique_ptr<Registry> registry;
  crd::Controller controller;
};

json::object widgetCrd() {
  return json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.test.berth.io"},
    "spec":{"group":"test.berth.io","scope":"Namespaced",
      "names":{"plural":"widgets","kind":"Widget"},
      "versions":[{"name":"v1","served":true,"storage":true,
        "schema":{"openAPIV3Schema":{"type":"object","properties":{
          "spec":{"type":"object","properties":{"size":{"type":"integer","default":1}}}}}}}]}})")
      .as_object();
}

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

const core::ResourceType* crdKind() {
  crd::installCrdKind();
  return core::findResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
}

const core::ResourceType* widgets() { return core::findResource("test.berth.io", "v1", "widgets"); }

TEST(CrdInProcess, CreateServeRestartAndDelete) {
  store::MemoryStore store;
  const auto* crdType = crdKind();
  ASSERT_TRUE(crdType);
  WriteOptions wo{false, "test", ""};
  {
    Instance a(store);
    auto created = a.registry->create(*crdType, "", widgetCrd(), wo);
    ASSERT_TRUE(created.ok()) << created.status().message();
    ASSERT_TRUE(eventually([] { return widgets() != nullptr; }));
    auto w = a.registry->create(
        *widgets(), "default",
        json::parse(R"({"metadata":{"name":"w1"},"spec":{"x":1}})").as_object(), wo);
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_EQ(w->at("spec"), json::parse(R"({"size":1})"));  // pruned and defaulted
    auto got = a.registry->get(*widgets(), "default", "w1");
    ASSERT_TRUE(got.ok());
    auto bad = a.registry->create(
        *widgets(), "default",
        json::parse(R"({"metadata":{"name":"w2"},"spec":{"size":"big"}})").as_object(), wo);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), 422);
  }
  {
    // A new instance on the same store serves the CRD and its objects as soon as it starts.
    Instance b(store);
    ASSERT_TRUE(widgets());
    auto got = b.registry->get(*widgets(), "default", "w1");
    ASSERT_TRUE(got.ok()) << got.status().message();

    auto removed = b.registry->remove(*crdType, "", "widgets.test.berth.io", DeleteOptions{});
    ASSERT_TRUE(removed.ok()) << removed.status().message();
    ASSERT_TRUE(
        eventually([&] { return !b.registry->get(*crdType, "", "widgets.test.berth.io").ok(); }));
    EXPECT_EQ(widgets(), nullptr);
    store::ListOptions lo;
    lo.prefix = "/registry/widgets.test.berth.io/";
    auto left = store.list(lo);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->items.empty());  // objects went before the CRD
  }
}

// Two versions with different limits: v1 (served) caps spec.size at 5 and forbids 3 by a rule,
// v2 (storage) forbids 7. A write is judged by the version it came in, as upstream.
json::object gadgetCrd() {
  return json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"gadgets.test.berth.io"},
    "spec":{"group":"test.berth.io","scope":"Namespaced",
      "names":{"plural":"gadgets","kind":"Gadget"},
      "versions":[
       {"name":"v1","served":true,"storage":false,
        "schema":{"openAPIV3Schema":{"type":"object","properties":{
          "spec":{"type":"object","properties":{"size":{"type":"integer","maximum":9}},
            "x-kubernetes-validations":[{"rule":"self.size != 3","message":"v1 forbids 3"}]}}}}},
       {"name":"v2","served":true,"storage":true,
        "schema":{"openAPIV3Schema":{"type":"object","properties":{
          "spec":{"type":"object","properties":{"size":{"type":"integer"}},
            "x-kubernetes-validations":[{"rule":"self.size != 7","message":"v2 forbids 7"}]}}}}}]}})")
      .as_object();
}

TEST(CrdInProcess, WritesAreValidatedInTheRequestVersion) {
  store::MemoryStore store;
  const auto* crdType = crdKind();
  ASSERT_TRUE(crdType);
  WriteOptions wo{false, "test", ""};
  Instance a(store);
  ASSERT_TRUE(a.registry->create(*crdType, "", gadgetCrd(), wo).ok());
  auto version = [](const char* v) { return core::findResource("test.berth.io", v, "gadgets"); };
  ASSERT_TRUE(eventually([&] { return version("v1") && version("v2"); }));
  auto create = [&](const char* v, const char* name, int size) {
    json::object obj{{"metadata", {{"name", name}}}, {"spec", {{"size", size}}}};
    return a.registry->create(*version(v), "default", std::move(obj), wo);
  };
  auto v1Big = create("v1", "a", 10);  // over v1's maximum, which v2 does not have
  ASSERT_FALSE(v1Big.ok());
  EXPECT_EQ(v1Big.status().code(), 422);
  EXPECT_NE(v1Big.status().message().find("spec.size"), std::string::npos)
      << v1Big.status().message();
  auto v1Three = create("v1", "b", 3);
  ASSERT_FALSE(v1Three.ok());
  EXPECT_NE(v1Three.status().message().find("v1 forbids 3"), std::string::npos);
  // v2's rule does not hold a v1 request back, on create or update.
  auto v1Seven = create("v1", "c", 7);
  ASSERT_TRUE(v1Seven.ok()) << v1Seven.status().message();
  EXPECT_EQ(v1Seven->at("apiVersion"), "test.berth.io/v1");
  json::object patched = *v1Seven;
  patched["metadata"].as_object()["labels"] = json::object{{"x", "y"}};
  auto updated = a.registry->update(*version("v1"), "default", "c", patched, wo);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  // ...but holds v2 requests; v1's maximum does not.
  ASSERT_TRUE(create("v2", "d", 10).ok());
  auto v2Seven = create("v2", "e", 7);
  ASSERT_FALSE(v2Seven.ok());
  EXPECT_NE(v2Seven.status().message().find("v2 forbids 7"), std::string::npos);
  // An update through v1 of an object v1 could not have created is judged by v1.
  json::object d{{"metadata", {{"name", "d"}}}, {"spec", {{"size", 3}}}};
  auto bad = a.registry->update(*version("v1"), "default", "d", d, wo);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("v1 forbids 3"), std::string::npos);
  ASSERT_TRUE(a.registry->remove(*crdType, "", "gadgets.test.berth.io", DeleteOptions{}).ok());
}

}  // namespace
}  // namespace berth::apiserver
