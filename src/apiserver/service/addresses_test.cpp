// ServiceAddresses on the in-memory store: range checks and messages as upstream, reservations
// released on failure, on update and on delete, repair, and no duplicates under concurrency
// (also between two allocators sharing one store, as two API servers would).
#include "apiserver/service/addresses.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/status.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver::service {
namespace {

namespace json = boost::json;

json::object svc(const std::string& name, const std::string& type = "ClusterIP",
                 const std::string& ip = "", int64_t nodePort = 0) {
  json::object port{{"port", 80}, {"protocol", "TCP"}};
  if (nodePort != 0) port["nodePort"] = nodePort;
  json::object spec{{"type", type}, {"ports", json::array{port}}};
  if (!ip.empty()) spec["clusterIP"] = ip;
  return json::object{{"metadata", json::object{{"name", name}, {"namespace", "default"}}},
                      {"spec", spec}};
}

std::string ipOf(const json::object& s) {
  return std::string(s.at("spec").as_object().at("clusterIP").as_string());
}
int64_t nodePortOf(const json::object& s) {
  return s.at("spec").at("ports").as_array()[0].as_object().at("nodePort").as_int64();
}
std::string message(const core::Status& st) {
  return st.causes().empty() ? st.message() : st.causes()[0].field + ": " + st.causes()[0].message;
}

class AddressesTest : public ::testing::Test {
 protected:
  bool reserved(const std::string& key) { return store.get(key).ok(); }
  store::MemoryStore store;
  ServiceAddresses addresses{store};
};

TEST_F(AddressesTest, AllocatesInRangeAndReservesInTheStore) {
  json::object s = svc("a", "NodePort");
  auto a = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a.ok()) << a.status().message();
  a->commit();
  auto ip = parseIpv4(ipOf(s));
  ASSERT_TRUE(ip);
  EXPECT_EQ(*ip >> 20, (10u << 4) | 6u) << ipOf(s);  // inside 10.96.0.0/12
  EXPECT_EQ(s.at("spec").at("clusterIPs").as_array().size(), 1u);
  int64_t np = nodePortOf(s);
  EXPECT_GE(np, 30000);
  EXPECT_LE(np, 32767);
  EXPECT_TRUE(reserved("/registry/ipaddresses/" + ipOf(s)));
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/" + std::to_string(np)));
  addresses.release(s);
  EXPECT_FALSE(reserved("/registry/ipaddresses/" + ipOf(s)));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/" + std::to_string(np)));
}

TEST_F(AddressesTest, OutOfRangeValuesAreInvalidWithUpstreamMessages) {
  json::object s = svc("a", "ClusterIP", "192.168.1.1");
  auto a = addresses.allocate(s, nullptr, false);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), 422);
  EXPECT_EQ(message(a.status()),
            "spec.clusterIPs: Invalid value: [\"192.168.1.1\"]: failed to allocate IP "
            "192.168.1.1: the provided IP (192.168.1.1) is not in the valid range. The range of "
            "valid IPs is 10.96.0.0/12");
  json::object n = svc("b", "NodePort", "", 20000);
  auto b = addresses.allocate(n, nullptr, false);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(message(b.status()),
            "spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid "
            "range. The range of valid ports is 30000-32767");
  // The network address is not handed out either; a failed request reserved nothing.
  json::object z = svc("c", "ClusterIP", "10.96.0.0");
  EXPECT_FALSE(addresses.allocate(z, nullptr, false).ok());
  store::ListOptions all;
  all.prefix = "/registry/";
  EXPECT_TRUE(store.list(all)->items.empty());
}

TEST_F(AddressesTest, TakenValuesAreInvalidAndFailedRequestsReleaseWhatTheyTook) {
  json::object first = svc("a", "NodePort", "10.96.0.10", 30080);
  auto a = addresses.allocate(first, nullptr, false);
  ASSERT_TRUE(a.ok());
  a->commit();
  json::object sameIp = svc("b", "ClusterIP", "10.96.0.10");
  auto b = addresses.allocate(sameIp, nullptr, false);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(message(b.status()),
            "spec.clusterIPs: Invalid value: [\"10.96.0.10\"]: failed to allocate IP "
            "10.96.0.10: provided IP is already allocated");
  // The IP is reserved before the port fails: the IP must come back.
  json::object samePort = svc("c", "NodePort", "10.96.0.11", 30080);
  auto c = addresses.allocate(samePort, nullptr, false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(message(c.status()),
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.11"));
  // A write that fails after allocation (Allocation dropped uncommitted) gives both back.
  {
    json::object d = svc("d", "NodePort", "10.96.0.12", 30081);
    auto alloc = addresses.allocate(d, nullptr, false);
    ASSERT_TRUE(alloc.ok());
    EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.12"));
  }
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.12"));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30081"));
}

