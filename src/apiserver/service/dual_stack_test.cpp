// Dual-stack and IPv6-only Services in ServiceAddresses: --service-cluster-ip-range pairs or a
// lone IPv6 range, ipFamilyPolicy and ipFamilies against the cluster's ranges (upstream's
// errors), one ClusterIP per family from its own range, reservations released and repaired.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/service/addresses.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver::service {
namespace {

namespace json = boost::json;

json::object svc(const std::string& name, json::object extra = {}) {
  json::object spec{{"type", "ClusterIP"},
                    {"ports", json::array{json::object{{"port", 80}, {"protocol", "TCP"}}}}};
  for (const auto& [k, v] : extra) spec[k] = v;
  return json::object{{"metadata", json::object{{"name", name}, {"namespace", "default"}}},
                      {"spec", spec}};
}
std::string cause(const core::Status& st) {
  return st.causes().empty() ? st.message() : st.causes()[0].field + ": " + st.causes()[0].message;
}
const json::object& specOf(const json::object& s) { return s.at("spec").as_object(); }

Ranges dual() { return parseRanges("10.96.0.0/12,fd00:10:96::/112", "30000-32767").value(); }

TEST(DualStackRanges, ParsesAPairAndRefusesBadSecondRanges) {
  auto r = dual();
  ASSERT_TRUE(r.dualStack());
  EXPECT_EQ(r.ipv6->str(), "fd00:10:96::/112");
  EXPECT_EQ(r.firstIp(), "10.96.0.1");
  EXPECT_FALSE(parseRanges("10.96.0.0/12", "30000-32767")->dualStack());
  for (const char* bad : {"10.96.0.0/12,fd00::/64", "10.96.0.0/12,fd00::1/112",
                          "10.96.0.0/12,10.0.0.0/16", "10.96.0.0/12,fd00::/112,fd01::/112"}) {
    auto p = parseRanges(bad, "30000-32767");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), 400);
    EXPECT_NE(p.status().message().find("--service-cluster-ip-range: "), std::string::npos);
  }
  auto v6 = parseIpv6Range("fd00:10:96::/112");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->at(10), "fd00:10:96::a");
  EXPECT_EQ(v6->offsetOf("fd00:10:96::ff01"), 0xff01u);
  EXPECT_FALSE(v6->offsetOf("fd00:10:97::1"));
  EXPECT_FALSE(v6->offsetOf("10.96.0.1"));
  EXPECT_EQ(ipFamilyOf("fd00::1"), "IPv6");
  EXPECT_EQ(ipFamilyOf("10.0.0.1"), "IPv4");
  EXPECT_EQ(ipFamilyOf("::ffff:10.0.0.1"), "IPv4");
  EXPECT_EQ(ipFamilyOf("nope"), "");
}

TEST(DualStack, SingleStackClusterRefusesDualStackAndIPv6) {
  store::MemoryStore store;
  ServiceAddresses addresses(store);
  auto s = svc("a", {{"ipFamilyPolicy", "RequireDualStack"}});
  auto a1 = addresses.allocate(s, nullptr, false);
  ASSERT_FALSE(a1.ok());
  EXPECT_TRUE(a1.status().isInvalid());
  EXPECT_EQ(cause(a1.status()),
            "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not "
            "configured for dual-stack services");
  EXPECT_EQ(a1.status().message(),
            "Service \"a\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": "
            "this cluster is not configured for dual-stack services");
  s = svc("b", {{"ipFamilies", json::array{"IPv6"}}});
  auto a2 = addresses.allocate(s, nullptr, false);
  ASSERT_FALSE(a2.ok());
  EXPECT_EQ(cause(a2.status()),
            "spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster");
  // PreferDualStack falls back to the one family there is.
  s = svc("c", {{"ipFamilyPolicy", "PreferDualStack"}});
  auto a3 = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a3.ok()) << a3.status().message();
  a3->commit();
  EXPECT_EQ(json::serialize(specOf(s).at("ipFamilies")), "[\"IPv4\"]");
  EXPECT_EQ(specOf(s).at("clusterIPs").as_array().size(), 1u);
  EXPECT_EQ(specOf(s).at("ipFamilyPolicy"), "PreferDualStack");
}

