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
  // A LoadBalancer Service with one port on nodePort `nodePort` (0: allocated).
  static json::object lb(const std::string& name, const std::string& policy, int64_t hc,
                         int64_t nodePort = 0) {
    json::object port{{"port", 80}};
    if (nodePort) port["nodePort"] = nodePort;
    json::object spec{
        {"type", "LoadBalancer"}, {"externalTrafficPolicy", policy}, {"ports", json::array{port}}};
    if (hc) spec["healthCheckNodePort"] = hc;
    return json::object{{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", json::object{{"name", name}}},
                        {"spec", spec}};
  }
  static int64_t hcOf(const json::object& svc) {
    const auto* v = svc.at("spec").as_object().if_contains("healthCheckNodePort");
    return v ? v->as_int64() : 0;
  }
  bool reservedPort(int64_t port) {
    return reserved("/registry/ranges/servicenodeports/" + std::to_string(port));
  }
  Result<json::object> create(json::object obj) {
    return registry.create(services(), "default", std::move(obj), wo);
  }
  Result<json::object> update(const std::string& name, json::object obj) {
    return registry.update(services(), "default", name, std::move(obj), wo);
  }
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

// spec.healthCheckNodePort, as upstream's Service REST storage handles it: a LoadBalancer Service
// with externalTrafficPolicy Local gets one from the NodePort range (or the one it asks for),
// keeps it across updates that omit it, may not change it, and gives it back when it stops
// needing it or is deleted.
TEST_F(RegistryServicesTest, HealthCheckNodePortLocalLoadBalancerGetsAPortFromTheNodePortRange) {
  auto created = create(lb("a", "Local", 0));
  ASSERT_TRUE(created.ok()) << created.status().message();
  int64_t hc = hcOf(*created);
  EXPECT_GE(hc, 30000);
  EXPECT_LE(hc, 32767);
  EXPECT_TRUE(reservedPort(hc));
  int64_t nodePort = created->at("spec").at("ports").at(0).at("nodePort").as_int64();
  EXPECT_NE(hc, nodePort);
  // A Cluster-policy LoadBalancer gets none.
  auto cluster = create(lb("b", "Cluster", 0));
  ASSERT_TRUE(cluster.ok()) << cluster.status().message();
  EXPECT_EQ(hcOf(*cluster), 0);
  // The reservation survives the start-up repair (it is not taken for a leak).
  ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
  EXPECT_TRUE(reservedPort(hc));
}

TEST_F(RegistryServicesTest,
       HealthCheckNodePortRequestedPortIsReservedAndATakenOneRefusedAsUpstream) {
  auto created = create(lb("a", "Local", 30100));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(hcOf(*created), 30100);
  EXPECT_TRUE(reservedPort(30100));

  auto dup = create(lb("b", "Local", 30100));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), 500);
  EXPECT_EQ(dup.status().reason(), "InternalError");
  EXPECT_EQ(dup.status().message(),
            "Internal error occurred: failed to allocate requested HealthCheck NodePort 30100: "
            "provided port is already allocated");
  // The failed create gave back the nodePort it had taken for its port.
  auto again = create(lb("c", "Local", 0));
  ASSERT_TRUE(again.ok());

  // A nodePort of the Service itself is taken too.
  auto own = create(lb("d", "Local", 30200, 30200));
  ASSERT_FALSE(own.ok());
  EXPECT_NE(own.status().message().find("HealthCheck NodePort 30200: provided port is already "
                                        "allocated"),
            std::string::npos);
  EXPECT_FALSE(reservedPort(30200));

  auto outside = create(lb("e", "Local", 40000));
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.status().code(), 500);
  EXPECT_EQ(outside.status().message(),
            "Internal error occurred: failed to allocate requested HealthCheck NodePort 40000: "
            "provided port is not in the valid range. The range of valid ports is 30000-32767");
}

