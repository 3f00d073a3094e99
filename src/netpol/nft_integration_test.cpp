// The generated rules under the real nft and kernel: a scratch "node" network namespace with a
// bridge and three "pods" (namespaces on veths) running busybox httpd; requests between them
// pass or not as the policies say, and pod changes applied as set element updates take effect.
// Needs root and nft (the test machine has both); everything lives in namespaces it creates.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "netpol/render.h"
#include "netpol/ruleset.h"
#include "sys/process.h"

namespace json = boost::json;

namespace berth::netpol {
namespace {

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

class NftNamespaces : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || sh("command -v nft") != 0 || sh("command -v busybox") != 0)
      GTEST_SKIP() << "needs root, nft and busybox";
    std::string id = std::to_string(std::random_device{}() % 1000000);
    node_ = "berth-npn-" + id;
    dir_ = "/tmp/berth-npn-" + id;
    std::filesystem::create_directories(dir_ + "/www");
    FILE* f = std::fopen((dir_ + "/www/index.html").c_str(), "w");
    std::fputs("hello\n", f);
    std::fclose(f);
    ASSERT_EQ(sh("ip netns add " + node_), 0);
    ASSERT_EQ(sh("ip -n " + node_ + " link set lo up && ip -n " + node_ +
                 " link add br0 type bridge && ip -n " + node_ +
                 " addr add 10.99.0.1/24 dev br0 && ip -n " + node_ + " link set br0 up"),
              0);
    for (int i = 0; i < 3; ++i) {
      std::string pod = node_ + "-p" + std::to_string(i), ip = ip_[i];
      pods_.push_back(pod);
      ASSERT_EQ(sh("ip netns add " + pod + " && ip -n " + pod + " link set lo up && ip -n " +
                   node_ + " link add v" + std::to_string(i) + " type veth peer name eth0 netns " +
                   pod + " && ip -n " + node_ + " link set v" + std::to_string(i) +
                   " master br0 up && ip -n " + pod + " addr add " + ip + "/24 dev eth0 && ip -n " +
                   pod + " link set eth0 up && ip -n " + pod + " route add default via 10.99.0.1"),
                0);
      // httpd on 8080 and 8081 in every pod.
      for (int port : {8080, 8081}) {
        std::string cmd = "ip netns exec " + pod + " busybox httpd -f -p " + std::to_string(port) +
                          " -h " + dir_ + "/www </dev/null >/dev/null 2>&1 & echo $!";
        FILE* p = ::popen(cmd.c_str(), "r");
        int pid = 0;
        if (std::fscanf(p, "%d", &pid) == 1) pids_.push_back(pid);
        ::pclose(p);
      }
    }
    // Bridged traffic through the inet hooks, as the controller sets it in a node namespace.
    ASSERT_EQ(sh("ip netns exec " + node_ + " sysctl -qw net.bridge.bridge-nf-call-iptables=1"), 0);
    ASSERT_TRUE(reaches(1, 0, 8080)) << "no policy: the client reaches the server";
  }

  void TearDown() override {
    for (int pid : pids_) ::kill(pid, SIGKILL);
    for (const auto& p : pods_) sh("ip netns del " + p);
    if (!node_.empty()) sh("ip netns del " + node_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool reaches(int from, int to, int port) {
    return sh("ip netns exec " + pods_[from] + " timeout 1 busybox wget -qO- http://" + ip_[to] +
              ":" + std::to_string(port) + "/") == 0;
  }

  void apply(const std::string& script) {
    auto r =
        sys::runProcess({"ip", "netns", "exec", node_, "nft", "-f", "-"}, {.stdinData = script});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->exitCode, 0) << r->err << "\n" << script;
  }

  ClusterState state() {
    ClusterState s;
    s.namespaces = {{"demo", {}}};
    s.pods.push_back(podAt(0, {{"app", "server"}}));
    s.pods.push_back(podAt(1, {{"app", "client"}}));
    s.pods.push_back(podAt(2, {{"app", "other"}}));
    return s;
  }
  PodInfo podAt(int i, core::Labels labels) {
    PodInfo p;
    p.ns = "demo";
    p.name = "p" + std::to_string(i);
    p.ip = ip_[i];
    p.labels = std::move(labels);
    p.local = true;
    p.ports = {{"http", 8080, "TCP"}};
    return p;
  }
  static json::object policy(const std::string& name, const std::string& spec) {
    return json::object{{"metadata", {{"namespace", "demo"}, {"name", name}}},
                        {"spec", json::parse(spec)}};
  }

  std::string node_, dir_;
  std::vector<std::string> pods_;
  std::vector<int> pids_;
  const std::vector<std::string> ip_{"10.99.0.2", "10.99.0.3", "10.99.0.4"};
};

