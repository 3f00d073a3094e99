#include "netpol/ruleset.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/ip_cidr.h"
#include "core/ipv4_cidr.h"
#include "core/json_access.h"

namespace json = boost::json;

namespace berth::netpol {

namespace {

using core::arrayField;
using core::objectField;
using core::stringField;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A selector parsed once per use: absent or malformed matches nothing; {} matches everything.
class Selector {
 public:
  explicit Selector(const json::object* selector) {
    if (selector == nullptr) return;
    auto s = core::LabelSelector::fromJson(*selector);
    if (s.ok()) s_ = std::move(*s);
  }
  bool matches(const core::Labels& labels) const { return s_ && s_->matches(labels); }

 private:
  std::optional<core::LabelSelector> s_;
};

// What differs between the two address families in the rules: the payload keyword, the set
// element type, and the suffix that keeps the IPv6 sets apart from the IPv4 ones.
struct Family {
  bool v6;
  const char* ip;        // "ip" / "ip6"
  const char* addrType;  // "ipv4_addr" / "ipv6_addr"
  const char* suffix;    // appended to set names: "" / "-6"
  const std::string& addressOf(const PodInfo& pod) const { return v6 ? pod.ip6 : pod.ip; }
  std::string setName(const std::string& base) const { return base + suffix; }
};
constexpr Family kIpv4{false, "ip", "ipv4_addr", ""};
constexpr Family kIpv6{true, "ip6", "ipv6_addr", "-6"};
constexpr Family kFamilies[] = {kIpv4, kIpv6};

class Builder {
 public:
  explicit Builder(const ClusterState& state) : state_(state) {}

  Ruleset build() {
    std::vector<const json::object*> policies;
    for (const auto& p : state_.policies) policies.push_back(&p);
    std::sort(policies.begin(), policies.end(),
              [](const json::object* a, const json::object* b) { return keyOf(*a) < keyOf(*b); });
    for (size_t i = 0; i < policies.size(); ++i) addPolicy(*policies[i], i);
    // A packet of the other family matches neither "ip" nor "ip6" payload rules, so each
    // family's isolation check only returns packets of its own family.
    rs_.egress.insert(rs_.egress.begin(), {"ip saddr != @eg-isolated return",
                                           "ip6 saddr != @eg-isolated-6 return"});
    rs_.egress.push_back("drop");
    rs_.ingress.insert(rs_.ingress.begin(), {"ip daddr != @in-isolated return",
                                             "ip6 daddr != @in-isolated-6 return"});
    rs_.ingress.push_back("drop");
    for (const auto& f : kFamilies) {
      set(f.setName("eg-isolated"), f.addrType).elements = egIsolated_[f.v6];
      set(f.setName("in-isolated"), f.addrType).elements = inIsolated_[f.v6];
    }
    for (auto& [name, s] : sets_) rs_.sets.push_back(std::move(s));
    return std::move(rs_);
  }

 private:
  static std::string keyOf(const json::object& policy) {
    const auto* meta = objectField(policy, "metadata");
    return meta ? stringField(*meta, "namespace") + "/" + stringField(*meta, "name") : "";
  }

  NftSet& set(const std::string& name, const std::string& type) {
    auto& s = sets_[name];
    s.name = name;
    s.type = type;
    return s;
  }

  // Adds the pod's address of family `f` to `out`, if it has one.
  static void insertAddress(std::set<std::string>& out, const Family& f, const PodInfo& pod) {
    if (const auto& ip = f.addressOf(pod); !ip.empty()) out.insert(ip);
  }

  void addPolicy(const json::object& policy, size_t index) {
    const auto* meta = objectField(policy, "metadata");
    const auto* spec = objectField(policy, "spec");
    if (!meta || !spec) return;
    std::string ns = stringField(*meta, "namespace");
    bool ingress = false, egress = false;
    if (const auto* types = arrayField(*spec, "policyTypes"); types && !types->empty()) {
      for (const auto& t : *types) {
        if (t == "Ingress") ingress = true;
        if (t == "Egress") egress = true;
      }
    } else {  // as the API defaults it
      ingress = true;
      const auto* e = arrayField(*spec, "egress");
      egress = e && !e->empty();
    }
    static const json::object kAll;
    const auto* podSelector = objectField(*spec, "podSelector");
    Selector sel(podSelector ? podSelector : &kAll);
    std::string prefix = "p" + std::to_string(index);
    for (const auto& f : kFamilies) {
      std::set<std::string> selected;
      for (const auto& pod : state_.pods)
        if (pod.local && pod.ns == ns && sel.matches(pod.labels)) insertAddress(selected, f, pod);
      if (ingress) inIsolated_[f.v6].insert(selected.begin(), selected.end());
      if (egress) egIsolated_[f.v6].insert(selected.begin(), selected.end());
      set(f.setName(prefix + "-pods"), f.addrType).elements = std::move(selected);
    }
    if (ingress) addRules(*spec, ns, prefix, /*ingress=*/true);
    if (egress) addRules(*spec, ns, prefix, /*ingress=*/false);
  }

