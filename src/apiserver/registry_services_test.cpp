// The registry's Service pipelines around the address allocator: what a create, an update, a
// delete, a failed write and a dry run leave reserved in the store.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/registry.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

class RegistryServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
  }
  void TearDown() override {
    registry.stop();
    cache.stop();
  }
  static json::object svc(const std::string& name, const std::string& ip, int64_t nodePort) {
    json::object port{{"port", 80}};
    if (nodePort) port["nodePort"] = nodePort;
    json::object spec{{"type", "NodePort"}, {"ports", json::array{port}}};
    if (!ip.empty()) spec["clusterIP"] = ip;
    return json::object{{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", json::object{{"name", name}}},
                        {"spec", spec}};
  }
  bool reserved(const std::string& key) { return store.get(key).ok(); }
  const core::ResourceType& services() { return *core::findResource("", "v1", "services"); }

  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  WriteOptions wo{false, "test", ""};
};

TEST_F(RegistryServicesTest, BootstrapReservesTheKubernetesServiceIp) {
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.1"));
}

TEST_F(RegistryServicesTest, FailedCreateReleasesAndDeleteFrees) {
  ASSERT_TRUE(registry.create(services(), "default", svc("a", "10.96.0.20", 30020), wo).ok());
  // Same name again with other addresses: AlreadyExists, and nothing stays reserved for it.
  auto dup = registry.create(services(), "default", svc("a", "10.96.0.21", 30021), wo);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().reason(), "AlreadyExists");
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.21"));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30021"));
  // A twin asking for the very addresses the first one holds is refused, and its failure does
  // not free them: the reservation names the Service's uid, not just its name.
  auto twin = registry.create(services(), "default", svc("a", "10.96.0.20", 30020), wo);
  ASSERT_FALSE(twin.ok());
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.20"));
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/30020"));
  ASSERT_TRUE(registry.remove(services(), "default", "a", DeleteOptions{}).ok());
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.20"));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30020"));
}

TEST_F(RegistryServicesTest, UpdateMovesANodePortAndDryRunReservesNothing) {
  auto created = registry.create(services(), "default", svc("b", "", 30030), wo);
  ASSERT_TRUE(created.ok()) << created.status().message();
  json::object next = *created;
  next["spec"].as_object()["ports"].as_array()[0].as_object()["nodePort"] = 30031;
  ASSERT_TRUE(registry.update(services(), "default", "b", next, wo).ok());
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30030"));
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/30031"));
  WriteOptions dry = wo;
  dry.dryRun = true;
  auto d = registry.create(services(), "default", svc("c", "10.96.0.40", 30040), dry);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.40"));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30040"));
  // A real Service holding the port makes the dry run fail as the real create would.
  auto clash = registry.create(services(), "default", svc("d", "", 30031), dry);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), 422);
}

}  // namespace
}  // namespace berth::apiserver