TEST_F(NftNamespaces, DenyThenAllowByLabelThenByElementUpdate) {
  auto s = state();
  s.policies.push_back(policy("deny", R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  auto deny = buildRuleset(s);
  apply(fullScript(deny));
  EXPECT_FALSE(reaches(1, 0, 8080)) << "default deny blocks the client";
  EXPECT_FALSE(reaches(2, 0, 8080));
  EXPECT_EQ(
      sh("ip netns exec " + node_ + " timeout 1 busybox wget -qO- http://" + ip_[0] + ":8080/"), 0)
      << "the node itself (kubelet probes) still reaches its pods";

  s.policies.push_back(policy("allow-client", R"({"podSelector":{"matchLabels":{"app":"server"}},
      "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],
                  "ports":[{"protocol":"TCP","port":"http"}]}]})"));
  auto allow = buildRuleset(s);
  apply(fullScript(allow));
  EXPECT_TRUE(reaches(1, 0, 8080)) << "app=client is let through";
  EXPECT_FALSE(reaches(1, 0, 8081)) << "only on the named port";
  EXPECT_FALSE(reaches(2, 0, 8080)) << "another pod is still blocked";

  // The other pod becomes a client: one element added, no chain rewritten.
  s.pods[2].labels = {{"app", "client"}};
  auto relabeled = buildRuleset(s);
  ASSERT_TRUE(allow.sameStructure(relabeled));
  auto script = elementScript(allow, relabeled);
  EXPECT_EQ(script.find("chain"), std::string::npos);
  apply(script);
  EXPECT_TRUE(reaches(2, 0, 8080)) << "relabelled pod let through by a set element update";
}

TEST_F(NftNamespaces, EgressIpBlockWithExceptAndPortRange) {
  auto s = state();
  s.policies.push_back(policy("egress", R"({"podSelector":{"matchLabels":{"app":"client"}},
      "policyTypes":["Egress"],
      "egress":[{"to":[{"ipBlock":{"cidr":"10.99.0.0/24","except":["10.99.0.4/32"]}}],
                 "ports":[{"protocol":"TCP","port":8080,"endPort":8080}]}]})"));
  apply(fullScript(buildRuleset(s)));
  EXPECT_TRUE(reaches(1, 0, 8080)) << "inside the block, on the port";
  EXPECT_FALSE(reaches(1, 0, 8081)) << "outside the port range";
  EXPECT_FALSE(reaches(1, 2, 8080)) << "in the except";
  EXPECT_TRUE(reaches(2, 0, 8081)) << "pods the policy does not select are not isolated";
  // Replies of allowed connections pass although the server's egress is isolated too.
  s.policies.push_back(policy("server-egress", R"({"podSelector":{"matchLabels":{"app":"server"}},
      "policyTypes":["Egress"]})"));
  apply(fullScript(buildRuleset(s)));
  EXPECT_TRUE(reaches(1, 0, 8080)) << "established replies are exempt";
  EXPECT_FALSE(reaches(0, 1, 8080)) << "the server itself may not open connections";
  apply(deleteScript());
  EXPECT_TRUE(reaches(0, 1, 8080)) << "without the table nothing is enforced";
}

TEST_F(NftNamespaces, EveryProtocolAndPortFormIsAcceptedByTheKernel) {
  auto s = state();
  s.namespaces["other"] = {{"team", "b"}};
  s.policies.push_back(policy("ports", R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
      "ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"team":"b"}},"podSelector":{}},
                          {"ipBlock":{"cidr":"10.99.0.3/32"}}],
                  "ports":[{"protocol":"UDP","port":53},{"protocol":"SCTP","port":9,"endPort":19},
                           {"protocol":"TCP","port":"http"},{"protocol":"UDP"},
                           {"protocol":"TCP","port":8080,"endPort":8081}]}],
      "egress":[{"ports":[{"protocol":"UDP","port":"dns"}]},{"to":[{"ipBlock":{"cidr":"0.0.0.0/0",
                 "except":["10.99.0.4/32","192.168.0.0/16"]}}]}]})"));
  auto rs = buildRuleset(s);
  apply(fullScript(rs));
  EXPECT_TRUE(reaches(1, 0, 8081)) << "10.99.0.3 is allowed in on 8080-8081";
  EXPECT_FALSE(reaches(2, 0, 8080)) << "10.99.0.4 is not: not in the block, namespace not team=b";
  // The namespace is relabelled team=b: its pods become peers by element updates only.
  s.namespaces["demo"] = {{"team", "b"}};
  auto next = buildRuleset(s);
  ASSERT_TRUE(rs.sameStructure(next));
  apply(elementScript(rs, next));
  EXPECT_TRUE(reaches(2, 0, 8080)) << "now let in on 8080";
  EXPECT_FALSE(reaches(1, 2, 8080)) << "egress to the except address stays blocked";
}

}  // namespace
}  // namespace berth::netpol
