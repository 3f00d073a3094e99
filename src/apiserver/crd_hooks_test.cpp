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

const core::ResourceType* widgets() { return core::findResource("test.berth.io", "v1", "widgets"); }

TEST(CrdInProcess, CreateServeRestartAndDelete) {
  crd::installCrdKind();
  store::MemoryStore store;
  const auto* crdType =
      core::findResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
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

}  // namespace
}  // namespace berth::apiserver
