// Simulator against the real `berth server` (which runs the node IPAM controller): nodes
// register Ready with podCIDRs and renew their Leases, one pod watch each; bound pods run with
// IPs from their node's podCIDR and are deleted when marked; a paused node stops renewing; a
// restarted simulator takes its nodes and running pods over (same IPs, no second IP given).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <set>

#include "client/testing_server.h"
#include "simulate/simulator.h"

namespace berth::simulate {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
const client::Resource kPods{"", "v1", "pods", true};

std::string field(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* p : path) {
    const json::object* o = cur->if_object();
    cur = o ? o->if_contains(p) : nullptr;
    if (!cur) return "";
  }
  return cur->is_string() ? std::string(cur->as_string()) : json::serialize(*cur);
}

SimulatorOptions options(const client::testing::TestServer& server, int nodes,
                         const std::string& pauseFile) {
  SimulatorOptions o;
  o.rest = *client::loadKubeconfig(server.kubeconfigPath());
  o.nodes = nodes;
  o.namePrefix = "it-";
  o.workers = 2;
  o.timing.leaseRenewInterval = std::chrono::milliseconds(300);
  o.timing.nodeStatusUpdateFrequency = std::chrono::milliseconds(300);
  o.pauseHeartbeatFile = pauseFile;
  return o;
}