TEST(DualStack, AllocatesOneClusterIpPerFamily) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, dual());
  // Default: SingleStack IPv4, as on a single-stack cluster.
  auto plain = svc("plain");
  auto a4 = addresses.allocate(plain, nullptr, false);
  ASSERT_TRUE(a4.ok());
  a4->commit();
  EXPECT_EQ(specOf(plain).at("ipFamilyPolicy"), "SingleStack");
  EXPECT_EQ(json::serialize(specOf(plain).at("ipFamilies")), "[\"IPv4\"]");

  auto s = svc("web", {{"ipFamilyPolicy", "PreferDualStack"}});
  auto a5 = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a5.ok()) << a5.status().message();
  a5->commit();
  EXPECT_EQ(json::serialize(specOf(s).at("ipFamilies")), "[\"IPv4\",\"IPv6\"]");
  const auto& ips = specOf(s).at("clusterIPs").as_array();
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(specOf(s).at("clusterIP"), ips[0]);
  EXPECT_TRUE(parseIpv4(std::string(ips[0].as_string())));
  std::string v6(ips[1].as_string());
  EXPECT_TRUE(v6.starts_with("fd00:10:96::")) << v6;
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + v6).ok()) << "reserved as an IPAddress";

  // IPv6 first, a requested address from the IPv6 range.
  auto six = svc("six", {{"ipFamilies", json::array{"IPv6", "IPv4"}},
                         {"ipFamilyPolicy", "RequireDualStack"},
                         {"clusterIPs", json::array{"fd00:10:96::53"}},
                         {"clusterIP", "fd00:10:96::53"}});
  auto a6 = addresses.allocate(six, nullptr, false);
  ASSERT_TRUE(a6.ok()) << a6.status().message();
  a6->commit();
  EXPECT_EQ(specOf(six).at("clusterIP"), "fd00:10:96::53");
  EXPECT_TRUE(parseIpv4(std::string(specOf(six).at("clusterIPs").as_array()[1].as_string())));

  // Taken and out-of-range IPv6 addresses, with upstream's messages.
  auto taken = svc("taken", {{"ipFamilies", json::array{"IPv6"}},
                             {"clusterIPs", json::array{"fd00:10:96::53"}},
                             {"clusterIP", "fd00:10:96::53"}});
  auto a7 = addresses.allocate(taken, nullptr, false);
  ASSERT_FALSE(a7.ok());
  EXPECT_EQ(cause(a7.status()),
            "spec.clusterIPs: Invalid value: [\"fd00:10:96::53\"]: failed to allocate IP "
            "fd00:10:96::53: provided IP is already allocated");
  auto outside = svc("outside", {{"ipFamilies", json::array{"IPv6"}},
                                 {"clusterIPs", json::array{"fd00:99::1"}},
                                 {"clusterIP", "fd00:99::1"}});
  auto a8 = addresses.allocate(outside, nullptr, false);
  ASSERT_FALSE(a8.ok());
  EXPECT_EQ(cause(a8.status()),
            "spec.clusterIPs: Invalid value: [\"fd00:99::1\"]: failed to allocate IP fd00:99::1: "
            "the provided IP (fd00:99::1) is not in the valid range. The range of valid IPs is "
            "fd00:10:96::/112");

  // Delete frees both families.
  addresses.release(s);
  EXPECT_FALSE(store.get("/registry/ipaddresses/" + v6).ok());
}

TEST(DualStack, UpgradeAndDowngradeOnUpdate) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, dual());
  auto s = svc("web");
  auto a9 = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a9.ok());
  a9->commit();
  std::string v4(specOf(s).at("clusterIP").as_string());

  auto up = s;
  up["spec"].as_object()["ipFamilyPolicy"] = "RequireDualStack";
  auto a10 = addresses.allocate(up, &s, false);
  ASSERT_TRUE(a10.ok()) << a10.status().message();
  a10->commit();
  const auto& ips = specOf(up).at("clusterIPs").as_array();
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0].as_string(), v4) << "the primary ClusterIP stays";
  std::string v6(ips[1].as_string());
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + v6).ok());

  auto down = up;
  down["spec"].as_object()["ipFamilyPolicy"] = "SingleStack";
  auto a11 = addresses.allocate(down, &up, false);
  ASSERT_TRUE(a11.ok()) << a11.status().message();
  a11->commit();
  EXPECT_EQ(json::serialize(specOf(down).at("clusterIPs")), "[\"" + v4 + "\"]");
  EXPECT_EQ(json::serialize(specOf(down).at("ipFamilies")), "[\"IPv4\"]");
  EXPECT_FALSE(store.get("/registry/ipaddresses/" + v6).ok()) << "the secondary is freed";
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + v4).ok());
}

