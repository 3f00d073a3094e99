#include "kubelet/network/cni.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

namespace berth::kubelet::network {
namespace {

TEST(Cni, BridgeWithHostLocalOnThePodCidrAndADefaultRoute) {
  CniOptions o;
  o.stateDir = "/d/cni";
  o.podCidrs = {"10.244.3.0/24"};
  PodAttachment pod;
  auto chain = pluginChain(o, pod);
  ASSERT_EQ(chain.size(), 1u);  // no hostPorts: no portmap
  const auto& bridge = chain[0];
  EXPECT_EQ(bridge.at("type"), "bridge");
  EXPECT_EQ(bridge.at("bridge"), "berth0");
  EXPECT_EQ(bridge.at("isGateway"), true);
  const auto& ipam = bridge.at("ipam").as_object();
  EXPECT_EQ(ipam.at("type"), "host-local");
  EXPECT_EQ(ipam.at("ranges").at(0).at(0).at("subnet"), "10.244.3.0/24");
  EXPECT_EQ(ipam.at("routes").at(0).at("dst"), "0.0.0.0/0");
  EXPECT_EQ(ipam.at("dataDir"), "/d/cni/networks");
  EXPECT_EQ(ipam.at("ranges").as_array().size(), 1u);
  EXPECT_EQ(ipam.at("routes").as_array().size(), 1u);  // no IPv6 route on an IPv4-only node
}

TEST(Cni, DualStackNodesGetARangeAndADefaultRoutePerFamilyPrimaryFirst) {
  CniOptions o;
  o.podCidrs = {"fd00:10:244:3::/64", "10.244.3.0/24"};  // an IPv6-primary node
  auto chain = pluginChain(o, PodAttachment{});
  const auto& ipam = chain.at(0).at("ipam").as_object();
  EXPECT_EQ(boost::json::serialize(ipam.at("ranges")),
            R"([[{"subnet":"fd00:10:244:3::/64"}],[{"subnet":"10.244.3.0/24"}]])");
  EXPECT_EQ(boost::json::serialize(ipam.at("routes")), R"([{"dst":"0.0.0.0/0"},{"dst":"::/0"}])");
  Cni cni(o);
  EXPECT_EQ(cni.ipv4PodCidr(), "10.244.3.0/24");
  cni.setPodCidrs({"fd00:1::/64"});
  EXPECT_EQ(cni.ipv4PodCidr(), "");
}

TEST(Cni, PortmapOnlyForHostPorts) {
  CniOptions o;
  o.podCidrs = {"10.244.0.0/24"};
  PodAttachment pod;
  pod.hostPorts.push_back({8080, 80, "tcp", ""});
  auto chain = pluginChain(o, pod);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1].at("type"), "portmap");
  const auto& m = chain[1].at("runtimeConfig").at("portMappings").at(0);
  EXPECT_EQ(m.at("hostPort"), 8080);
  EXPECT_EQ(m.at("containerPort"), 80);
}

TEST(Cni, ResolvConfAndHostsAsTheKubeletWritesThem) {
  EXPECT_EQ(clusterResolvConf("shop", "10.96.0.10", "cluster.local"),
            "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n");
  // The node's search domains follow the cluster's, without repeats.
  EXPECT_EQ(clusterResolvConf("shop", "10.96.0.10", "cluster.local",
                              {"corp.example", "cluster.local", "lab.example"}),
            "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example "
            "lab.example\nnameserver 10.96.0.10\noptions ndots:5\n");
  std::vector<std::string> many(40, "");
  for (size_t i = 0; i < many.size(); ++i) many[i] = "d" + std::to_string(i) + ".example";
  auto limited = clusterResolvConf("shop", "10.96.0.10", "cluster.local", many);
  EXPECT_NE(limited.find(" d28.example\n"), std::string::npos);  // 3 + 29 = 32 domains
  EXPECT_EQ(limited.find("d29.example"), std::string::npos);
  char path[] = "/tmp/berth-resolv-XXXXXX";
  int fd = ::mkstemp(path);
  std::string conf = "search old.example\nnameserver 10.0.0.2\nsearch a.example b.example. .\n";
  ASSERT_EQ(::write(fd, conf.data(), conf.size()), static_cast<ssize_t>(conf.size()));
  ::close(fd);
  EXPECT_EQ(resolvConfSearch(path), (std::vector<std::string>{"a.example", "b.example"}));
  ::unlink(path);
  auto hosts = podHostsFile({"10.244.0.9"}, "web-0");
  EXPECT_NE(hosts.find("# Kubernetes-managed hosts file."), std::string::npos);
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("10.244.0.9\tweb-0\n"), std::string::npos);
}

TEST(PodHostsFile, OneLinePerPodIpWithTheSubdomainFqdn) {
  auto dual = podHostsFile({"10.244.0.9", "fd00:10:244::9"}, "web-0");
  EXPECT_TRUE(dual.ends_with("10.244.0.9\tweb-0\nfd00:10:244::9\tweb-0\n")) << dual;
  auto fqdn = podHostsFile({"fd00:10:244::9", "10.244.0.9"}, "web-0",
                           "web.default.svc.cluster.local");
  EXPECT_TRUE(fqdn.ends_with("fd00:10:244::9\tweb-0.web.default.svc.cluster.local\tweb-0\n"
                             "10.244.0.9\tweb-0.web.default.svc.cluster.local\tweb-0\n"))
      << fqdn;
}

TEST(PodHostsFile, HostAliasesFollowInTheirOwnSection) {
  auto spec = boost::json::parse(R"({"hostAliases":[
      {"ip":"10.1.2.3","hostnames":["foo.local","bar.local"]},{"ip":"fd00::7","hostnames":["six"]},
      {"ip":"10.9.9.9"},{"hostnames":["no-ip"]}]})")
                  .as_object();
  auto aliases = hostAliasesOf(spec);
  ASSERT_EQ(aliases.size(), 3u);
  auto hosts = podHostsFile({"10.244.0.9"}, "web-0", "", aliases);
  EXPECT_TRUE(
      hosts.ends_with("fe00::2\tip6-allrouters\n10.244.0.9\tweb-0\n"
                      "\n# Entries added by HostAliases.\n"
                      "10.1.2.3\tfoo.local\tbar.local\nfd00::7\tsix\n10.9.9.9\t\n"))
      << hosts;
  EXPECT_EQ(podHostsFile({"10.244.0.9"}, "web-0").find("HostAliases"), std::string::npos);
}

TEST(PodHostsFile, HostNetworkPodsGetTheNodesFileAndTheAliases) {
  std::string node = "127.0.0.1\tlocalhost\n192.168.1.5\tnode-a\n";
  EXPECT_EQ(hostNetworkHostsFile(node, {}),
            "# Kubernetes-managed hosts file (host network).\n" + node);
  EXPECT_EQ(hostNetworkHostsFile(node, {{"10.1.2.3", {"foo"}}}),
            "# Kubernetes-managed hosts file (host network).\n" + node +
                "\n# Entries added by HostAliases.\n10.1.2.3\tfoo\n");
}

}  // namespace
}  // namespace berth::kubelet::network
