#include "proxy/proxier.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <thread>

#include "proxy/health_check_testing.h"

namespace json = boost::json;

namespace berth::proxy {
namespace {

// The Proxier over informers fed directly and an nft runner that records transactions.
class ProxierTest : public ::testing::Test {
 protected:
  ProxierTest() {
    client::RestConfig config;
    config.server = "https://127.0.0.1:1";  // never contacted
    rest_ = std::move(client::RestClient::create(config).value());
    services_ = std::make_unique<client::SharedInformer>(*rest_, client::Resource{"", "v1", "services", true});
    slices_ = std::make_unique<client::SharedInformer>(
        *rest_, client::Resource{"discovery.k8s.io", "v1", "endpointslices", true});
  }

  static client::ObjectPtr service(const std::string& name, const std::string& ip) {
    return std::make_shared<json::value>(json::object{
        {"metadata", {{"namespace", "default"}, {"name", name}}},
        {"spec",
         {{"clusterIP", ip},
          {"ports", json::array{json::object{{"name", ""}, {"port", 80}, {"protocol", "TCP"}}}}}}});
  }
  static client::ObjectPtr slice(const std::string& service, std::vector<std::string> ips) {
    json::array eps;
    for (const auto& ip : ips) eps.push_back(json::object{{"addresses", json::array{json::string(ip)}}});
    return std::make_shared<json::value>(json::object{
        {"metadata",
         {{"namespace", "default"},
          {"name", service + "-x"},
          {"labels", {{"kubernetes.io/service-name", service}}}}},
        {"addressType", "IPv4"},
        {"ports", json::array{json::object{{"name", ""}, {"port", 8080}, {"protocol", "TCP"}}}},
        {"endpoints", eps}});
  }