json::value pod(const std::string& name, const std::string& node) {
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec",
       {{"nodeName", node},
        {"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

TEST(SimulatorIntegration, NodesLeasesPodsPauseAndTakeOver) {
  client::testing::TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("simulate-test");
  std::string pauseFile = server.dataDir() + "/paused";
  std::ofstream(pauseFile).close();

  auto sim = std::make_unique<Simulator>(options(server, 20, pauseFile));
  ASSERT_TRUE(sim->start().ok());
  ASSERT_TRUE(eventually([&] {
    auto s = sim->stats();
    return s.registered == 20 && s.watches == 20;
  }));
  // Every node gets a distinct podCIDR and its Lease, owned by the Node.
  std::set<std::string> cidrs;
  ASSERT_TRUE(eventually([&] {
    auto list = c->list(kNodes, "");
    cidrs.clear();
    for (const auto& n : list->at("items").as_array()) cidrs.insert(field(n, {"spec", "podCIDR"}));
    cidrs.erase("");
    return cidrs.size() == 20;
  }));
  auto lease = c->get(kLeases, "kube-node-lease", "it-7");
  ASSERT_TRUE(lease.ok());
  auto node7 = c->get(kNodes, "", "it-7");
  EXPECT_EQ(field(*lease, {"spec", "holderIdentity"}), "it-7");
  EXPECT_EQ(field(lease->at("metadata").at("ownerReferences").at(0), {"uid"}),
            field(*node7, {"metadata", "uid"}));

  // Bound pods run with IPs of their node's block.
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(
        c->create(kPods, "default", pod("p" + std::to_string(i), "it-" + std::to_string(i % 3)))
            .ok());
  std::map<std::string, std::string> ips;
  ASSERT_TRUE(eventually([&] {
    for (int i = 0; i < 6; ++i) {
      auto p = c->get(kPods, "default", "p" + std::to_string(i));
      if (!p.ok() || field(*p, {"status", "phase"}) != "Running") return false;
      ips[field(*p, {"metadata", "name"})] = field(*p, {"status", "podIP"});
    }
    return true;
  }));
  for (int i = 0; i < 6; ++i) {
    std::string cidr =
        field(*c->get(kNodes, "", "it-" + std::to_string(i % 3)), {"spec", "podCIDR"});
    std::string ip = ips["p" + std::to_string(i)];
    EXPECT_EQ(ip.substr(0, ip.rfind('.')), cidr.substr(0, cidr.rfind('.'))) << ip << " " << cidr;
  }

  // Paused: it-19's Lease stops moving while it-18's goes on.
  std::ofstream(pauseFile) << "it-19\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::string paused = field(*c->get(kLeases, "kube-node-lease", "it-19"), {"spec", "renewTime"});
  std::string alive = field(*c->get(kLeases, "kube-node-lease", "it-18"), {"spec", "renewTime"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(field(*c->get(kLeases, "kube-node-lease", "it-19"), {"spec", "renewTime"}), paused);
  EXPECT_NE(field(*c->get(kLeases, "kube-node-lease", "it-18"), {"spec", "renewTime"}), alive);

  // A new simulator process takes the nodes over: same pods, same IPs, and a new pod on it-0
  // gets an address none of the running ones has.
  sim->stop();
  EXPECT_EQ(sim->stats().errors, 0);
  sim = std::make_unique<Simulator>(options(server, 20, ""));
  ASSERT_TRUE(sim->start().ok());
  ASSERT_TRUE(eventually([&] { return sim->stats().registered == 20; }));
  ASSERT_TRUE(c->create(kPods, "default", pod("fresh", "it-0")).ok());
  std::string freshIp;
  ASSERT_TRUE(eventually([&] {
    freshIp = field(*c->get(kPods, "default", "fresh"), {"status", "podIP"});
    return !freshIp.empty();
  }));
  for (const auto& [name, ip] : ips) {
    EXPECT_NE(ip, freshIp) << name;
    EXPECT_EQ(field(*c->get(kPods, "default", name), {"status", "podIP"}), ip) << name;
  }

  // Deleting pods: the simulated kubelet finishes them.
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(c->remove(kPods, "default", "p" + std::to_string(i)).ok());
  EXPECT_TRUE(
      eventually([&] { return c->list(kPods, "default")->at("items").as_array().size() == 1; }));
  sim->stop();
  EXPECT_EQ(sim->stats().errors, 0);
}

// A dual-stack cluster (--cluster-cidr with an IPv6 CIDR): nodes get spec.podCIDRs of both
// families and pods status.podIPs with an address of each, from their node's blocks; a restarted
// simulator keeps both.
TEST(SimulatorIntegration, DualStackNodesGivePodsAnIpOfEachFamily) {
  client::testing::TestServer server;
  server.setExtraArgs({"--cluster-cidr", "10.244.0.0/16,fd00:10:244::/56"});
  ASSERT_TRUE(server.start());
  auto c = server.client("simulate-test");
  auto sim = std::make_unique<Simulator>(options(server, 2, ""));
  ASSERT_TRUE(sim->start().ok());
  ASSERT_TRUE(eventually([&] { return sim->stats().registered == 2; }));
  ASSERT_TRUE(c->create(kPods, "default", pod("ds", "it-1")).ok());
  std::string ips;
  ASSERT_TRUE(eventually([&] {
    auto p = c->get(kPods, "default", "ds");
    ips = p.ok() ? field(*p, {"status", "podIPs"}) : "";
    return p.ok() && field(*p, {"status", "phase"}) == "Running";
  }));
  auto node = c->get(kNodes, "", "it-1");
  ASSERT_TRUE(node.ok());
  auto cidrs = node->at("spec").at("podCIDRs").as_array();
  ASSERT_EQ(cidrs.size(), 2u);
  std::string v4(cidrs[0].as_string()), v6(cidrs[1].as_string());
  // The first host address after the gateway of each block: x.2 and x::2.
  std::string want = R"([{"ip":")" + v4.substr(0, v4.rfind('.')) + R"(.2"},{"ip":")" +
                     v6.substr(0, v6.find("::")) + R"(::2"}])";
  EXPECT_EQ(ips, want);
  EXPECT_EQ(field(*c->get(kPods, "default", "ds"), {"status", "podIP"}),
            v4.substr(0, v4.rfind('.')) + ".2");
  // Taken over by a new simulator: the same two addresses, no new ones.
  sim->stop();
  sim = std::make_unique<Simulator>(options(server, 2, ""));
  ASSERT_TRUE(sim->start().ok());
  ASSERT_TRUE(eventually([&] { return sim->stats().registered == 2; }));
  ASSERT_TRUE(c->create(kPods, "default", pod("ds2", "it-1")).ok());
  ASSERT_TRUE(eventually([&] {
    auto p = c->get(kPods, "default", "ds2");
    return p.ok() && field(*p, {"status", "phase"}) == "Running";
  }));
  EXPECT_EQ(field(*c->get(kPods, "default", "ds"), {"status", "podIPs"}), want);
  EXPECT_NE(field(*c->get(kPods, "default", "ds2"), {"status", "podIPs"}), want);
  sim->stop();
  EXPECT_EQ(sim->stats().errors, 0);
}

}  // namespace
}  // namespace berth::simulate