TEST_F(RegistryServicesTest, HealthCheckNodePortValidationMessagesAsUpstream) {
  auto cluster = create(lb("a", "Cluster", 30300));
  ASSERT_FALSE(cluster.ok());
  EXPECT_EQ(cluster.status().code(), 422);
  EXPECT_NE(cluster.status().message().find(
                "spec.healthCheckNodePort: Invalid value: 30300: may only be set when `type` is "
                "'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
            std::string::npos)
      << cluster.status().message();
  EXPECT_FALSE(reservedPort(30300));
  auto bad = create(lb("b", "Local", 70000));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 422);
  EXPECT_NE(bad.status().message().find("spec.healthCheckNodePort: Invalid value: 70000: must be "
                                        "between 1 and 65535, inclusive"),
            std::string::npos)
      << bad.status().message();

  auto created = create(lb("c", "Local", 30301));
  ASSERT_TRUE(created.ok()) << created.status().message();
  json::object moved = *created;
  moved["spec"].as_object()["healthCheckNodePort"] = 30302;
  auto r = update("c", moved);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 422);
  EXPECT_NE(r.status().message().find("spec.healthCheckNodePort: Forbidden: field is immutable"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(reservedPort(30302));
}

TEST_F(RegistryServicesTest,
       HealthCheckNodePortKeptWhenOmittedReleasedWhenNoLongerNeededOrDeleted) {
  auto created = create(lb("a", "Local", 0));
  ASSERT_TRUE(created.ok()) << created.status().message();
  int64_t hc = hcOf(*created);
  // An update (a PUT without the field) keeps it.
  json::object omitted = *created;
  omitted["spec"].as_object().erase("healthCheckNodePort");
  omitted["metadata"].as_object()["labels"] = json::object{{"x", "y"}};
  auto kept = update("a", omitted);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(hcOf(*kept), hc);
  EXPECT_TRUE(reservedPort(hc));

  // Policy Cluster: the field goes and the port is free.
  json::object cluster = *kept;
  cluster["spec"].as_object()["externalTrafficPolicy"] = "Cluster";
  auto c = update("a", cluster);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(hcOf(*c), 0);
  EXPECT_FALSE(reservedPort(hc));

  // Back to Local asking for that very port, then type ClusterIP: released with the nodePort.
  json::object local = *c;
  local["spec"].as_object()["externalTrafficPolicy"] = "Local";
  local["spec"].as_object()["healthCheckNodePort"] = hc;
  auto l = update("a", local);
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(hcOf(*l), hc);
  EXPECT_TRUE(reservedPort(hc));
  int64_t nodePort = l->at("spec").at("ports").at(0).at("nodePort").as_int64();
  json::object clusterIp = *l;
  auto& spec = clusterIp["spec"].as_object();
  spec["type"] = "ClusterIP";
  spec.erase("allocateLoadBalancerNodePorts");
  auto ci = update("a", clusterIp);
  ASSERT_TRUE(ci.ok()) << ci.status().message();
  EXPECT_EQ(hcOf(*ci), 0);
  EXPECT_FALSE(reservedPort(hc));
  EXPECT_FALSE(reservedPort(nodePort));

  // Delete gives it back.
  auto d = create(lb("b", "Local", 0));
  ASSERT_TRUE(d.ok());
  int64_t dhc = hcOf(*d);
  EXPECT_TRUE(reservedPort(dhc));
  ASSERT_TRUE(registry.remove(services(), "default", "b", DeleteOptions{}).ok());
  EXPECT_FALSE(reservedPort(dhc));
}

// An IPv6-only cluster: the `kubernetes` Service and kube-dns come from the IPv6 range, and the
// `kubernetes` EndpointSlice carries the IPv6 advertise address.
TEST(RegistryIpv6Only, BootstrapMakesIpv6KubernetesAndKubeDnsServices) {
  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache, service::parseRanges("fd00:10:96::/108", "30000-32767").value()};
  ASSERT_TRUE(cache.start().ok());
  ASSERT_TRUE(registry.bootstrap("fd00:78::1", 6443, "fd00:10:96::a").ok());
  auto field = [&](const char* group, const char* resource, const char* ns, const char* name) {
    auto got = registry.get(*core::findResource(group, "v1", resource), ns, name);
    return got.ok() ? json::parse((*got)->json).as_object() : json::object{};
  };
  auto kubernetes = field("", "services", "default", "kubernetes");
  ASSERT_FALSE(kubernetes.empty());
  EXPECT_EQ(json::serialize(kubernetes.at("spec").at("clusterIPs")), "[\"fd00:10:96::1\"]");
  EXPECT_EQ(json::serialize(kubernetes.at("spec").at("ipFamilies")), "[\"IPv6\"]");
  auto slice = field("discovery.k8s.io", "endpointslices", "default", "kubernetes");
  ASSERT_FALSE(slice.empty());
  EXPECT_EQ(slice.at("addressType"), "IPv6");
  EXPECT_EQ(json::serialize(slice.at("endpoints").at(0).at("addresses")), "[\"fd00:78::1\"]");
  auto dns = field("", "services", "kube-system", "kube-dns");
  ASSERT_FALSE(dns.empty());
  EXPECT_EQ(dns.at("spec").at("clusterIP"), "fd00:10:96::a");
  EXPECT_TRUE(store.get("/registry/ipaddresses/fd00:10:96::a").ok());
  registry.stop();
  cache.stop();
}

}  // namespace
}  // namespace berth::apiserver
