#include "dns/service_records.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "core/json_access.h"
#include "dns/zone.h"

namespace json = boost::json;

namespace berth::dns {

namespace {

using core::arrayField;
using core::objectField;
using core::stringField;

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

// SRV weights as CoreDNS: 100 split evenly over the SRV records of one name.
void spreadWeights(std::vector<ResourceRecord>& records) {
  int srvs = 0;
  for (const auto& rr : records) srvs += rr.rtype == type::kSRV;
  if (srvs == 0) return;
  for (auto& rr : records)
    if (auto* srv = std::get_if<SrvData>(&rr.data))
      srv->weight = static_cast<uint16_t>(std::max(1, 100 / srvs));
}

// Collects one Service's records by name.
class Collector {
 public:
  explicit Collector(const ZoneOptions& o) : o_(o), suffix_("." + lowerName(o.domain)) {}

  void addName(const std::string& name) {
    // The name and every ancestor inside the domain exist (ancestors as empty non-terminals);
    // the apex is the zone's own.
    names_.try_emplace(name);
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
      std::string parent = name.substr(dot + 1);
      if (parent.size() <= suffix_.size() - 1) break;
      if (!names_.try_emplace(parent).second) break;  // its ancestors are there already
    }
  }

  void add(ResourceRecord rr) {
    rr.name = lowerName(rr.name);
    rr.rclass = kClassIN;
    rr.ttl = o_.ttl;
    if (rr.name.ends_with(suffix_)) addName(rr.name);
    auto& records = names_[rr.name];
    for (const auto& existing : records)  // two slices may list one address
      if (existing.rtype == rr.rtype && existing.data == rr.data) return;
    records.push_back(std::move(rr));
  }

  ServiceRecords take() {
    ServiceRecords out;
    out.reserve(names_.size());
    for (auto& [name, records] : names_) {
      spreadWeights(records);
      out.emplace_back(name, std::move(records));
    }
    return out;
  }

 private:
  const ZoneOptions& o_;
  std::string suffix_;
  std::map<std::string, std::vector<ResourceRecord>> names_;
};

void addEndpoints(Collector& c, const std::string& base, bool headless,
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
        if (headless) c.add({base, addressType(*data), kClassIN, 0, *data});
        c.add({epName, addressType(*data), kClassIN, 0, *data});
        c.add({reverseName(*data), type::kPTR, kClassIN, 0, NameData{epName}});
        if (!headless) continue;
        const auto* ports = arrayField(*slice, "ports");
        for (const auto& pv : ports ? *ports : json::array{}) {
          if (!pv.is_object()) continue;
          const auto& port = pv.as_object();
          auto number = static_cast<uint16_t>(core::int64Field(port, "port"));
          std::string portName = stringField(port, "name");
          SrvData srv{0, 0, number, epName};
          if (!portName.empty())
            c.add({"_" + lowerName(portName) + "." + protoLabel(port) + "." + base, type::kSRV,
                   kClassIN, 0, srv});
          c.add({base, type::kSRV, kClassIN, 0, srv});
        }
      }
    }
  }
}

}  // namespace

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

ServiceRecords apexRecords(const ZoneOptions& options, const ResourceRecord& soa) {
  Collector c(options);
  std::string domain = lowerName(options.domain);
  c.add(soa);
  c.add({domain, type::kNS, kClassIN, 0, NameData{"ns.dns." + domain}});
  if (auto ns = addressData(options.dnsIp))
    c.add({"ns.dns." + domain, addressType(*ns), kClassIN, 0, *ns});
  return c.take();
}

ServiceRecords serviceRecords(const ZoneOptions& options, const json::object& svc,
                              const std::vector<const json::object*>& slices) {
  Collector c(options);
  const auto* meta = objectField(svc, "metadata");
  const auto* spec = objectField(svc, "spec");
  if (!meta || !spec) return {};
  std::string base = lowerName(stringField(*meta, "name") + "." + stringField(*meta, "namespace") +
                               ".svc." + options.domain);
  if (stringField(*spec, "type") == "ExternalName") {
    std::string target = stringField(*spec, "externalName");
    if (!target.empty()) c.add({base, type::kCNAME, kClassIN, 0, NameData{target}});
    return c.take();
  }
  std::vector<std::string> ips;
  if (const auto* list = arrayField(*spec, "clusterIPs"))
    for (const auto& ip : *list)
      if (ip.is_string()) ips.emplace_back(ip.as_string());
  if (ips.empty() && !stringField(*spec, "clusterIP").empty())
    ips.push_back(stringField(*spec, "clusterIP"));
  bool headless = ips.empty() || ips.front() == "None";
  c.addName(base);
  if (!headless) {
    for (const auto& ip : ips) {
      auto data = addressData(ip);
      if (!data) continue;
      c.add({base, addressType(*data), kClassIN, 0, *data});
      c.add({reverseName(*data), type::kPTR, kClassIN, 0, NameData{base}});
    }
    const auto* ports = arrayField(*spec, "ports");
    for (const auto& pv : ports ? *ports : json::array{}) {
      if (!pv.is_object()) continue;
      const auto& port = pv.as_object();
      SrvData srv{0, 0, static_cast<uint16_t>(core::int64Field(port, "port")), base};
      std::string portName = stringField(port, "name");
      if (!portName.empty())
        c.add({"_" + lowerName(portName) + "." + protoLabel(port) + "." + base, type::kSRV,
               kClassIN, 0, srv});
      c.add({base, type::kSRV, kClassIN, 0, srv});
    }
  }
  addEndpoints(c, base, headless, slices);
  return c.take();
}

}  // namespace berth::dns