  // Each rule as "<self> @pods <peer> <port> return" lines: the IPv4 ones, then the IPv6 ones.
  void addRules(const json::object& spec, const std::string& ns, const std::string& prefix,
                bool ingress) {
    const auto* rules = arrayField(spec, ingress ? "ingress" : "egress");
    if (!rules) return;
    std::string self = ingress ? "daddr" : "saddr", peer = ingress ? "saddr" : "daddr";
    auto& chain = ingress ? rs_.ingress : rs_.egress;
    for (size_t r = 0; r < rules->size(); ++r) {
      if (!(*rules)[r].is_object()) continue;
      const auto& rule = (*rules)[r].as_object();
      std::string rulePrefix = prefix + (ingress ? "-in" : "-eg") + std::to_string(r);
      for (const auto& f : kFamilies) {
        std::vector<std::string> peers =
            peerMatches(rule, ingress ? "from" : "to", ns, rulePrefix, peer, f);
        std::vector<std::string> ports = portMatches(rule, f);
        for (const auto& p : peers)
          for (const auto& q : ports)
            chain.push_back(std::string(f.ip) + " " + self + " @" + f.setName(prefix + "-pods") +
                            p + q + " return");
      }
    }
  }

  // The peers of family `f`: " ip saddr @set", " ip saddr 10.0.0.0/8 ip saddr != { ... }", or
  // "" (any peer). An ipBlock matches only addresses of its CIDR's family, so a rule whose peers
  // are all blocks of the other family allows nothing of this one.
  std::vector<std::string> peerMatches(const json::object& rule, const char* field,
                                       const std::string& ns, const std::string& rulePrefix,
                                       const std::string& dir, const Family& f) {
    const auto* list = arrayField(rule, field);
    if (!list || list->empty()) return {""};
    std::string ipDir = std::string(" ") + f.ip + " " + dir;
    std::vector<std::string> out;
    for (size_t k = 0; k < list->size(); ++k) {
      if (!(*list)[k].is_object()) continue;
      const auto& peer = (*list)[k].as_object();
      if (const auto* block = objectField(peer, "ipBlock")) {
        auto cidr = core::parseIpCidr(stringField(*block, "cidr"));
        if (!cidr.ok() || cidr->ipv6 != f.v6) continue;
        std::string m = ipDir + " " + cidr->str();
        std::string except;
        if (const auto* ex = arrayField(*block, "except"))
          for (const auto& e : *ex)
            if (auto c = core::parseIpCidr(e.is_string() ? std::string(e.as_string()) : "");
                c.ok() && c->ipv6 == f.v6)
              except += (except.empty() ? "" : ", ") + c->str();
        if (!except.empty()) m += ipDir + " != { " + except + " }";
        out.push_back(m);
        continue;
      }
      const auto* podSel = objectField(peer, "podSelector");
      const auto* nsSel = objectField(peer, "namespaceSelector");
      if (!podSel && !nsSel) continue;
      static const json::object kAll;
      std::string name = f.setName(rulePrefix + "-peer" + std::to_string(k));
      auto& s = set(name, f.addrType);
      // Namespaces first (few), then pods: without a namespaceSelector, the policy's own.
      std::set<std::string, std::less<>> namespaces;
      if (nsSel) {
        Selector nss(nsSel);
        for (const auto& [n, labels] : state_.namespaces)
          if (nss.matches(labels)) namespaces.insert(n);
      } else {
        namespaces.insert(ns);
      }
      Selector ps(podSel ? podSel : &kAll);
      for (const auto& pod : state_.pods)
        if (namespaces.count(pod.ns) && ps.matches(pod.labels)) insertAddress(s.elements, f, pod);
      out.push_back(ipDir + " @" + name);
    }
    return out;
  }

