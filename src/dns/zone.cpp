#include "dns/zone.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <algorithm>
#include <ctime>
#include <map>

#include "core/json_access.h"

namespace json = boost::json;

namespace berth::dns {

namespace {

using core::objectField;
using core::stringField;

const json::array* arrayField(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

// An address as A or AAAA RDATA; nullopt when it is neither.
std::optional<RData> addressData(const std::string& ip) {
  Ipv4 v4;
  if (::inet_pton(AF_INET, ip.c_str(), v4.data()) == 1) return RData(v4);
  Ipv6 v6;
  if (::inet_pton(AF_INET6, ip.c_str(), v6.data()) == 1) return RData(v6);
  return std::nullopt;
}

uint16_t addressType(const RData& d) {
  return std::holds_alternative<Ipv4>(d) ? type::kA : type::kAAAA;
}

std::string reverseName(const RData& d) {
  std::string out;
  if (const auto* a = std::get_if<Ipv4>(&d)) {
    for (int i = 3; i >= 0; --i) out += std::to_string((*a)[i]) + ".";
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const auto& a = std::get<Ipv6>(d);
  for (int i = 15; i >= 0; --i) {
    out += kHex[a[i] & 0xF];
    out += '.';
    out += kHex[a[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

// The endpoint's DNS label: its hostname, else its address with '.' or ':' turned into '-'
// (CoreDNS's endpointHostname).
std::string endpointLabel(const json::object& ep, const std::string& address) {
  std::string host = stringField(ep, "hostname");
  if (!host.empty()) return lowerName(host);
  std::string out = address;
  std::replace(out.begin(), out.end(), '.', '-');
  std::replace(out.begin(), out.end(), ':', '-');
  return out;
}

bool endpointReady(const json::object& ep) {
  const auto* cond = objectField(ep, "conditions");
  if (!cond) return true;
  auto* ready = cond->if_contains("ready");
  return !ready || !ready->is_bool() || ready->as_bool();  // unset means ready
}

std::string protoLabel(const json::object& port) {
  std::string p = stringField(port, "protocol");
  return "_" + lowerName(p.empty() ? "TCP" : p);
}

long long intField(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

// SRV weights as CoreDNS: 100 split evenly over the records of one name.
void spreadWeights(std::vector<ResourceRecord>& records) {
  std::map<std::string, int> perName;
  for (const auto& rr : records)
    if (rr.rtype == type::kSRV) ++perName[rr.name];
  for (auto& rr : records)
    if (auto* srv = std::get_if<SrvData>(&rr.data))
      srv->weight = static_cast<uint16_t>(std::max(1, 100 / perName[rr.name]));
}

}  // namespace

void ZoneData::addName(const std::string& name) {
  // The name and every ancestor inside the domain exist (ancestors as empty non-terminals).
  names_.try_emplace(name);
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    std::string parent = name.substr(dot + 1);
    if (parent.size() < o_.domain.size()) break;
    if (!names_.try_emplace(parent).second) break;  // its ancestors are there already
  }
}

void ZoneData::add(ResourceRecord rr) {
  rr.name = lowerName(rr.name);
  rr.rclass = kClassIN;
  rr.ttl = o_.ttl;
  bool inDomain = rr.name.ends_with(suffix_);
  if (inDomain) addName(rr.name);
  auto& records = names_[rr.name].records;
  for (const auto& existing : records)  // two slices may list one address
    if (existing.rtype == rr.rtype && existing.data == rr.data) return;
  records.push_back(std::move(rr));
}

void ZoneData::addEndpoints(const std::string& base, bool headless,
                            const std::vector<const json::object*>& slices) {
  for (const auto* slice : slices) {
    const auto* endpoints = arrayField(*slice, "endpoints");
    if (!endpoints) continue;
    for (const auto& epv : *endpoints) {
      if (!epv.is_object() || !endpointReady(epv.as_object())) continue;
      const auto& ep = epv.as_object();
      const auto* addresses = arrayField(ep, "addresses");
      if (!addresses) continue;
      for (const auto& av : *addresses) {
        if (!av.is_string()) continue;
        std::string address(av.as_string());
        auto data = addressData(address);
        if (!data) continue;
        std::string epName = endpointLabel(ep, address) + "." + base;
        if (headless) add({base, addressType(*data), kClassIN, 0, *data});
        add({epName, addressType(*data), kClassIN, 0, *data});
        add({reverseName(*data), type::kPTR, kClassIN, 0, NameData{epName}});
        if (!headless) continue;
        const auto* ports = arrayField(*slice, "ports");
        for (const auto& pv : ports ? *ports : json::array{}) {
          if (!pv.is_object()) continue;
          const auto& port = pv.as_object();
          auto number = static_cast<uint16_t>(intField(port, "port"));
          std::string portName = stringField(port, "name");
          SrvData srv{0, 0, number, epName};
          if (!portName.empty())
            add({"_" + lowerName(portName) + "." + protoLabel(port) + "." + base, type::kSRV,
                 kClassIN, 0, srv});
          add({base, type::kSRV, kClassIN, 0, srv});
        }
      }
    }
  }
}

void ZoneData::addService(const json::object& svc,
                          const std::vector<const json::object*>& slices) {
  const auto* meta = objectField(svc, "metadata");
  const auto* spec = objectField(svc, "spec");
  if (!meta || !spec) return;
  std::string base = lowerName(stringField(*meta, "name") + "." +
                               stringField(*meta, "namespace") + ".svc." + o_.domain);
  if (stringField(*spec, "type") == "ExternalName") {
    std::string target = stringField(*spec, "externalName");
    if (!target.empty()) add({base, type::kCNAME, kClassIN, 0, NameData{target}});
    return;
  }
  std::vector<std::string> ips;
  if (const auto* list = arrayField(*spec, "clusterIPs"))
    for (const auto& ip : *list)
      if (ip.is_string()) ips.emplace_back(ip.as_string());
  if (ips.empty() && !stringField(*spec, "clusterIP").empty())
    ips.push_back(stringField(*spec, "clusterIP"));
  bool headless = ips.empty() || ips.front() == "None";
  addName(base);
  if (!headless) {
    for (const auto& ip : ips) {
      auto data = addressData(ip);
      if (!data) continue;
      add({base, addressType(*data), kClassIN, 0, *data});
      add({reverseName(*data), type::kPTR, kClassIN, 0, NameData{base}});
    }
    const auto* ports = arrayField(*spec, "ports");
    for (const auto& pv : ports ? *ports : json::array{}) {
      if (!pv.is_object()) continue;
      const auto& port = pv.as_object();
      SrvData srv{0, 0, static_cast<uint16_t>(intField(port, "port")), base};
      std::string portName = stringField(port, "name");
      if (!portName.empty())
        add({"_" + lowerName(portName) + "." + protoLabel(port) + "." + base, type::kSRV,
             kClassIN, 0, srv});
      add({base, type::kSRV, kClassIN, 0, srv});
    }
  }
  addEndpoints(base, headless, slices);
}

std::shared_ptr<const ZoneData> ZoneData::build(const ZoneOptions& options,
                                                const std::vector<client::ObjectPtr>& services,
                                                const std::vector<client::ObjectPtr>& slices,
                                                uint32_t serial) {
  std::shared_ptr<ZoneData> z(new ZoneData(options));
  z->o_.domain = lowerName(z->o_.domain);
  z->suffix_ = "." + z->o_.domain;
  z->serial_ = serial;
  // Slices by "<ns>/<service-name>" from their kubernetes.io/service-name label.
  std::unordered_map<std::string, std::vector<const json::object*>> byService;
  for (const auto& s : slices) {
    if (!s || !s->is_object()) continue;
    const auto* meta = objectField(s->as_object(), "metadata");
    const auto* labels = meta ? objectField(*meta, "labels") : nullptr;
    if (!labels) continue;
    std::string svc = stringField(*labels, "kubernetes.io/service-name");
    if (!svc.empty())
      byService[stringField(*meta, "namespace") + "/" + svc].push_back(&s->as_object());
  }
  static const std::vector<const json::object*> kNone;
  z->names_.reserve(services.size() * 4 + 16);
  z->addName(z->o_.domain);
  for (const auto& s : services) {
    if (!s || !s->is_object()) continue;
    const auto* meta = objectField(s->as_object(), "metadata");
    if (!meta) continue;
    auto it = byService.find(stringField(*meta, "namespace") + "/" + stringField(*meta, "name"));
    z->addService(s->as_object(), it == byService.end() ? kNone : it->second);
  }
  for (auto& [name, node] : z->names_) spreadWeights(node.records);
  z->add(z->soa());
  z->add({z->o_.domain, type::kNS, kClassIN, 0, NameData{"ns.dns." + z->o_.domain}});
  if (auto ns = addressData(z->o_.dnsIp))
    z->add({"ns.dns." + z->o_.domain, addressType(*ns), kClassIN, 0, *ns});
  return z;
}

ResourceRecord ZoneData::soa() const {
  // CoreDNS: ns.dns.<zone> hostmaster.<zone> serial 7200 1800 86400 <ttl>.
  return {o_.domain, type::kSOA, kClassIN, o_.ttl,
          SoaData{"ns.dns." + o_.domain, "hostmaster." + o_.domain, serial_, 7200, 1800, 86400,
                  o_.ttl}};
}

void ZoneData::addTargets(Message& reply) const {
  // SRV targets and NS names the zone knows get their addresses in the additional section.
  for (const auto& rr : reply.answers) {
    const std::string* target = nullptr;
    if (const auto* srv = std::get_if<SrvData>(&rr.data)) target = &srv->target;
    if (const auto* n = std::get_if<NameData>(&rr.data); n && rr.rtype == type::kNS)
      target = &n->name;
    if (!target) continue;
    auto it = names_.find(*target);
    if (it == names_.end()) continue;
    for (const auto& a : it->second.records)
      if ((a.rtype == type::kA || a.rtype == type::kAAAA) &&
          std::find_if(reply.additional.begin(), reply.additional.end(), [&](const auto& x) {
            return x.name == a.name && x.data == a.data;
          }) == reply.additional.end())
        reply.additional.push_back(a);
  }
}

bool ZoneData::answerPod(const std::string& qname, const Question& q, Message& reply) const {
  // <a-b-c-d>.<ns>.pod.<domain>: the address is the name (no lookup, as "pods insecure").
  std::string podSuffix = ".pod" + suffix_;
  if (!qname.ends_with(podSuffix)) return false;
  std::string rest = qname.substr(0, qname.size() - podSuffix.size());
  size_t dot = rest.find('.');
  if (dot == std::string::npos || rest.find('.', dot + 1) != std::string::npos) return false;
  std::string ip = rest.substr(0, dot);
  // 10-244-1-5 is IPv4; anything else dashed (fd00--5) is IPv6 with ':' as '-'.
  bool v4 = std::count(ip.begin(), ip.end(), '-') == 3 && ip.find("--") == std::string::npos;
  std::replace(ip.begin(), ip.end(), '-', v4 ? '.' : ':');
  auto data = addressData(ip);
  if (!data) return false;
  reply.header.aa = true;
  if (q.qtype == addressType(*data) || q.qtype == type::kANY)
    reply.answers.push_back({q.name, addressType(*data), kClassIN, o_.ttl, *data});
  else
    reply.authority.push_back(soa());
  return true;
}

bool ZoneData::answerInDomain(const std::string& qname, const Question& q,
                              Message& reply) const {
  reply.header.aa = true;
  auto it = names_.find(qname);
  if (it == names_.end()) {
    if (answerPod(qname, q, reply)) return true;
    reply.header.rcode = rcode::kNXDomain;
    reply.authority.push_back(soa());
    return true;
  }
  const auto& records = it->second.records;
  for (const auto& rr : records) {
    bool cname = rr.rtype == type::kCNAME && q.qtype != type::kCNAME;
    if (rr.rtype == q.qtype || q.qtype == type::kANY || cname) {
      reply.answers.push_back(rr);
      reply.answers.back().name = q.name;  // echo the asker's spelling (0x20 case randomising)
    }
  }
  if (reply.answers.empty()) {
    reply.authority.push_back(soa());  // NODATA
    return true;
  }
  addTargets(reply);
  return true;
}

bool ZoneData::answer(const Question& q, Message& reply) const {
  if (q.qclass != kClassIN && q.qclass != 255) return false;
  std::string qname = lowerName(q.name);
  if (qname == o_.domain || qname.ends_with(suffix_)) return answerInDomain(qname, q, reply);
  if (qname.ends_with(".in-addr.arpa") || qname.ends_with(".ip6.arpa")) {
    auto it = names_.find(qname);
    if (it == names_.end()) return false;  // fall through to the upstream resolvers
    reply.header.aa = true;
    for (const auto& rr : it->second.records)
      if (rr.rtype == q.qtype || q.qtype == type::kANY) reply.answers.push_back(rr);
    if (reply.answers.empty()) reply.authority.push_back(soa());
    return true;
  }
  return false;
}

}  // namespace berth::dns
