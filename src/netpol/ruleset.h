#pragma once
// NetworkPolicy (networking.k8s.io/v1) as an nftables ruleset for one node, the way k3s's
// embedded policy controller (kube-router's) turns policies into iptables/ipsets, but with one
// nftables table and named sets:
//
// - Only traffic the node forwards is filtered (pod to pod, on one bridge through br_netfilter or
//   routed between nodes, and pod to anywhere); the node's own traffic to and from its pods
//   (kubelet probes) never passes the forward hook, so it is always allowed, as upstream.
// - Replies and related traffic of allowed connections pass first (ct state established,related).
// - Egress is checked for packets from a local pod, ingress for packets to one: a pod is
//   isolated in a direction when some policy of its namespace selects it with that policyType;
//   then only what a rule of such a policy allows passes, the rest is dropped.
// - Peers selected by labels are named sets of pod IPs (cluster-wide: the peer may be on any
//   node); named ports are sets of "pod IP . port" of the pods declaring that port name. A pod
//   that comes, goes or changes labels changes set elements only, not chains (see render.h).
// - Both families are policed (dual-stack pods): every set of pod addresses has an IPv6 twin
//   (name + "-6", type ipv6_addr; named ports "port6-..."), every rule an "ip6" twin, and an
//   ipBlock only matches addresses of its CIDR's family, as k3s's policy controller does.
//
// Thread-safety: pure functions on values.
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/labels.h"

namespace berth::netpol {

struct ContainerPort {
  std::string name;
  int port = 0;
  std::string protocol = "TCP";
};

struct PodInfo {
  std::string ns, name;
  std::string ip, ip6;  // the pod's IPv4 and IPv6 addresses (status.podIPs); either may be empty
  core::Labels labels;
  std::vector<ContainerPort> ports;
  bool local = false;  // runs on this node
};

struct ClusterState {
  std::vector<PodInfo> pods;
  std::map<std::string, core::Labels> namespaces;  // name -> labels
  std::vector<boost::json::object> policies;       // NetworkPolicy objects
};

// A pod that takes part in policy: it has an IP (of either family), is not on the host network
// and has not ended.
// nullopt otherwise.
std::optional<PodInfo> podInfo(const boost::json::object& pod, const std::string& nodeName);

struct NftSet {
  std::string name;
  std::string type;  // "ipv4_addr" / "ipv6_addr", or with " . inet_service"
  std::set<std::string> elements;
  bool operator==(const NftSet&) const = default;
};

struct Ruleset {
  std::vector<NftSet> sets;                  // sorted by name
  std::vector<std::string> egress, ingress;  // rule bodies of the two chains, in order
  // Everything but set elements: when equal, only elements need to change.
  bool sameStructure(const Ruleset& other) const;
};

Ruleset buildRuleset(const ClusterState& state);

}  // namespace berth::netpol