TEST(DualStack, RepairRecreatesIPv6Reservations) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, dual());
  auto s = svc("web", {{"ipFamilyPolicy", "RequireDualStack"}});
  auto a12 = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a12.ok());
  a12->commit();
  std::string v6(specOf(s).at("clusterIPs").as_array()[1].as_string());
  // The Service as stored, its IPv6 reservation lost.
  s["metadata"].as_object()["uid"] = "";
  ASSERT_TRUE(store.create("/registry/services/default/web", json::serialize(s)).ok());
  ASSERT_TRUE(store.remove("/registry/ipaddresses/" + v6, 0).ok());
  ASSERT_TRUE(addresses.repair().ok());
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + v6).ok());
  // A leaked IPv6 reservation (no Service holds it) goes.
  ASSERT_TRUE(store
                  .create("/registry/ipaddresses/fd00:10:96::77",
                          "{\"metadata\":{\"creationTimestamp\":\"2020-01-01T00:00:00Z\"},"
                          "\"spec\":{\"parentRef\":{\"namespace\":\"default\",\"name\":\"gone\"}}}")
                  .ok());
  ASSERT_TRUE(addresses.repair().ok());
  EXPECT_FALSE(store.get("/registry/ipaddresses/fd00:10:96::77").ok());
}

// IPv6-primary ranges ("fd00:10:96::/108,10.96.0.0/12"): the first range's family is the one
// Services get when they name none, its first address is the `kubernetes` Service's, and
// dual-stack requests get the IPv6 ClusterIP first, as upstream's allocator does.
Ranges v6First() { return parseRanges("fd00:10:96::/108,10.96.0.0/12", "30000-32767").value(); }

// A Service naming no family gets a SingleStack IPv6 ClusterIP, reserved in the store.
void expectSingleStackIpv6(ServiceAddresses& addresses, store::MemoryStore& store) {
  auto plain = svc("plain");
  auto a = addresses.allocate(plain, nullptr, false);
  ASSERT_TRUE(a.ok()) << a.status().message();
  a->commit();
  EXPECT_EQ(specOf(plain).at("ipFamilyPolicy"), "SingleStack");
  EXPECT_EQ(json::serialize(specOf(plain).at("ipFamilies")), "[\"IPv6\"]");
  std::string ip(specOf(plain).at("clusterIP").as_string());
  EXPECT_TRUE(ip.starts_with("fd00:10:96::")) << ip;
  EXPECT_EQ(json::serialize(specOf(plain).at("clusterIPs")), "[\"" + ip + "\"]");
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + ip).ok());
}

TEST(Ipv6PrimaryRanges, TheFirstRangeIsThePrimaryFamily) {
  auto r = v6First();
  EXPECT_TRUE(r.dualStack());
  EXPECT_TRUE(r.ipv6Primary);
  EXPECT_STREQ(r.primaryFamily(), "IPv6");
  EXPECT_EQ(r.ipv6->str(), "fd00:10:96::/108");
  EXPECT_EQ(r.firstIp(), "fd00:10:96::1");
  EXPECT_EQ(formatIpv4(r.ipBase), "10.96.0.0");
  auto v4First = parseRanges("10.96.0.0/12,fd00:10:96::/108", "30000-32767").value();
  EXPECT_FALSE(v4First.ipv6Primary);
  EXPECT_EQ(v4First.firstIp(), "10.96.0.1");
  // Two of one family and a malformed IPv4 second range are refused by flag name.
  for (const char* bad : {"fd00:10:96::/108,fd00:10:97::/108", "fd00:10:96::/108,10.96.0.1/12",
                          "fd00:10:96::/108,10.96.0.0/12,10.0.0.0/16"}) {
    auto p = parseRanges(bad, "30000-32767");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), 400);
    EXPECT_NE(p.status().message().find("--service-cluster-ip-range: "), std::string::npos)
        << p.status().message();
  }
}