  // " meta l4proto tcp th dport 80[-90]", a named port's set, "meta l4proto udp", or "" (any).
  std::vector<std::string> portMatches(const json::object& rule, const Family& f) {
    const auto* list = arrayField(rule, "ports");
    if (!list || list->empty()) return {""};
    std::vector<std::string> out;
    for (const auto& v : *list) {
      if (!v.is_object()) continue;
      const auto& p = v.as_object();
      std::string proto = lower(stringField(p, "protocol"));
      if (proto.empty()) proto = "tcp";
      if (proto != "tcp" && proto != "udp" && proto != "sctp") continue;
      std::string m = " meta l4proto " + proto;
      const auto* port = p.if_contains("port");
      if (port && port->is_int64()) {
        m += " th dport " + std::to_string(port->as_int64());
        if (const auto* end = p.if_contains("endPort");
            end && end->is_int64() && end->as_int64() > port->as_int64())
          m += "-" + std::to_string(end->as_int64());
      } else if (port && port->is_string()) {
        // Resolved per pod: the destination pod's container port of that name (the selected
        // pod for ingress, the peer for egress); the packet's destination in both cases.
        // IPv6 sets are "port6-...": no port name turns an IPv4 set's name into one of them.
        std::string name(port->as_string());
        std::string setName = (f.v6 ? "port6-" : "port-") + proto + "-" + name;
        auto& s = set(setName, std::string(f.addrType) + " . inet_service");
        if (namedPortsDone_.insert(setName).second)  // one set per name, shared by every rule
          for (const auto& pod : state_.pods)
            for (const auto& cp : pod.ports)
              if (cp.name == name && lower(cp.protocol) == proto && !f.addressOf(pod).empty())
                s.elements.insert(f.addressOf(pod) + " . " + std::to_string(cp.port));
        m += std::string(" ") + f.ip + " daddr . th dport @" + setName;
      }
      out.push_back(m);
    }
    return out;
  }

  const ClusterState& state_;
  Ruleset rs_;
  std::map<std::string, NftSet> sets_;
  std::set<std::string> inIsolated_[2], egIsolated_[2];  // by family: [0] IPv4, [1] IPv6
  std::set<std::string> namedPortsDone_;
};

}  // namespace

std::optional<PodInfo> podInfo(const json::object& pod, const std::string& nodeName) {
  const auto* meta = objectField(pod, "metadata");
  const auto* spec = objectField(pod, "spec");
  const auto* status = objectField(pod, "status");
  if (!meta || !spec || !status) return std::nullopt;
  if (auto* h = spec->if_contains("hostNetwork"); h && h->is_bool() && h->as_bool())
    return std::nullopt;
  std::string phase = stringField(*status, "phase");
  if (phase == "Succeeded" || phase == "Failed") return std::nullopt;
  PodInfo info;
  // status.podIPs (one per family, primary first); podIP alone from older writers.
  std::vector<std::string> ips;
  if (const auto* list = arrayField(*status, "podIPs"))
    for (const auto& p : *list)
      if (p.is_object()) ips.push_back(stringField(p.as_object(), "ip"));
  if (ips.empty()) ips.push_back(stringField(*status, "podIP"));
  for (const auto& ip : ips) {
    if (ip.find('/') != std::string::npos) continue;
    if (info.ip.empty() && core::parseIpv4(ip).ok()) {
      info.ip = ip;
    } else if (auto c = core::parseIpCidr(ip + "/128"); info.ip6.empty() && c.ok() && c->ipv6) {
      info.ip6 = c->str().substr(0, c->str().find('/'));  // canonical text, as nft prints it
    }
  }
  if (info.ip.empty() && info.ip6.empty()) return std::nullopt;
  info.ns = stringField(*meta, "namespace");
  info.name = stringField(*meta, "name");
  info.labels = core::labelsOf(pod);
  info.local = stringField(*spec, "nodeName") == nodeName;
  for (const char* field : {"initContainers", "containers"})
    if (const auto* cs = arrayField(*spec, field))
      for (const auto& c : *cs)
        if (const auto* ports = c.is_object() ? arrayField(c.as_object(), "ports") : nullptr)
          for (const auto& p : *ports) {
            if (!p.is_object()) continue;
            const auto& po = p.as_object();
            ContainerPort cp;
            cp.name = stringField(po, "name");
            const auto* num = po.if_contains("containerPort");
            if (cp.name.empty() || !num || !num->is_int64()) continue;
            cp.port = static_cast<int>(num->as_int64());
            if (auto proto = stringField(po, "protocol"); !proto.empty()) cp.protocol = proto;
            info.ports.push_back(cp);
          }
  return info;
}

bool Ruleset::sameStructure(const Ruleset& other) const {
  if (egress != other.egress || ingress != other.ingress || sets.size() != other.sets.size())
    return false;
  for (size_t i = 0; i < sets.size(); ++i)
    if (sets[i].name != other.sets[i].name || sets[i].type != other.sets[i].type) return false;
  return true;
}

Ruleset buildRuleset(const ClusterState& state) { return Builder(state).build(); }

}  // namespace berth::netpol
