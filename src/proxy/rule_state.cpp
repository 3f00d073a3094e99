// RuleState: the full-sync and incremental transactions (see ruleset.h).
#include <algorithm>
#include <optional>

#include "proxy/ruleset.h"

namespace berth::proxy {

namespace {

// Sets and maps of the base structure; their types are fixed, their elements come from services.
const char* const kBaseSets[][2] = {
    {"cluster-ips", "{ type ipv4_addr ; }"},
    {"service-ips", "{ type ipv4_addr . inet_proto . inet_service : verdict ; }"},
    {"service-nodeports", "{ type inet_proto . inet_service : verdict ; }"},
    {"no-endpoint-services", "{ type ipv4_addr . inet_proto . inet_service : verdict ; }"},
    {"no-endpoint-nodeports", "{ type inet_proto . inet_service : verdict ; }"},
    {"service-endpoints",
     "{ typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport ; }"},
    {"nodeport-endpoints",
     "{ typeof meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport ; }"},
    {"hairpin-pairs", "{ type ipv4_addr . ipv4_addr ; }"},
};

bool isMap(const std::string& set) {
  for (const auto& s : kBaseSets)
    if (set == s[0]) return std::string(s[1]).find(':') != std::string::npos;
  return false;
}

std::string elementText(const Element& e) {
  return e.value.empty() ? e.key : e.key + " : " + e.value;
}

// The IPv6 table is the IPv4 one with IPv6 matches and types (kube-proxy's nftables mode uses
// the same structure in its `ip6 kube-proxy` table). Rules, set types and loopback exclusion are
// written once, for IPv4, and translated here.
void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

std::string forFamily(std::string text, const RulesetConfig& config) {
  if (config.family != "ip6") return text;
  replaceAll(text, "ip daddr", "ip6 daddr");
  replaceAll(text, "ip saddr", "ip6 saddr");
  replaceAll(text, "ipv4_addr", "ipv6_addr");
  replaceAll(text, "dnat ip to", "dnat ip6 to");
  replaceAll(text, "127.0.0.0/8", "::1");
  return text;
}

}  // namespace

void RuleState::addSharedChain(std::string& out, const std::string& name) {
  if (!sharedChains_.insert(name).second) return;
  out += "add chain " + table() + " " + name + "\n";
  for (const auto& r : sharedChainRules(name, config_))
    out += "add rule " + table() + " " + name + " " + r + "\n";
}

std::string RuleState::fullSync(std::map<std::string, Contribution> services) {
  const std::string t = table();
  std::string out = "add table " + t + "\ndelete table " + t + "\nadd table " + t + "\n";
  for (const auto& s : kBaseSets)
    out += std::string(isMap(s[0]) ? "add map " : "add set ") + t + " " + s[0] + " " + s[1] + "\n";
  auto chain = [&](const std::string& name, const std::string& hook,
                   std::vector<std::string> rules) {
    out += "add chain " + t + " " + name + (hook.empty() ? "" : " { " + hook + " ; }") + "\n";
    for (const auto& r : rules) out += "add rule " + t + " " + name + " " + r + "\n";
  };
  std::string localNodePort = "fib daddr type local ip daddr != 127.0.0.0/8 ";
  if (config_.nodePortIps) {
    out += "add set " + t + " nodeport-ips { type ipv4_addr ; }\n";
    std::string elems;
    bool v6 = config_.family == "ip6";
    for (const auto& ip : *config_.nodePortIps)
      if ((ip.find(':') != std::string::npos) == v6) elems += (elems.empty() ? "" : ", ") + ip;
    if (!elems.empty()) out += "add element " + t + " nodeport-ips { " + elems + " }\n";
    localNodePort = "ip daddr @nodeport-ips ";
  }
  chain("reject-chain", "", {"meta l4proto tcp reject with tcp reset", "reject"});
  chain("services", "",
        {"ip daddr . meta l4proto . th dport vmap @service-ips",
         localNodePort + "meta l4proto . th dport vmap @service-nodeports"});
  chain("endpoints-check", "",
        {"ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
         localNodePort + "meta l4proto . th dport vmap @no-endpoint-nodeports"});
  // Runs after DNAT: what still goes to a service address was not served by any rule.
  chain("cluster-ips-check", "",
        {"ip daddr @cluster-ips goto reject-chain", "ip daddr " + config_.serviceCidr + " drop"});
  char mark[16];
  std::snprintf(mark, sizeof mark, "0x%x", config_.masqueradeMark);
  chain("masquerading", "",
        {"ct status dnat ip saddr . ip daddr @hairpin-pairs masquerade",
         std::string("meta mark & ") + mark + " == 0 return",
         std::string("meta mark set meta mark xor ") + mark, "masquerade fully-random"});
  chain("nat-prerouting", "type nat hook prerouting priority -100", {"jump services"});
  chain("nat-output", "type nat hook output priority -100", {"jump services"});
  chain("nat-postrouting", "type nat hook postrouting priority 100", {"jump masquerading"});
  chain("filter-input", "type filter hook input priority -10",
        {"ct state new jump endpoints-check"});
  chain("filter-forward", "type filter hook forward priority -10",
        {"ct state new jump endpoints-check", "jump cluster-ips-check"});
  chain("filter-output", "type filter hook output priority -10",
        {"ct state new jump endpoints-check", "jump cluster-ips-check"});

  services_ = std::move(services);
  elements_.clear();
  sharedChains_.clear();
  std::map<std::string, std::vector<std::string>> bySet;
  for (const char* kind :
       {"cluster-lb", "external-lb", "external-local-lb", "nodeport-lb", "nodeport-local-lb"})
    for (int n = 1; n <= kPrecreatedEndpoints; ++n)
      addSharedChain(out, std::string(kind) + "-" + std::to_string(n));
  for (const auto& [key, c] : services_) {
    for (const auto& name : c.sharedChains) addSharedChain(out, name);
    for (const auto& [name, decl] : c.sets) out += "add set " + t + " " + name + " " + decl + "\n";
    for (const auto& [name, spec] : c.chains) out += "add chain " + t + " " + name + "\n";
  }
  for (const auto& [key, c] : services_) {
    for (const auto& [name, spec] : c.chains)
      for (const auto& r : spec.rules) out += "add rule " + t + " " + name + " " + r + "\n";
    for (const auto& e : c.elements) {
      auto [it, added] = elements_.try_emplace({e.set, e.key}, e.value, 0);
      if (++it->second.second == 1) bySet[e.set].push_back(elementText(e));
    }
  }
  // Big element lists in batches: one command per element would make the parse far slower.
  for (const auto& [set, elems] : bySet)
    for (size_t i = 0; i < elems.size(); i += 1000) {
      out += "add element " + t + " " + set + " { ";
      for (size_t j = i; j < std::min(elems.size(), i + 1000); ++j)
        out += (j > i ? ", " : "") + elems[j];
      out += " }\n";
    }
  return forFamily(std::move(out), config_);
}

std::optional<std::string> RuleState::update(
    const std::map<std::string, std::optional<Contribution>>& changes) {
  for (const auto& [key, next] : changes)
    if (next)
      for (const auto& name : next->sharedChains)
        if (!sharedChains_.count(name)) return std::nullopt;
  const std::string t = table();
  std::string addSets, addChains, delElements, addElements, flushGone, delChains, delSets;
  // Element reference counts before and after, for the elements these services touch.
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> before;
  auto remember = [&](const Element& e) {
    auto k = std::make_pair(e.set, e.key);
    if (before.count(k)) return;
    auto it = elements_.find(k);
    before[k] = it == elements_.end() ? std::nullopt : std::optional(it->second.first);
  };
  for (const auto& [key, next] : changes) {
    auto old = services_.find(key);
    const Contribution empty;
    const Contribution& prev = old == services_.end() ? empty : old->second;
    const Contribution& now = next ? *next : empty;
    if (old != services_.end() && next && prev == now) continue;
    for (const auto& [name, decl] : now.sets)
      if (!prev.sets.count(name)) addSets += "add set " + t + " " + name + " " + decl + "\n";
    for (const auto& [name, spec] : now.chains) {
      auto p = prev.chains.find(name);
      if (p != prev.chains.end() && p->second == spec) continue;
      addChains += "add chain " + t + " " + name + "\nflush chain " + t + " " + name + "\n";
      for (const auto& r : spec.rules) addChains += "add rule " + t + " " + name + " " + r + "\n";
    }
    for (const auto& [name, spec] : prev.chains)
      if (!now.chains.count(name)) {
        flushGone += "flush chain " + t + " " + name + "\n";
        delChains += "delete chain " + t + " " + name + "\n";
      }
    for (const auto& [name, decl] : prev.sets)
      if (!now.sets.count(name)) delSets += "delete set " + t + " " + name + "\n";
    for (const auto& e : prev.elements) {
      remember(e);
      auto it = elements_.find({e.set, e.key});
      if (it != elements_.end() && --it->second.second <= 0) elements_.erase(it);
    }
    for (const auto& e : now.elements) {
      remember(e);
      auto [it, added] = elements_.try_emplace({e.set, e.key}, e.value, 0);
      ++it->second.second;
    }
    if (next) {
      services_[key] = *next;
    } else if (old != services_.end()) {
      services_.erase(old);
    }
  }
  for (const auto& [k, was] : before) {
    auto it = elements_.find(k);
    std::optional<std::string> is =
        it == elements_.end() ? std::nullopt : std::optional(it->second.first);
    if (was == is) continue;
    if (was) delElements += "delete element " + t + " " + k.first + " { " + k.second + " }\n";
    if (is)
      addElements += "add element " + t + " " + k.first + " { " +
                     elementText({k.first, k.second, *is}) + " }\n";
  }
  // Order: what new elements jump to exists first; what removed chains are still referenced by
  // (old elements, other removed chains) is gone before they are deleted.
  return forFamily(
      addSets + addChains + delElements + addElements + flushGone + delChains + delSets, config_);
}

}  // namespace berth::proxy