TEST(Ipv6PrimaryRanges, ServicesDefaultToIpv6AndDualStackPutsIpv6First) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, v6First());
  expectSingleStackIpv6(addresses, store);

  auto dual = svc("dual", {{"ipFamilyPolicy", "PreferDualStack"}});
  auto a2 = addresses.allocate(dual, nullptr, false);
  ASSERT_TRUE(a2.ok()) << a2.status().message();
  a2->commit();
  EXPECT_EQ(json::serialize(specOf(dual).at("ipFamilies")), "[\"IPv6\",\"IPv4\"]");
  const auto& ips = specOf(dual).at("clusterIPs").as_array();
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ipFamilyOf(std::string_view(ips[0].as_string())), "IPv6");
  EXPECT_EQ(ipFamilyOf(std::string_view(ips[1].as_string())), "IPv4");
  EXPECT_EQ(specOf(dual).at("clusterIP"), ips[0]);

  // An IPv4 Service is still possible by naming the family; a requested IPv4 address too.
  auto four = svc("four", {{"ipFamilies", json::array{"IPv4"}}});
  auto a3 = addresses.allocate(four, nullptr, false);
  ASSERT_TRUE(a3.ok()) << a3.status().message();
  a3->commit();
  EXPECT_TRUE(parseIpv4(std::string(specOf(four).at("clusterIP").as_string())));
  auto kube = svc("kubernetes", {{"clusterIP", v6First().firstIp()},
                                 {"clusterIPs", json::array{json::string(v6First().firstIp())}}});
  auto a4 = addresses.allocate(kube, nullptr, false);
  ASSERT_TRUE(a4.ok()) << a4.status().message();
  a4->commit();
  EXPECT_EQ(json::serialize(specOf(kube).at("ipFamilies")), "[\"IPv6\"]");

  // Headless Services get the primary family as well.
  auto headless = svc("headless", {{"clusterIP", "None"}});
  auto a5 = addresses.allocate(headless, nullptr, false);
  ASSERT_TRUE(a5.ok()) << a5.status().message();
  EXPECT_EQ(json::serialize(specOf(headless).at("ipFamilies")), "[\"IPv6\"]");
  EXPECT_EQ(json::serialize(specOf(headless).at("clusterIPs")), "[\"None\"]");
}

TEST(Ipv6PrimaryRanges, UpgradeKeepsTheIpv6ClusterIpFirstAndDowngradeFreesTheIpv4One) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, v6First());
  auto s = svc("web");
  auto a1 = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a1.ok());
  a1->commit();
  std::string v6(specOf(s).at("clusterIP").as_string());
  auto up = s;
  up["spec"].as_object()["ipFamilyPolicy"] = "RequireDualStack";
  auto a2 = addresses.allocate(up, &s, false);
  ASSERT_TRUE(a2.ok()) << a2.status().message();
  a2->commit();
  const auto& ips = specOf(up).at("clusterIPs").as_array();
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_EQ(ips[0].as_string(), v6);
  std::string v4(ips[1].as_string());
  EXPECT_TRUE(parseIpv4(v4));
  auto down = up;
  down["spec"].as_object()["ipFamilyPolicy"] = "SingleStack";
  auto a3 = addresses.allocate(down, &up, false);
  ASSERT_TRUE(a3.ok()) << a3.status().message();
  a3->commit();
  EXPECT_EQ(json::serialize(specOf(down).at("ipFamilies")), "[\"IPv6\"]");
  EXPECT_FALSE(store.get("/registry/ipaddresses/" + v4).ok()) << "the IPv4 secondary is freed";
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + v6).ok());
}

// IPv6-only: a lone IPv6 range makes every Service IPv6 (upstream's single-stack IPv6
// cluster), without an IPv4 pool.
Ranges v6Only() { return parseRanges("fd00:10:96::/108", "30000-32767").value(); }

