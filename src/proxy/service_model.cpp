#include "proxy/service_model.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/json_access.h"

namespace json = boost::json;

namespace berth::proxy {

namespace {

using core::arrayField;
using core::objectField;
using core::stringField;

int intField(const json::object& o, std::string_view key) {
  return static_cast<int>(core::int64Field(o, key));
}

// A tri-state condition: absent (null) reads as `dflt`.
bool condition(const json::object* conditions, std::string_view key, bool dflt) {
  if (!conditions) return dflt;
  auto* v = conditions->if_contains(key);
  return v && v->is_bool() ? v->as_bool() : dflt;
}

std::string lowerProtocol(std::string p) {
  if (p.empty()) return "tcp";
  for (auto& c : p) c = static_cast<char>(::tolower(c));
  return p;
}

bool validIPv4(const std::string& s) {
  int parts = 0, digits = 0, value = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = value = 0;
    } else if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

bool validIPv6(const std::string& s) {
  in6_addr a{};
  return s.find(':') != std::string::npos && ::inet_pton(AF_INET6, s.c_str(), &a) == 1 &&
         !IN6_IS_ADDR_V4MAPPED(&a);
}

bool validIp(const std::string& s, const std::string& family) {
  return family == "IPv6" ? validIPv6(s) : validIPv4(s);
}

// Endpoints of one service port: slice ports match by name and protocol (upstream's
// EndpointSlice port mapping); a slice without ports offers none.
void collectEndpoints(ServicePort& sp, const std::vector<const json::object*>& slices,
                      const std::string& family) {
  std::set<std::pair<std::string, int>> seen;
  for (const auto* slice : slices) {
    if (stringField(*slice, "addressType") != family) continue;
    int port = 0;
    if (const auto* ports = arrayField(*slice, "ports"))
      for (const auto& p : *ports) {
        if (!p.is_object()) continue;
        const auto& po = p.as_object();
        if (stringField(po, "name") == sp.portName &&
            lowerProtocol(stringField(po, "protocol")) == sp.protocol)
          port = intField(po, "port");
      }
    if (port <= 0 || port > 65535) continue;
    const auto* eps = arrayField(*slice, "endpoints");
    if (!eps) continue;
    for (const auto& e : *eps) {
      if (!e.is_object()) continue;
      const auto& eo = e.as_object();
      const auto* addrs = arrayField(eo, "addresses");
      if (!addrs || addrs->empty() || !(*addrs)[0].is_string()) continue;
      Endpoint ep;
      ep.ip = std::string((*addrs)[0].as_string());  // upstream uses the first address only
      if (!validIp(ep.ip, family) || !seen.insert({ep.ip, port}).second) continue;
      ep.port = port;
      const auto* conds = objectField(eo, "conditions");
      ep.ready = condition(conds, "ready", true);
      ep.serving = condition(conds, "serving", ep.ready);
      ep.terminating = condition(conds, "terminating", false);
      ep.nodeName = stringField(eo, "nodeName");
      sp.endpoints.push_back(std::move(ep));
    }
  }
  // A stable order keeps the rules of an unchanged service byte-identical between syncs.
  std::sort(sp.endpoints.begin(), sp.endpoints.end(), [](const Endpoint& a, const Endpoint& b) {
    return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
  });
}

std::vector<std::string> ipList(const json::array* a, const std::string& family) {
  std::vector<std::string> out;
  if (!a) return out;
  for (const auto& v : *a)
    if (v.is_string() && validIp(std::string(v.as_string()), family))
      out.emplace_back(v.as_string());
  return out;
}

}  // namespace

std::vector<ServicePort> servicePorts(const json::object& service,
                                      const std::vector<const json::object*>& slices,
                                      const std::string& family) {
  std::vector<ServicePort> out;
  const auto* meta = objectField(service, "metadata");
  const auto* spec = objectField(service, "spec");
  if (!meta || !spec) return out;
  std::string type = stringField(*spec, "type");
  // The ClusterIP of this family: spec.clusterIPs holds one per family (dual-stack).
  std::string clusterIP = stringField(*spec, "clusterIP");
  if (auto ips = ipList(arrayField(*spec, "clusterIPs"), family); !ips.empty()) clusterIP = ips[0];
  if (type == "ExternalName" || !validIp(clusterIP, family)) return out;

  ServicePort base;
  base.ns = stringField(*meta, "namespace");
  base.name = stringField(*meta, "name");
  base.clusterIP = clusterIP;
  base.externalIPs = ipList(arrayField(*spec, "externalIPs"), family);
  if (const auto* status = objectField(service, "status"))
    if (const auto* lb = objectField(*status, "loadBalancer"))
      if (const auto* ingress = arrayField(*lb, "ingress"))
        for (const auto& i : *ingress)
          if (i.is_object() && validIp(stringField(i.as_object(), "ip"), family))
            base.loadBalancerIPs.push_back(stringField(i.as_object(), "ip"));
  base.sessionAffinity = stringField(*spec, "sessionAffinity") == "ClientIP";
  if (const auto* sac = objectField(*spec, "sessionAffinityConfig"))
    if (const auto* cip = objectField(*sac, "clientIP"))
      if (int t = intField(*cip, "timeoutSeconds"); t > 0) base.affinityTimeoutSeconds = t;
  base.internalLocal = stringField(*spec, "internalTrafficPolicy") == "Local";
  bool external = type == "NodePort" || type == "LoadBalancer";
  base.externalLocal = external && stringField(*spec, "externalTrafficPolicy") == "Local";

  const auto* ports = arrayField(*spec, "ports");
  if (!ports) return out;
  for (const auto& p : *ports) {
    if (!p.is_object()) continue;
    const auto& po = p.as_object();
    ServicePort sp = base;
    sp.portName = stringField(po, "name");
    sp.protocol = lowerProtocol(stringField(po, "protocol"));
    sp.port = intField(po, "port");
    if (sp.port <= 0 || sp.port > 65535) continue;
    if (sp.protocol != "tcp" && sp.protocol != "udp" && sp.protocol != "sctp") continue;
    if (external) sp.nodePort = std::clamp(intField(po, "nodePort"), 0, 65535);
    collectEndpoints(sp, slices, family);
    out.push_back(std::move(sp));
  }
  return out;
}

std::vector<Endpoint> usableEndpoints(const std::vector<Endpoint>& all, bool localOnly,
                                      const std::string& nodeName) {
  auto pick = [&](auto pred) {
    std::vector<Endpoint> out;
    for (const auto& e : all)
      if (pred(e) && (!localOnly || e.nodeName == nodeName)) out.push_back(e);
    return out;
  };
  auto ready = pick([](const Endpoint& e) { return e.ready; });
  if (!ready.empty()) return ready;
  return pick([](const Endpoint& e) { return e.serving && e.terminating; });
}

}  // namespace berth::proxy
