#include "controllers/endpoints/subsets.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "controllers/framework/endpoint_util.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/pod_util.h"

namespace berth::controllers::endpoints {

namespace json = boost::json;

namespace {

struct Group {
  json::array ports;
  std::map<std::string, json::object> ready, notReady;  // by IP: sorted, one entry per pod
};

json::object addressOf(const json::value& pod, const json::value& service) {
  json::object a{{"ip", podIpv4(pod)}, {"targetRef", podTargetRef(pod)}};
  if (std::string node = stringAt(pod, {"spec", "nodeName"}); !node.empty()) a["nodeName"] = node;
  if (shouldSetHostname(pod, service)) a["hostname"] = stringAt(pod, {"spec", "hostname"});
  return a;
}

// Upstream truncateEndpoints: keeps `max` addresses, ready ones first, each subset's share in
// proportion to its size.
void truncate(std::vector<Group*>& groups, size_t max) {
  size_t total = 0, totalReady = 0;
  for (auto* g : groups) {
    total += g->ready.size() + g->notReady.size();
    totalReady += g->ready.size();
  }
  bool readyOnly = totalReady >= max;
  size_t base = readyOnly ? totalReady : total;
  size_t left = max;
  for (size_t i = 0; i < groups.size(); ++i) {
    Group& g = *groups[i];
    size_t size = readyOnly ? g.ready.size() : g.ready.size() + g.notReady.size();
    size_t keep = i + 1 == groups.size() ? left : std::min(left, size * max / std::max<size_t>(1, base));
    left -= keep;
    if (readyOnly) g.notReady.clear();
    while (g.ready.size() > keep) g.ready.erase(std::prev(g.ready.end()));
    size_t keepNotReady = keep - g.ready.size();
    while (g.notReady.size() > keepNotReady) g.notReady.erase(std::prev(g.notReady.end()));
  }
}

}  // namespace

Subsets computeSubsets(const json::value& service, const std::vector<client::ObjectPtr>& pods,
                       size_t maxCapacity) {
  const json::value* pnra = valueAt(service, {"spec", "publishNotReadyAddresses"});
  bool publishNotReady = pnra && pnra->is_bool() && pnra->get_bool();
  const json::value* servicePorts = valueAt(service, {"spec", "ports"});
  bool headless = stringAt(service, {"spec", "clusterIP"}) == "None";
  std::map<std::string, Group> groups;  // by the ports' canonical JSON
  for (const auto& pod : pods) {
    if (!shouldPodBeInEndpoints(*pod, publishNotReady)) continue;
    json::array ports;
    bool anyPort = servicePorts && servicePorts->is_array() && !servicePorts->get_array().empty();
    if (anyPort) {
      for (const auto& sp : servicePorts->get_array()) {
        auto p = endpointPort(*pod, sp);
        if (!p) continue;
        json::object port;  // without an empty name (omitempty in v1.EndpointPort), in order
        for (auto& kv : *p)
          if (kv.key() != "name" || !kv.value().as_string().empty())
            port.emplace(kv.key(), std::move(kv.value()));
        ports.push_back(std::move(port));
      }
      if (ports.empty()) continue;  // no port of the Service resolves on this pod
    } else if (!headless) {
      continue;  // a Service without ports has endpoints only when headless
    }
    std::sort(ports.begin(), ports.end(), [](const json::value& a, const json::value& b) {
      return canonicalJson(a) < canonicalJson(b);
    });
    Group& g = groups[canonicalJson(ports)];
    g.ports = ports;
    json::object addr = addressOf(*pod, service);
    std::string ip = podIpv4(*pod);
    if (publishNotReady || isPodReady(*pod)) {
      g.ready[ip] = std::move(addr);
    } else {
      g.notReady[ip] = std::move(addr);
    }
  }
  Subsets out;
  std::vector<Group*> ordered;
  size_t total = 0;
  for (auto& [key, g] : groups) {
    ordered.push_back(&g);
    total += g.ready.size() + g.notReady.size();
  }
  if (total > maxCapacity) {
    truncate(ordered, maxCapacity);
    out.truncated = true;
  }
  for (Group* g : ordered) {
    if (g->ready.empty() && g->notReady.empty()) continue;
    json::object subset;
    auto list = [](std::map<std::string, json::object>& m) {
      json::array a;
      for (auto& [ip, addr] : m) a.push_back(std::move(addr));
      return a;
    };
    if (!g->ready.empty()) subset["addresses"] = list(g->ready);
    if (!g->notReady.empty()) subset["notReadyAddresses"] = list(g->notReady);
    if (!g->ports.empty()) subset["ports"] = std::move(g->ports);
    out.subsets.push_back(std::move(subset));
  }
  return out;
}

}  // namespace berth::controllers::endpoints