TEST(Ipv6OnlyRanges, ALoneIpv6RangeIsTheOnlyFamily) {
  auto r = v6Only();
  EXPECT_FALSE(r.hasIpv4);
  EXPECT_FALSE(r.dualStack());
  EXPECT_TRUE(r.ipv6Primary);
  EXPECT_STREQ(r.primaryFamily(), "IPv6");
  EXPECT_TRUE(r.hasFamily("IPv6"));
  EXPECT_FALSE(r.hasFamily("IPv4"));
  EXPECT_EQ(r.firstIp(), "fd00:10:96::1");
  EXPECT_TRUE(parseRanges("10.96.0.0/12", "30000-32767")->hasFamily("IPv4"));
  EXPECT_FALSE(parseRanges("10.96.0.0/12", "30000-32767")->hasFamily("IPv6"));
  // Too wide, host bits, or not a CIDR: refused by flag name.
  for (const char* bad : {"fd00:10:96::/64", "fd00:10:96::1/108", "fd00:10:96::"}) {
    auto p = parseRanges(bad, "30000-32767");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), 400);
    EXPECT_NE(p.status().message().find("--service-cluster-ip-range: "), std::string::npos)
        << p.status().message();
  }
  // The NodePort range is still checked.
  EXPECT_FALSE(parseRanges("fd00:10:96::/108", "5-1").ok());
}

TEST(Ipv6OnlyRanges, ServicesAreIpv6AndIpv4IsNotConfigured) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, v6Only());
  EXPECT_EQ(addresses.cidr(), "");
  expectSingleStackIpv6(addresses, store);

  // PreferDualStack gets the one family there is.
  auto prefer = svc("prefer", {{"ipFamilyPolicy", "PreferDualStack"}});
  auto a2 = addresses.allocate(prefer, nullptr, false);
  ASSERT_TRUE(a2.ok()) << a2.status().message();
  a2->commit();
  EXPECT_EQ(json::serialize(specOf(prefer).at("ipFamilies")), "[\"IPv6\"]");
  EXPECT_EQ(specOf(prefer).at("clusterIPs").as_array().size(), 1u);

  // Upstream's errors for what the cluster lacks.
  auto four = svc("four", {{"ipFamilies", json::array{"IPv4"}}});
  auto a3 = addresses.allocate(four, nullptr, false);
  ASSERT_FALSE(a3.ok());
  EXPECT_TRUE(a3.status().isInvalid());
  EXPECT_EQ(cause(a3.status()),
            "spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster");
  auto require = svc("require", {{"ipFamilyPolicy", "RequireDualStack"}});
  auto a4 = addresses.allocate(require, nullptr, false);
  ASSERT_FALSE(a4.ok());
  EXPECT_EQ(cause(a4.status()),
            "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not "
            "configured for dual-stack services");
  // A requested IPv4 ClusterIP names its family, which is not configured.
  auto asked = svc("asked", {{"clusterIP", "10.96.0.5"}, {"clusterIPs", json::array{"10.96.0.5"}}});
  auto a5 = addresses.allocate(asked, nullptr, false);
  ASSERT_FALSE(a5.ok());
  EXPECT_EQ(cause(a5.status()),
            "spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster");
  // A requested IPv6 one outside the range names the range.
  auto outside = svc("outside", {{"clusterIP", "fd00:10:97::5"},
                                 {"clusterIPs", json::array{"fd00:10:97::5"}}});
  auto a6 = addresses.allocate(outside, nullptr, false);
  ASSERT_FALSE(a6.ok());
  EXPECT_NE(cause(a6.status()).find("The range of valid IPs is fd00:10:96::/108"),
            std::string::npos)
      << cause(a6.status());
}

TEST(Ipv6OnlyRanges, ReleaseAndRepairWorkWithoutAnIpv4Pool) {
  store::MemoryStore store;
  ServiceAddresses addresses(store, v6Only());
  auto s = svc("web");
  auto a = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(a.ok()) << a.status().message();
  a->commit();
  std::string ip(specOf(s).at("clusterIP").as_string());
  // The Service was never stored: repair sees the reservation as a leak and drops it.
  ASSERT_TRUE(addresses.repair().ok());
  EXPECT_FALSE(store.get("/registry/ipaddresses/" + ip).ok());
  auto again = addresses.allocate(s, nullptr, false);
  ASSERT_TRUE(again.ok()) << again.status().message();
  again->commit();
  ASSERT_TRUE(store.get("/registry/ipaddresses/" + ip).ok());
  addresses.release(s);
  EXPECT_FALSE(store.get("/registry/ipaddresses/" + ip).ok());
}

}  // namespace
}  // namespace berth::apiserver::service
