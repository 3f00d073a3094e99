#include "proxy/ruleset.h"

#include <cstdio>
#include <tuple>
#include <utility>

namespace berth::proxy {

namespace {

std::string hashName(const std::string& s) {
  unsigned long long h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%012llx", h & 0xffffffffffffULL);
  return buf;
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

struct Builder {
  const RulesetConfig& config;
  Contribution& out;

  void element(std::string set, std::string key, std::string value = {}) {
    out.elements.push_back({std::move(set), std::move(key), std::move(value)});
  }
  std::string shared(const std::string& kind, size_t n) {
    std::string name = kind + "-" + std::to_string(n);
    out.sharedChains.insert(name);
    return "goto " + name;
  }
  std::string markMasquerade() const {
    return "meta mark set meta mark or " + hex(config.masqueradeMark);
  }
  // The verdict for a virtual address with no usable endpoints: reject when the Service has none
  // at all, drop when it has some but none this traffic may use (a Local policy), as upstream.
  static std::string noEndpoints(bool anyEndpoint) {
    return anyEndpoint ? "drop" : "goto reject-chain";
  }

  void endpoints(const std::string& set, const std::string& keyPrefix,
                 const std::vector<Endpoint>& eps) {
    for (size_t i = 0; i < eps.size(); ++i)
      element(set, keyPrefix + " . " + std::to_string(i),
              eps[i].ip + " . " + std::to_string(eps[i].port));
  }

  // Upstream's affinity structure: per endpoint a timeout set of client addresses and a chain
  // that records the client and DNATs; the service chain sends known clients to their endpoint
  // and spreads the rest (rule i takes 1/(N-i) of what reaches it: uniform overall).
  std::string affinityChains(const ServicePort& sp, const std::vector<Endpoint>& eps) {
    std::string h = hashName(sp.key());
    std::string service = "service-" + h;
    ChainSpec chain;
    if (!config.clusterCidr.empty())
      chain.rules.push_back("ip saddr != " + config.clusterCidr + " " + markMasquerade());
    std::vector<std::string> epChains;
    for (const auto& e : eps) {
      std::string eh = hashName(sp.key() + "|" + e.ip + ":" + std::to_string(e.port));
      std::string epChain = "endpoint-" + eh, set = "affinity-" + eh;
      out.sets[set] = "{ type ipv4_addr ; flags dynamic,timeout ; timeout " +
                      std::to_string(sp.affinityTimeoutSeconds) + "s ; }";
      out.chains[epChain].rules = {
          "update @" + set + " { ip saddr }",
          "meta l4proto " + sp.protocol + " dnat to " +
              (e.ip.find(':') != std::string::npos ? "[" + e.ip + "]" : e.ip) + ":" +
              std::to_string(e.port)};
      chain.rules.push_back("ip saddr @" + set + " goto " + epChain);
      epChains.push_back(epChain);
    }
    for (size_t i = 0; i + 1 < epChains.size(); ++i)
      chain.rules.push_back("numgen random mod " + std::to_string(epChains.size() - i) +
                            " 0 goto " + epChains[i]);
    chain.rules.push_back("goto " + epChains.back());
    out.chains[service] = std::move(chain);
    return service;
  }

  void port(const ServicePort& sp) {
    auto clusterEps = usableEndpoints(sp.endpoints, sp.internalLocal, config.nodeName);
    auto externalEps = usableEndpoints(sp.endpoints, sp.externalLocal, config.nodeName);
    bool anyEndpoint = !usableEndpoints(sp.endpoints, false, config.nodeName).empty();
    std::string portKey = sp.protocol + " . " + std::to_string(sp.port);
    std::string affinity;  // the service chain, when ClientIP affinity is on
    if (sp.sessionAffinity && !clusterEps.empty()) affinity = affinityChains(sp, clusterEps);
    std::string external;  // the entry for external traffic with affinity
    if (!affinity.empty() && !externalEps.empty()) {
      external = "external-" + hashName(sp.key());
      auto& rules = out.chains[external].rules;
      if (!sp.externalLocal) rules.push_back(markMasquerade());
      rules.push_back("goto " + affinity);
    }

    element("cluster-ips", sp.clusterIP);
    std::string key = sp.clusterIP + " . " + portKey;
    if (clusterEps.empty()) {
      element("no-endpoint-services", key, noEndpoints(anyEndpoint));
    } else if (!affinity.empty()) {
      element("service-ips", key, "goto " + affinity);
    } else {
      element("service-ips", key, shared("cluster-lb", clusterEps.size()));
      endpoints("service-endpoints", key, clusterEps);
    }

    std::vector<std::string> externalAddresses = sp.externalIPs;
    externalAddresses.insert(externalAddresses.end(), sp.loadBalancerIPs.begin(),
                             sp.loadBalancerIPs.end());
    for (const auto& ip : externalAddresses) {
      std::string k = ip + " . " + portKey;
      if (externalEps.empty()) {
        element("no-endpoint-services", k, noEndpoints(anyEndpoint));
      } else if (!external.empty()) {
        element("service-ips", k, "goto " + external);
      } else {
        element("service-ips", k,
                shared(sp.externalLocal ? "external-local-lb" : "external-lb",
                       externalEps.size()));
        endpoints("service-endpoints", k, externalEps);
      }
    }

    if (sp.nodePort > 0) {
      std::string k = sp.protocol + " . " + std::to_string(sp.nodePort);
      if (externalEps.empty()) {
        element("no-endpoint-nodeports", k, noEndpoints(anyEndpoint));
      } else if (!external.empty()) {
        element("service-nodeports", k, "goto " + external);
      } else {
        element("service-nodeports", k,
                shared(sp.externalLocal ? "nodeport-local-lb" : "nodeport-lb",
                       externalEps.size()));
        endpoints("nodeport-endpoints", k, externalEps);
      }
    }

    // Hairpin: a pod whose connection to its Service comes back to itself is masqueraded, or
    // it would answer itself from its own address and drop the reply.
    for (const auto& e : sp.endpoints) element("hairpin-pairs", e.ip + " . " + e.ip);
  }
};

}  // namespace

Contribution contribute(const std::vector<ServicePort>& ports, const RulesetConfig& config) {
  Contribution c;
  Builder b{config, c};
  for (const auto& sp : ports) b.port(sp);
  return c;
}

std::vector<std::string> sharedChainRules(const std::string& name, const RulesetConfig& config) {
  auto dash = name.rfind('-');
  std::string kind = name.substr(0, dash), n = name.substr(dash + 1);
  std::string mark = "meta mark set meta mark or " + hex(config.masqueradeMark);
  std::string byAddress =
      "dnat ip to ip daddr . meta l4proto . th dport . numgen random mod " + n +
      " map @service-endpoints";
  std::string byNodePort =
      "dnat ip to meta l4proto . th dport . numgen random mod " + n + " map @nodeport-endpoints";
  if (kind == "cluster-lb") {
    // Clients outside the pod network (the node itself, other hosts) are masqueraded so the
    // endpoint's reply comes back through this node to be un-DNATed.
    if (config.clusterCidr.empty()) return {mark, byAddress};
    return {"ip saddr != " + config.clusterCidr + " " + mark, byAddress};
  }
  if (kind == "external-lb") return {mark, byAddress};
  if (kind == "external-local-lb") return {byAddress};
  if (kind == "nodeport-lb") return {mark, byNodePort};
  if (kind == "nodeport-local-lb") return {byNodePort};
  return {};
}

namespace {
// The halves of a "a,b" pair by family, whichever comes first (an IPv6-primary cluster gives
// "fd00::/108,10.96.0.0/12"); a lone CIDR is its family's half.
std::pair<std::string, std::string> byFamily(const std::string& pair) {
  std::string a = pair.substr(0, pair.find(','));
  std::string b = pair.find(',') == std::string::npos ? "" : pair.substr(pair.find(',') + 1);
  bool aIs6 = a.find(':') != std::string::npos;
  if (b.empty()) return aIs6 ? std::pair{std::string(), a} : std::pair{a, std::string()};
  return aIs6 ? std::pair{b, a} : std::pair{a, b};
}
}  // namespace

std::optional<RulesetConfig> splitDualStack(RulesetConfig& rules) {
  if (rules.serviceCidr.find(',') == std::string::npos) {
    // An IPv6-only cluster: its one table is the IPv6 one, with the IPv6 pod range (if any).
    if (rules.serviceCidr.find(':') != std::string::npos) {
      rules.family = "ip6";
      rules.clusterCidr = byFamily(rules.clusterCidr).second;
    }
    return std::nullopt;
  }
  RulesetConfig six = rules;
  six.family = "ip6";
  std::tie(rules.serviceCidr, six.serviceCidr) = byFamily(rules.serviceCidr);
  std::tie(rules.clusterCidr, six.clusterCidr) = byFamily(rules.clusterCidr);
  return six;
}

}  // namespace berth::proxy
