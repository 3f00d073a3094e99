#pragma once
// The nftables rule set the proxy programs, as kube-proxy's nftables mode (pkg/proxy/nftables/
// proxier.go) structures it, in our own table (`ip berth-proxy`):
//
//   nat-prerouting / nat-output (dstnat)  -> services:
//       ip daddr . meta l4proto . th dport vmap @service-ips        (ClusterIPs, externalIPs,
//                                                                     LoadBalancer ingress IPs)
//       fib daddr type local ... th dport vmap @service-nodeports   (NodePorts on node addresses)
//   filter-input/forward/output (after dstnat): Services without endpoints are rejected
//       (@no-endpoint-services, @no-endpoint-nodeports -> reject-chain); anything else addressed
//       to a ClusterIP is rejected and anything else in the service range dropped.
//   nat-postrouting: masquerade packets carrying the masquerade mark, and hairpin traffic (a pod
//       reaching itself through its Service: @hairpin-pairs holds "ip . ip" of every endpoint).
//
// Balancing differs from upstream in one deliberate way: upstream gives every service port a
// chain with an anonymous `numgen random mod N vmap {...}` set and every endpoint a chain. On
// this kernel each anonymous verdict set makes a transaction quadratic (1,000 services: 0.6 s;
// 10,000: ~3 min), and every rule or element change makes `nft` dump all chains of the table
// first (40,000 chains: ~0.6 s). So a service port without session affinity owns no chain: its
// @service-ips element jumps to a chain shared by every port with N endpoints, which DNATs
// through one map keyed by "address . protocol . port . (numgen random mod N)". A change of
// endpoints is then a handful of map elements. Ports with ClientIP affinity get upstream's
// per-service and per-endpoint chains with a dynamic timeout set per endpoint.
//
// Everything here is pure text generation; Proxier applies it with `nft -f -`.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "proxy/service_model.h"

namespace berth::proxy {

struct RulesetConfig {
  std::string table = "berth-proxy";
  // "ip", or "ip6" for the IPv6 table of a dual-stack or IPv6-only node (then the CIDRs are IPv6
  // ones and the contributions come from servicePorts(..., "IPv6")).
  std::string family = "ip";
  std::string nodeName;
  std::string clusterCidr = "10.244.0.0/16";  // pods; empty = masquerade every ClusterIP client
  std::string serviceCidr = "10.96.0.0/12";
  unsigned masqueradeMark = 0x4000;
  // --nodeport-addresses: the node addresses NodePorts answer on (@nodeport-ips); nullopt =
  // every local address but loopback (fib daddr type local).
  std::optional<std::vector<std::string>> nodePortIps;
};

// Dual-stack flags give CIDR pairs ("10.96.0.0/12,fd00:10:96::/112", in either order): keeps the
// IPv4 halves in `rules` and returns the ip6 table's rules with the IPv6 halves (a cluster CIDR
// without a half of a family: "" there, every client masqueraded); nullopt when the service CIDR
// is not a pair. A lone IPv6 service CIDR (an IPv6-only cluster) turns `rules` itself into the
// ip6 table's (family "ip6", the cluster CIDR's IPv6 half).
std::optional<RulesetConfig> splitDualStack(RulesetConfig& rules);

struct Element {
  std::string set, key, value;  // value empty for plain sets
  bool operator<(const Element& o) const {
    return std::tie(set, key, value) < std::tie(o.set, o.key, o.value);
  }
  bool operator==(const Element& o) const = default;
};

struct ChainSpec {
  std::vector<std::string> rules;
  bool operator==(const ChainSpec& o) const = default;
};

// What one Service adds to the rule set: map/set elements, its own chains and sets (session
// affinity only), and the shared balancing chains its elements jump to.
struct Contribution {
  std::vector<Element> elements;
  std::map<std::string, ChainSpec> chains;  // name -> rules
  std::map<std::string, std::string> sets;  // name -> declaration body "{ ... }"
  std::set<std::string> sharedChains;       // e.g. "cluster-lb-3"
  bool operator==(const Contribution& o) const = default;
};

Contribution contribute(const std::vector<ServicePort>& ports, const RulesetConfig& config);

// The rules of a shared balancing chain by name ("cluster-lb-3", "nodeport-local-lb-2", ...).
std::vector<std::string> sharedChainRules(const std::string& name, const RulesetConfig& config);

// The programmed state: every service's contribution and the element reference counts (two
// services may add the same element, e.g. a hairpin pair of a pod behind both).
class RuleState {
 public:
  explicit RuleState(RulesetConfig config) : config_(std::move(config)) {}

  // The whole table in one transaction: delete and recreate it (dropping anything a previous
  // run left), then everything in `services`. Replaces the state.
  std::string fullSync(std::map<std::string, Contribution> services);

  // The transaction that moves the given services (key -> new contribution, absent = deleted)
  // from their programmed contribution to the new one; only their chains, sets and elements.
  // Updates the state; "" when nothing changes. nullopt (state untouched) when a change needs a
  // shared chain the table lacks: nft 1.0.6 cannot add a rule using the typeof maps once they
  // come from the kernel ("conflicting protocols specified: ip vs. th"), so only a full sync
  // creates shared chains. It creates those for 1..kPrecreatedEndpoints endpoints up front.
  std::optional<std::string> update(
      const std::map<std::string, std::optional<Contribution>>& changes);

  static constexpr int kPrecreatedEndpoints = 16;

  const RulesetConfig& config() const { return config_; }
  size_t serviceCount() const { return services_.size(); }

 private:
  std::string table() const { return config_.family + " " + config_.table; }
  void addSharedChain(std::string& out, const std::string& name);

  RulesetConfig config_;
  std::map<std::string, Contribution> services_;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, int>> elements_;
  std::set<std::string> sharedChains_;
};

}  // namespace berth::proxy