TEST_F(AddressesTest, DryRunChecksWithoutReserving) {
  json::object s = svc("a", "NodePort");
  auto a = addresses.allocate(s, nullptr, /*dryRun=*/true);
  ASSERT_TRUE(a.ok());
  a->commit();
  EXPECT_FALSE(ipOf(s).empty());
  EXPECT_FALSE(reserved("/registry/ipaddresses/" + ipOf(s)));
  json::object held = svc("b", "ClusterIP", "10.96.0.20");
  addresses.allocate(held, nullptr, false)->commit();
  json::object clash = svc("c", "ClusterIP", "10.96.0.20");
  EXPECT_FALSE(addresses.allocate(clash, nullptr, true).ok());
}

TEST_F(AddressesTest, UpdateKeepsItsOwnAndGivesUpWhatItDrops) {
  json::object v1 = svc("a", "NodePort", "", 30100);
  addresses.allocate(v1, nullptr, false)->commit();
  // Same service, new nodePort and type change to ClusterIP keeps the IP, frees the port.
  json::object v2 = v1;
  v2["spec"].as_object()["ports"].as_array()[0].as_object()["nodePort"] = 30101;
  auto a = addresses.allocate(v2, &v1, false);
  ASSERT_TRUE(a.ok()) << a.status().message();
  a->commit();
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30100"));
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/30101"));
  json::object v3 = svc("a", "ExternalName");
  addresses.allocate(v3, &v2, false)->commit();
  EXPECT_FALSE(reserved("/registry/ipaddresses/" + ipOf(v1)));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30101"));
}

TEST_F(AddressesTest, RepairDropsLeaksAndRestoresMissingReservations) {
  // A Service stored without reservations (an older Berth) and a leak from a crash.
  json::object kept = svc("kept", "NodePort", "10.96.0.30", 30200);
  ASSERT_TRUE(store.create("/registry/services/default/kept", json::serialize(kept)).ok());
  json::object leaked = svc("gone", "NodePort", "10.96.0.31", 30201);
  addresses.allocate(leaked, nullptr, false)->commit();
  ASSERT_TRUE(addresses.repair().ok());
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.30"));
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/30200"));
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.31"));
  EXPECT_FALSE(reserved("/registry/ranges/servicenodeports/30201"));
  json::object clash = svc("other", "ClusterIP", "10.96.0.30");
  EXPECT_FALSE(addresses.allocate(clash, nullptr, false).ok());
}

// The periodic run: a reservation without a Service may be a create between reservation and
// write, so it is freed only once older than the grace; with the write done it is kept.
TEST_F(AddressesTest, PeriodicRepairLeavesYoungReservationsOfInFlightCreates) {
  json::object inFlight = svc("inflight", "NodePort", "10.96.0.40", 30300);
  auto a = addresses.allocate(inFlight, nullptr, false);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(addresses.repair(std::chrono::seconds(60)).ok());
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.40")) << "a create in flight keeps its IP";
  EXPECT_TRUE(reserved("/registry/ranges/servicenodeports/30300"));
  // Its write lands: the reservation is held, even past the grace.
  ASSERT_TRUE(store.create("/registry/services/default/inflight", json::serialize(inFlight)).ok());
  a->commit();
  ASSERT_TRUE(addresses.repair().ok());
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.40"));
  // A crash between reservation and write: an old reservation without a Service goes.
  json::object crashed = svc("crashed", "ClusterIP", "10.96.0.41");
  addresses.allocate(crashed, nullptr, false)->commit();
  ASSERT_TRUE(addresses.repair(std::chrono::seconds(60)).ok());
  EXPECT_TRUE(reserved("/registry/ipaddresses/10.96.0.41")) << "young: maybe in flight";
  ASSERT_TRUE(addresses.repair().ok());  // no grace: as at start-up, or once it is old
  EXPECT_FALSE(reserved("/registry/ipaddresses/10.96.0.41"));
  json::object next = svc("next", "ClusterIP", "10.96.0.41");
  EXPECT_TRUE(addresses.allocate(next, nullptr, false).ok()) << "the freed IP is free again";
}

