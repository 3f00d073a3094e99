// ClusterDns against the real `berth server`: Services and EndpointSlices created through the
// API show up in DNS answers, and go away with their objects.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "dns/cluster_dns.h"
#include "dns/dns_test_util.h"

namespace berth::dns {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using testing::ipv4Text;
using testing::query;

const client::Resource kServices{"", "v1", "services", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};

json::value service(const std::string& ns, const std::string& name, bool headless) {
  json::object spec{{"ports", json::array{json::object{
                                  {"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}};
  if (headless) spec["clusterIP"] = "None";
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata", {{"name", name}, {"namespace", ns}}},
                      {"spec", spec}};
}

json::value slice(const std::string& ns, const std::string& svc,
                  const std::vector<std::pair<std::string, std::string>>& endpoints) {
  json::array eps;
  for (const auto& [ip, host] : endpoints) {
    json::object ep{{"addresses", json::array{json::string(ip)}},
                    {"conditions", {{"ready", true}}}};
    if (!host.empty()) ep["hostname"] = host;
    eps.push_back(ep);
  }
  return json::object{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata",
       {{"name", svc + "-test"},
        {"namespace", ns},
        {"labels", {{"kubernetes.io/service-name", svc}}}}},
      {"addressType", "IPv4"},
      {"ports", json::array{json::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
      {"endpoints", eps}};
}

TEST(ClusterDnsIntegration, AnswersFromServicesAndEndpointSlicesOfTheApi) {
  client::testing::TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("dns-test");
  ASSERT_TRUE(c);
  client::testing::createNamespace(*c, "bar");
  auto foo = c->create(kServices, "bar", service("bar", "foo", false));
  ASSERT_TRUE(foo.ok()) << foo.status().message();
  std::string clusterIp(foo->at("spec").at("clusterIP").as_string());
  ASSERT_TRUE(c->create(kServices, "bar", service("bar", "db", true)).ok());
  ASSERT_TRUE(c->create(kSlices, "bar",
                        slice("bar", "db", {{"10.244.0.5", "db-0"}, {"10.244.1.6", ""}}))
                  .ok());

  auto cfg = client::loadKubeconfig(server.kubeconfigPath());
  ASSERT_TRUE(cfg.ok());
  ClusterDnsOptions o;
  o.rest = *cfg;
  o.server.listen = "127.0.0.1:0";
  o.forward.upstreams = {"127.0.0.1:1"};  // nothing listens: forwarded names fail fast
  o.forward.timeout = std::chrono::milliseconds(200);
  ClusterDns dns(o);
  ASSERT_TRUE(dns.start().ok());

  auto a = query(dns.port(), "foo.bar.svc.cluster.local", type::kA);
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(ipv4Text(a->answers[0].data), clusterIp);

  auto headless = query(dns.port(), "db.bar.svc.cluster.local", type::kA, true);
  ASSERT_TRUE(headless.has_value());
  std::vector<std::string> ips;
  for (const auto& rr : headless->answers) ips.push_back(ipv4Text(rr.data));
  std::sort(ips.begin(), ips.end());
  EXPECT_EQ(ips, (std::vector<std::string>{"10.244.0.5", "10.244.1.6"}));

  auto srv = query(dns.port(), "_http._tcp.db.bar.svc.cluster.local", type::kSRV);
  ASSERT_TRUE(srv.has_value());
  ASSERT_EQ(srv->answers.size(), 2u);
  for (const auto& rr : srv->answers) EXPECT_EQ(std::get<SrvData>(rr.data).port, 8080);
  EXPECT_EQ(srv->additional.size(), 2u);

  auto ptr = query(dns.port(), "5.0.244.10.in-addr.arpa", type::kPTR);
  ASSERT_TRUE(ptr.has_value());
  ASSERT_EQ(ptr->answers.size(), 1u);
  EXPECT_EQ(std::get<NameData>(ptr->answers[0].data).name, "db-0.db.bar.svc.cluster.local");

  // A new Service appears, a deleted one goes: NXDOMAIN once the informer has seen it.
  ASSERT_TRUE(c->create(kServices, "bar", service("bar", "late", false)).ok());
  EXPECT_TRUE(eventually([&] {
    auto m = query(dns.port(), "late.bar.svc.cluster.local", type::kA);
    return m && m->answers.size() == 1;
  }));
  ASSERT_TRUE(c->remove(kServices, "bar", "foo").ok());
  EXPECT_TRUE(eventually([&] {
    auto m = query(dns.port(), "foo.bar.svc.cluster.local", type::kA);
    return m && m->header.rcode == rcode::kNXDomain;
  }));
  auto out = query(dns.port(), "example.org", type::kA);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->header.rcode, rcode::kServFail);
  dns.stop();
}

}  // namespace
}  // namespace berth::dns
