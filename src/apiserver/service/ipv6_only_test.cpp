// IPv6-only Service ranges in ServiceAddresses: a lone IPv6 --service-cluster-ip-range makes
// every Service IPv6 (upstream's single-stack IPv6 cluster): IPv4 and dual-stack requests get
// upstream's errors, PreferDualStack falls back to IPv6, and reservations are released and
// repaired without an IPv4 pool.
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
  auto plain = svc("plain");
  auto a1 = addresses.allocate(plain, nullptr, false);
  ASSERT_TRUE(a1.ok()) << a1.status().message();
  a1->commit();
  EXPECT_EQ(specOf(plain).at("ipFamilyPolicy"), "SingleStack");
  EXPECT_EQ(json::serialize(specOf(plain).at("ipFamilies")), "[\"IPv6\"]");
  std::string ip(specOf(plain).at("clusterIP").as_string());
  EXPECT_TRUE(ip.starts_with("fd00:10:96::")) << ip;
  EXPECT_TRUE(store.get("/registry/ipaddresses/" + ip).ok());

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