TEST(ServiceRanges, ParsesTheFlags) {
  auto r = parseRanges("10.100.0.0/16", "31000-31009");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->firstIp(), "10.100.0.1");
  EXPECT_EQ(r->portMin, 31000);
  EXPECT_EQ(r->portMax, 31009);
  for (auto [cidr, ports] : {std::pair{"10.0.0.0/8", "30000-32767"},  // wider than /12
                             std::pair{"10.96.0.1/12", "30000-32767"},  // host bits
                             std::pair{"10.96.0.0/31", "30000-32767"},
                             std::pair{"10.96.0.0/12", "32767-30000"},
                             std::pair{"10.96.0.0/12", "30000"}}) {
    EXPECT_FALSE(parseRanges(cidr, ports).ok()) << cidr << " " << ports;
  }
  store::MemoryStore store;
  ServiceAddresses small{store, *r};
  json::object s = svc("x", "NodePort");
  ASSERT_TRUE(small.allocate(s, nullptr, false).ok());
  EXPECT_EQ(ipOf(s).rfind("10.100.", 0), 0u) << ipOf(s);
  EXPECT_GE(nodePortOf(s), 31000);
  EXPECT_LE(nodePortOf(s), 31009);
}

// 500 Services from 10 threads over two allocators on one store: no IP or port twice.
TEST_F(AddressesTest, ConcurrentCreatesNeverShareAnAddress) {
  ServiceAddresses second{store};
  std::mutex mu;
  std::set<std::string> ips;
  std::set<int64_t> ports;
  std::atomic<int> failures{0}, total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      ServiceAddresses& mine = t % 2 ? second : addresses;
      for (int i = 0; i < 50; ++i) {
        json::object s = svc("s" + std::to_string(t) + "-" + std::to_string(i), "NodePort");
        auto a = mine.allocate(s, nullptr, false);
        if (!a.ok()) {
          ++failures;
          continue;
        }
        a->commit();
        std::lock_guard lock(mu);
        ips.insert(ipOf(s));
        ports.insert(nodePortOf(s));
        ++total;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(total, 500);
  EXPECT_EQ(ips.size(), 500u);
  EXPECT_EQ(ports.size(), 500u);
}

TEST_F(AddressesTest, ConcurrentRequestsForOneAddressHaveExactlyOneWinner) {
  ServiceAddresses second{store};
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> ipWins{0}, portWins{0}, rejected{0};
    std::string ip = "10.96.1." + std::to_string(round + 1);
    int64_t port = 31000 + round;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        ServiceAddresses& mine = t % 2 ? second : addresses;
        json::object a = svc("ip" + std::to_string(t), "ClusterIP", ip);
        if (auto r = mine.allocate(a, nullptr, false); r.ok()) {
          r->commit();
          ++ipWins;
        } else if (r.status().code() == 422) {
          ++rejected;
        }
        json::object b = svc("port" + std::to_string(t), "NodePort", "", port);
        if (auto r = mine.allocate(b, nullptr, false); r.ok()) {
          r->commit();
          ++portWins;
        } else if (r.status().code() == 422) {
          ++rejected;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ipWins, 1) << ip;
    EXPECT_EQ(portWins, 1) << port;
    EXPECT_EQ(rejected, 14);
  }
}

TEST(Ipv4Test, ParsesOnlyDottedQuads) {
  EXPECT_EQ(parseIpv4("10.96.0.1"), (10u << 24) | (96u << 16) | 1u);
  for (const char* bad : {"", "10.96.0", "10.96.0.256", "10.96.0.01", "a.b.c.d", "1.2.3.4.5"})
    EXPECT_FALSE(parseIpv4(bad)) << bad;
  EXPECT_EQ(formatIpv4((10u << 24) | (96u << 16) | 10u), "10.96.0.10");
}

}  // namespace
}  // namespace berth::apiserver::service