  std::unique_ptr<Proxier> makeProxier(std::function<void(ProxierOptions&)> tweak = nullptr) {
    ProxierOptions o;
    o.rules.nodeName = "node-a";
    o.ensureServiceRoute = false;
    o.healthCheckAddress = "127.0.0.1";
    if (tweak) tweak(o);
    return std::make_unique<Proxier>(*services_, *slices_, o, [this](const std::string& tx) {
      std::lock_guard lock(mu_);
      transactions_.push_back(tx);
      if (failNext_ || failAlways_) {
        failNext_ = false;
        return core::Status::internal("nft said no");
      }
      return core::Status();
    });
  }
  std::vector<std::string> transactions() {
    std::lock_guard lock(mu_);
    return transactions_;
  }

  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<client::SharedInformer> services_, slices_;
  std::mutex mu_;
  std::vector<std::string> transactions_;
  bool failNext_ = false;
  bool failAlways_ = false;
};

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_F(ProxierTest, FullSyncFirstThenOnlyTheChangedService) {
  services_->onReplace({service("a", "10.96.0.10"), service("b", "10.96.0.11")}, "1");
  slices_->onReplace({slice("a", {"10.244.0.5"}), slice("b", {"10.244.0.6"})}, "1");
  auto proxier = makeProxier();
  ASSERT_TRUE(proxier->start().ok());
  auto txs = transactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_TRUE(has(txs[0], "delete table ip berth-proxy"));
  EXPECT_TRUE(has(txs[0], "10.96.0.10 . tcp . 80 : goto cluster-lb-1"));

  slices_->onUpdate(slice("a", {"10.244.0.5", "10.244.0.7"}));
  proxier->serviceChanged("default/a");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  txs = transactions();
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_FALSE(has(txs[1], "delete table"));
  EXPECT_TRUE(has(txs[1], "10.244.0.7 . 8080"));
  EXPECT_FALSE(has(txs[1], "10.96.0.11"));
  EXPECT_EQ(proxier->stats().partialSyncs, 1);

  // A change that changes nothing is no transaction.
  proxier->serviceChanged("default/b");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  EXPECT_EQ(transactions().size(), 2u);
}

TEST_F(ProxierTest, AFailedTransactionIsFollowedByAFullSync) {
  services_->onReplace({service("a", "10.96.0.10")}, "1");
  slices_->onReplace({slice("a", {"10.244.0.5"})}, "1");
  auto proxier = makeProxier();
  ASSERT_TRUE(proxier->start().ok());
  {
    std::lock_guard lock(mu_);
    failNext_ = true;
  }
  services_->onUpdate(service("a", "10.96.0.20"));
  proxier->serviceChanged("default/a");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  auto txs = transactions();
  ASSERT_GE(txs.size(), 3u);
  EXPECT_FALSE(has(txs[1], "delete table"));  // the partial one that failed
  EXPECT_TRUE(has(txs[2], "delete table"));   // then everything again
  EXPECT_TRUE(has(txs[2], "10.96.0.20 . tcp . 80"));
  EXPECT_FALSE(has(txs[2], "10.96.0.10"));
  EXPECT_EQ(proxier->stats().failures, 1);
}

TEST_F(ProxierTest, ABurstOfChangesIsBatched) {
  std::vector<client::ObjectPtr> svcs;
  for (int i = 0; i < 50; ++i)
    svcs.push_back(service("s" + std::to_string(i), "10.96.1." + std::to_string(i + 1)));
  services_->onReplace(svcs, "1");
  slices_->onReplace({}, "1");
  auto proxier = makeProxier();
  ASSERT_TRUE(proxier->start().ok());
  for (int i = 0; i < 50; ++i) {
    slices_->onUpdate(slice("s" + std::to_string(i), {"10.244.1." + std::to_string(i + 1)}));
    proxier->serviceChanged("default/s" + std::to_string(i));
  }
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  auto stats = proxier->stats();
  EXPECT_LT(stats.partialSyncs, 10);  // 50 changes within a few min sync periods
  std::string all;
  for (const auto& tx : transactions()) all += tx;
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(has(all, "10.244.1." + std::to_string(i + 1) + " . 8080")) << i;
}

// The health check nodePort of a LoadBalancer Service with externalTrafficPolicy Local follows
// the Service and its endpoints on this node (node-a).
TEST_F(ProxierTest, ServesTheHealthCheckNodePortOfLocalLoadBalancers) {
  int port = testing::freePort();
  auto lb = [&](const std::string& policy) {
    auto svc = service("web", "10.96.0.30");
    auto& spec = std::const_pointer_cast<json::value>(svc)->as_object()["spec"].as_object();
    spec["type"] = "LoadBalancer";
    spec["externalTrafficPolicy"] = policy;
    spec["healthCheckNodePort"] = port;
    return svc;
  };
  auto onNode = [&](const std::string& node) {
    auto s = slice("web", {"10.244.0.5"});
    auto& ep = std::const_pointer_cast<json::value>(s)->as_object()["endpoints"].as_array()[0];
    ep.as_object()["nodeName"] = node;
    return s;
  };
  services_->onReplace({lb("Local")}, "1");
  slices_->onReplace({onNode("node-a")}, "1");
  auto proxier = makeProxier();
  ASSERT_TRUE(proxier->start().ok());
  auto r = testing::get(port);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << r;
  EXPECT_TRUE(has(r, "\"name\": \"web\"") && has(r, "\"localEndpoints\": 1,")) << r;

  slices_->onUpdate(onNode("node-b"));  // the endpoint moved to another node
  proxier->serviceChanged("default/web");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  r = testing::get(port);
  EXPECT_TRUE(r.starts_with("HTTP/1.1 503 Service Unavailable")) << r;
  EXPECT_TRUE(has(r, "\"localEndpoints\": 0,")) << r;

  services_->onUpdate(lb("Cluster"));  // no health check any more: the port closes
  proxier->serviceChanged("default/web");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  EXPECT_EQ(testing::get(port), "");
  proxier->stop();
}

// --healthz-bind-address: /healthz and /livez answer 200 while the rules are in sync and 503 once
// a change has waited longer than the health timeout (nft keeps failing here).
TEST_F(ProxierTest, ServesHealthzWhileTheRulesAreInSync) {
  services_->onReplace({service("a", "10.96.0.10")}, "1");
  slices_->onReplace({slice("a", {"10.244.0.5"})}, "1");
  int port = testing::freePort();
  auto proxier = makeProxier([&](ProxierOptions& o) {
    o.healthzBindAddress = "127.0.0.1:" + std::to_string(port);
    o.healthTimeout = std::chrono::milliseconds(300);
  });
  ASSERT_TRUE(proxier->start().ok());
  auto r = testing::get(port, "/healthz");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << r;
  EXPECT_TRUE(has(r, "\"currentTime\": \"") && has(r, "\"nodeEligible\": true}")) << r;
  EXPECT_TRUE(testing::get(port, "/livez").starts_with("HTTP/1.1 200 OK"));
  EXPECT_TRUE(testing::get(port, "/metrics").starts_with("HTTP/1.1 404 Not Found"));

  {
    std::lock_guard lock(mu_);
    failAlways_ = true;
  }
  services_->onUpdate(service("a", "10.96.0.11"));
  proxier->serviceChanged("default/a");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  r = testing::get(port, "/healthz");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 503 Service Unavailable")) << r;
  EXPECT_FALSE(proxier->health().healthy);

  {
    std::lock_guard lock(mu_);
    failAlways_ = false;
  }
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  EXPECT_TRUE(testing::get(port, "/healthz").starts_with("HTTP/1.1 200 OK"));
  proxier->stop();
  EXPECT_EQ(testing::get(port, "/healthz"), "");  // closed with the proxier
}

// --nodeport-addresses: NodePorts match only the selected node addresses (@nodeport-ips instead
// of every local address), and health check nodePorts listen only there.
TEST_F(ProxierTest, NodePortAddressesLimitNodePortsAndHealthChecks) {
  int port = testing::freePort();
  auto svc = service("web", "10.96.0.30");
  auto& spec = std::const_pointer_cast<json::value>(svc)->as_object()["spec"].as_object();
  spec["type"] = "LoadBalancer";
  spec["externalTrafficPolicy"] = "Local";
  spec["healthCheckNodePort"] = port;
  spec["ports"].as_array()[0].as_object()["nodePort"] = 30080;
  services_->onReplace({svc}, "1");
  slices_->onReplace({slice("web", {"10.244.0.5"})}, "1");

  auto proxier = makeProxier([](ProxierOptions& o) { o.nodePortAddresses = {"127.0.0.0/8"}; });
  ASSERT_TRUE(proxier->start().ok());
  auto tx = transactions().at(0);
  EXPECT_TRUE(has(tx, "add set ip berth-proxy nodeport-ips { type ipv4_addr ; }")) << tx;
  EXPECT_TRUE(has(tx, "add element ip berth-proxy nodeport-ips { 127.0.0.1")) << tx;
  EXPECT_TRUE(has(tx, "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports"));
  EXPECT_FALSE(has(tx, "fib daddr type local")) << tx;
  EXPECT_TRUE(testing::get(port).starts_with("HTTP/1.1 503")) << "served on 127.0.0.1";
  proxier->stop();

  // A range holding none of the node's addresses: NodePorts and the health check answer nowhere.
  auto none = makeProxier([](ProxierOptions& o) { o.nodePortAddresses = {"198.51.100.0/24"}; });
  ASSERT_TRUE(none->start().ok());
  tx = transactions().back();
  EXPECT_TRUE(has(tx, "ip daddr @nodeport-ips ")) << tx;
  EXPECT_FALSE(has(tx, "add element ip berth-proxy nodeport-ips")) << tx;
  EXPECT_EQ(testing::get(port), "");
  none->stop();

  auto bad = makeProxier([](ProxierOptions& o) { o.nodePortAddresses = {"10.0.0.0/33"}; });
  auto st = bad->start();
  EXPECT_EQ(st.message(),
            "nodePortAddresses[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR");
}

// --nodeport-addresses follows the node's addresses: one that appears or goes away (no API change
// at all) reaches the nodeport-ips set and the health check listeners within a check period.
TEST_F(ProxierTest, NodePortAddressesAreReResolvedWhenTheNodesAddressesChange) {
  int port = testing::freePort();
  auto svc = service("web", "10.96.0.30");
  auto& spec = std::const_pointer_cast<json::value>(svc)->as_object()["spec"].as_object();
  spec["type"] = "LoadBalancer";
  spec["externalTrafficPolicy"] = "Local";
  spec["healthCheckNodePort"] = port;
  spec["ports"].as_array()[0].as_object()["nodePort"] = 30080;
  services_->onReplace({svc}, "1");
  slices_->onReplace({slice("web", {"10.244.0.5"})}, "1");
  std::mutex addrMu;
  std::vector<std::string> local{"127.0.0.1", "192.0.2.7", "::1"};
  auto proxier = makeProxier([&](ProxierOptions& o) {
    o.nodePortAddresses = {"127.0.0.0/8", "::1/128"};
    o.nodeAddressCheckPeriod = std::chrono::milliseconds(20);
    o.localAddresses = [&] {
      std::lock_guard lock(addrMu);
      return local;
    };
    o.rules6 = o.rules;
    o.rules6->family = "ip6";
    o.rules6->serviceCidr = "fd00:10:96::/112";
  });
  ASSERT_TRUE(proxier->start().ok());
  auto tx = transactions().at(0);
  EXPECT_TRUE(has(tx, "add element ip berth-proxy nodeport-ips { 127.0.0.1 }")) << tx;
  EXPECT_TRUE(has(tx, "add element ip6 berth-proxy nodeport-ips { ::1 }")) << tx;
  EXPECT_TRUE(testing::get(port).starts_with("HTTP/1.1 503")) << "served on 127.0.0.1";

  size_t before = transactions().size();
  {
    std::lock_guard lock(addrMu);
    local = {"127.0.0.2", "192.0.2.7"};  // 127.0.0.1 and ::1 went away, 127.0.0.2 came
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (transactions().size() == before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT(transactions().size(), before) << "no sync after the addresses changed";
  tx = transactions().back();
  EXPECT_TRUE(has(tx, "delete table ip berth-proxy")) << "a full sync: " << tx;
  EXPECT_TRUE(has(tx, "add element ip berth-proxy nodeport-ips { 127.0.0.2 }")) << tx;
  EXPECT_FALSE(has(tx, "add element ip6 berth-proxy nodeport-ips")) << tx;
  EXPECT_TRUE(has(tx, "tcp . 30080 :")) << "the Service's NodePort is kept: " << tx;
  EXPECT_EQ(testing::get(port), "") << "the health check left 127.0.0.1";

  // Unchanged addresses: no more transactions.
  before = transactions().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(transactions().size(), before);
  proxier->stop();
}

// Dual-stack: with rules6 the proxier programs the ip6 table in the same transactions, from the
// Services' IPv6 ClusterIPs and IPv6 EndpointSlices; a change touches both families' elements.
TEST_F(ProxierTest, DualStackProgramsBothTablesInOneTransaction) {
  auto svc = service("web", "10.96.0.30");
  auto& spec = std::const_pointer_cast<json::value>(svc)->as_object()["spec"].as_object();
  spec["clusterIPs"] = json::array{"10.96.0.30", "fd00:10:96::1e"};
  spec["ipFamilies"] = json::array{"IPv4", "IPv6"};
  auto v6slice = [&](const std::string& ip) {
    auto s = slice("web", {ip});
    auto& o = std::const_pointer_cast<json::value>(s)->as_object();
    o["addressType"] = "IPv6";
    o["metadata"].as_object()["name"] = "web-v6";
    return s;
  };
  services_->onReplace({svc}, "1");
  slices_->onReplace({slice("web", {"10.244.0.5"}), v6slice("fd00:10:244::5")}, "1");
  auto proxier = makeProxier([](ProxierOptions& o) {
    RulesetConfig six;
    six.family = "ip6";
    six.nodeName = "node-a";
    six.clusterCidr = "fd00:10:244::/56";
    six.serviceCidr = "fd00:10:96::/112";
    o.rules6 = six;
  });
  ASSERT_TRUE(proxier->start().ok());
  auto first = transactions().at(0);
  EXPECT_TRUE(has(first, "add table ip berth-proxy\n")) << first;
  EXPECT_TRUE(has(first, "add table ip6 berth-proxy\n")) << first;
  EXPECT_TRUE(has(first, "10.96.0.30 . tcp . 80 : goto cluster-lb-1"));
  EXPECT_TRUE(has(first, "fd00:10:96::1e . tcp . 80 : goto cluster-lb-1"));
  EXPECT_TRUE(has(first, "fd00:10:244::5 . 8080"));

  slices_->onUpdate(v6slice("fd00:10:244::6"));
  proxier->serviceChanged("default/web");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  auto partial = transactions().back();
  EXPECT_FALSE(has(partial, "add table")) << partial;
  EXPECT_TRUE(has(partial, "delete element ip6 berth-proxy service-endpoints")) << partial;
  EXPECT_TRUE(has(partial, "fd00:10:244::6 . 8080")) << partial;
  EXPECT_FALSE(has(partial, "element ip berth-proxy")) << "the IPv4 side did not change";
  proxier->stop();
}

TEST_F(ProxierTest, Ipv6OnlyProgramsOnlyTheIp6Table) {
  auto svc = service("web", "fd00:10:96::1e");
  auto& spec = std::const_pointer_cast<json::value>(svc)->as_object()["spec"].as_object();
  spec["clusterIPs"] = json::array{"fd00:10:96::1e"};
  spec["ipFamilies"] = json::array{"IPv6"};
  auto v6slice = [&](const std::string& ip) {
    auto s = slice("web", {ip});
    std::const_pointer_cast<json::value>(s)->as_object()["addressType"] = "IPv6";
    return s;
  };
  services_->onReplace({svc}, "1");
  slices_->onReplace({v6slice("fd00:10:244::5")}, "1");
  auto proxier = makeProxier([](ProxierOptions& o) {
    o.rules.serviceCidr = "fd00:10:96::/108";
    o.rules.clusterCidr = "fd00:10:244::/56";
    o.rules6 = splitDualStack(o.rules);  // as the agent and `berth proxy` do
  });
  ASSERT_TRUE(proxier->start().ok());
  auto first = transactions().at(0);
  EXPECT_TRUE(has(first, "add table ip6 berth-proxy\n")) << first;
  EXPECT_FALSE(has(first, "add table ip berth-proxy")) << "no IPv4 table in an IPv6-only cluster";
  EXPECT_TRUE(has(first, "fd00:10:96::1e . tcp . 80 : goto cluster-lb-1")) << first;
  EXPECT_TRUE(has(first, "fd00:10:244::5 . 8080")) << first;
  EXPECT_TRUE(has(first, "ip6 daddr fd00:10:96::/108 drop")) << first;
  EXPECT_TRUE(has(first, "ip6 saddr != fd00:10:244::/56 ")) << first;

  slices_->onUpdate(v6slice("fd00:10:244::6"));
  proxier->serviceChanged("default/web");
  ASSERT_TRUE(proxier->waitForSync(std::chrono::seconds(5)));
  auto partial = transactions().back();
  EXPECT_TRUE(has(partial, "delete element ip6 berth-proxy service-endpoints")) << partial;
  EXPECT_TRUE(has(partial, "fd00:10:244::6 . 8080")) << partial;
  proxier->stop();
}

}  // namespace
}  // namespace berth::proxy
