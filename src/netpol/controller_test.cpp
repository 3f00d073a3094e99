// The controller against the real API server (client/testing_server.h) with nft replaced by a
// recorder: policies, pods and namespace labels reach the node's rules, pod changes as element
// updates only. How fast they follow is bench/netpol_sync's to show, not an assertion here.
#include "netpol/controller.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "client/testing_server.h"

namespace json = boost::json;

namespace berth::netpol {
namespace {

using client::testing::eventually;
using client::testing::TestServer;

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNamespaces{"", "v1", "namespaces", false};
const client::Resource kPolicies{"networking.k8s.io", "v1", "networkpolicies", true};

class Recorder {
 public:
  core::Status apply(const std::string& script) {
    std::lock_guard lock(mu_);
    scripts_.push_back(script);
    return {};
  }
  std::vector<std::string> scripts() const {
    std::lock_guard lock(mu_);
    return scripts_;
  }
  // The first script since `from` containing `needle`, or "".
  std::string find(size_t from, const std::string& needle) const {
    std::lock_guard lock(mu_);
    for (size_t i = from; i < scripts_.size(); ++i)
      if (scripts_[i].find(needle) != std::string::npos) return scripts_[i];
    return "";
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return scripts_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> scripts_;
};

void runningPod(client::RestClient& c, const std::string& name, const std::string& node,
                const std::string& ip, const std::string& app) {
  json::object pod{{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
                   {"spec",
                    {{"nodeName", node},
                     {"containers", json::array{json::object{{"name", "c"}, {"image", "x"}}}}}}};
  auto created = c.create(kPods, "demo", pod);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto obj = created->as_object();
  obj["status"] = json::object{{"phase", "Running"}, {"podIP", ip}};
  auto st = c.updateStatus(kPods, "demo", obj);
  ASSERT_TRUE(st.ok()) << st.status().message();
}

TEST(NetworkPolicyController, FollowsTheApi) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("netpol-test");
  ASSERT_TRUE(c->create(kNamespaces, "",
                        json::object{{"metadata", {{"name", "demo"}, {"labels", {{"team", "a"}}}}}})
                  .ok());
  runningPod(*c, "web", "n1", "10.244.0.2", "web");
  runningPod(*c, "client", "n2", "10.244.1.2", "client");

  Recorder rec;
  ControllerOptions o;
  auto cfg = client::loadKubeconfig(server.kubeconfigPath());
  ASSERT_TRUE(cfg.ok());
  o.rest = *cfg;
  o.nodeName = "n1";
  o.applyScript = [&](const std::string& s) { return rec.apply(s); };
  metrics::Registry registry;
  o.metrics = &registry;
  NetworkPolicyController ctl(o);
  ASSERT_TRUE(ctl.start().ok());
  ASSERT_TRUE(eventually([&] { return rec.size() >= 1; }));
  EXPECT_NE(rec.scripts()[0].find("delete table inet berth-netpol"), std::string::npos)
      << "the first sync replaces the table";

  // A policy: a full replacement isolating web (local to n1), with client (on n2) as peer.
  size_t mark = rec.size();
  auto start = std::chrono::steady_clock::now();
  auto policy = json::parse(R"({"metadata":{"name":"allow-client"},"spec":{
      "podSelector":{"matchLabels":{"app":"web"}},
      "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}]}]}})");
  ASSERT_TRUE(c->create(kPolicies, "demo", policy.as_object()).ok());
  ASSERT_TRUE(
      eventually([&] { return !rec.find(mark, "p0-in0-peer0").empty(); }, std::chrono::seconds(10)))
      << "a policy reaches the rules (how fast: bench/netpol_sync)";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::string full = rec.find(mark, "p0-in0-peer0");
  EXPECT_NE(full.find("set in-isolated {\n    type ipv4_addr\n    elements = { 10.244.0.2 }"),
            std::string::npos)
      << full;
  EXPECT_NE(full.find("set p0-in0-peer0 {\n    type ipv4_addr\n    elements = { 10.244.1.2 }"),
            std::string::npos)
      << full;
  std::cout << "policy create -> rules: " << ms << " ms\n";

  // Another client comes: one element, no table replacement.
  mark = rec.size();
  runningPod(*c, "client2", "n2", "10.244.1.3", "client");
  ASSERT_TRUE(eventually([&] { return !rec.find(mark, "10.244.1.3").empty(); }));
  EXPECT_EQ(rec.find(mark, "10.244.1.3"),
            "add element inet berth-netpol p0-in0-peer0 { 10.244.1.3 }\n");
  // It goes: the element goes.
  mark = rec.size();
  json::value now = json::object{{"gracePeriodSeconds", 0}};  // no kubelet here to confirm
  ASSERT_TRUE(c->remove(kPods, "demo", "client2", &now).ok());
  ASSERT_TRUE(eventually([&] { return !rec.find(mark, "delete element").empty(); }));
  EXPECT_EQ(rec.find(mark, "delete element"),
            "delete element inet berth-netpol p0-in0-peer0 { 10.244.1.3 }\n");

  // The policy goes: the table is replaced by one isolating nothing.
  mark = rec.size();
  ASSERT_TRUE(c->remove(kPolicies, "demo", "allow-client").ok());
  ASSERT_TRUE(eventually([&] { return !rec.find(mark, "delete table").empty(); }));
  EXPECT_EQ(rec.find(mark, "delete table").find("p0-"), std::string::npos);
  EXPECT_NE(
      registry.encode().find("berth_netpol_syncs_total{kind=\"elements\",result=\"success\"}"),
      std::string::npos);
  ctl.stop();
}

// A server that is not answering yet when the controller starts (an agent started beside its
// server, a restart) is waited for; only an answer such as 403 fails the start at once (the
// e2e test_agent_netpol_fallback.sh shows that path).
TEST(NetworkPolicyController, StartWaitsForAServerThatIsNotUpYet) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto cfg = client::loadKubeconfig(server.kubeconfigPath());
  ASSERT_TRUE(cfg.ok());
  server.stop();

  Recorder rec;
  ControllerOptions o;
  o.rest = *cfg;
  o.nodeName = "n1";
  o.applyScript = [&](const std::string& s) { return rec.apply(s); };
  metrics::Registry registry;
  o.metrics = &registry;
  NetworkPolicyController ctl(o);
  std::promise<core::Status> started;
  std::thread starter([&] { started.set_value(ctl.start()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // a few refused probes
  bool up = server.start();
  auto st = started.get_future().get();
  starter.join();
  ASSERT_TRUE(up);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(eventually([&] { return rec.size() >= 1; }, std::chrono::seconds(10)));
  ctl.stop();
}

}  // namespace
}  // namespace berth::netpol
