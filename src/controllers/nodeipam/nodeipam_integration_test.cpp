// The node IPAM controller inside the real `berth server`: nodes get distinct /24s of the
// cluster CIDR, a deleted node's block is freed, and a restarted server (sqlite keeps the
// nodes) rebuilds its set from the nodes instead of handing a block out twice.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "client/testing_server.h"
#include "core/ipv4_cidr.h"

namespace berth::controllers::nodeipam {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kNodes{"", "v1", "nodes", false};

json::value node(const std::string& name) {
  return json::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
}

std::string podCidr(client::RestClient& c, const std::string& name) {
  auto n = c.get(kNodes, "", name);
  if (!n.ok()) return "";
  const json::value* spec = n->as_object().if_contains("spec");
  const json::value* cidr =
      spec && spec->is_object() ? spec->as_object().if_contains("podCIDR") : nullptr;
  return cidr && cidr->is_string() ? std::string(cidr->as_string()) : "";
}

TEST(NodeIpamIntegration, DistinctBlocksFreedOnDeleteAndRebuiltAfterRestart) {
  client::testing::TestServer server("sqlite");
  server.setExtraArgs({"--cluster-cidr", "10.250.0.0/22", "--node-cidr-mask-size", "24"});
  ASSERT_TRUE(server.start());
  auto c = server.client("nodeipam-test");
  ASSERT_TRUE(c);
  std::set<std::string> cidrs;
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_TRUE(c->create(kNodes, "", node(n)).ok());
  }
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_TRUE(eventually([&] { return !podCidr(*c, n).empty(); })) << n;
    std::string cidr = podCidr(*c, n);
    auto parsed = core::parseIpv4Cidr(cidr);
    ASSERT_TRUE(parsed.ok()) << cidr;
    EXPECT_EQ(parsed->prefix, 24);
    EXPECT_TRUE(core::parseIpv4Cidr("10.250.0.0/22")->contains(parsed->base)) << cidr;
    cidrs.insert(cidr);
    auto got = c->get(kNodes, "", n);
    EXPECT_EQ(json::serialize(got->at("spec").at("podCIDRs")), "[\"" + cidr + "\"]");
  }
  EXPECT_EQ(cidrs.size(), 3u);

  // Restart: the fourth block is the only free one; it must not collide with a, b, c.
  server.stop();
  ASSERT_TRUE(server.start());
  c = server.client("nodeipam-test");
  ASSERT_TRUE(c->create(kNodes, "", node("d")).ok());
  ASSERT_TRUE(eventually([&] { return !podCidr(*c, "d").empty(); }));
  std::string d = podCidr(*c, "d");
  EXPECT_EQ(cidrs.count(d), 0u) << d << " handed out twice";
  cidrs.insert(d);

  // The range is full: a fifth node waits; deleting one frees its block for it.
  ASSERT_TRUE(c->create(kNodes, "", node("e")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(podCidr(*c, "e"), "");
  std::string freed = podCidr(*c, "b");
  ASSERT_TRUE(c->remove(kNodes, "", "b").ok());
  ASSERT_TRUE(eventually([&] { return !podCidr(*c, "e").empty(); }, std::chrono::seconds(20)));
  EXPECT_EQ(podCidr(*c, "e"), freed);
}

}  // namespace
}  // namespace berth::controllers::nodeipam
