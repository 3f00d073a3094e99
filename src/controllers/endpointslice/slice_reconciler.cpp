#include "controllers/endpointslice/slice_reconciler.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "controllers/framework/endpoint_util.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/pod_util.h"

namespace berth::controllers::endpointslice {

namespace json = boost::json;

namespace {

constexpr const char* kTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";
constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

// The ports a pod serves the Service on; a port whose named targetPort the pod lacks is left out
// (upstream logs and skips it).
json::array endpointPorts(const json::value& pod, const json::value& service) {
  json::array out;
  const json::value* ports = valueAt(service, {"spec", "ports"});
  if (ports == nullptr || !ports->is_array()) return out;
  for (const auto& sp : ports->get_array()) {
    if (auto p = endpointPort(pod, sp)) out.push_back(std::move(*p));
  }
  return out;
}

// Ports compared as a set: the key of an endpoint group.
std::string portsKey(const json::value* ports) {
  std::vector<std::string> parts;
  if (ports != nullptr && ports->is_array()) {
    for (const auto& p : ports->get_array()) parts.push_back(canonicalJson(p));
  }
  std::sort(parts.begin(), parts.end());
  std::string key;
  for (const auto& p : parts) key += p + "\n";
  return key;
}

std::string addressOf(const json::value& endpoint) {
  const json::value* a = valueAt(endpoint, {"addresses"});
  return a && a->is_array() && !a->get_array().empty() && a->get_array()[0].is_string()
             ? std::string(a->get_array()[0].get_string())
             : std::string();
}

json::array sortedEndpoints(std::vector<json::object> eps) {
  std::sort(eps.begin(), eps.end(), [](const json::object& a, const json::object& b) {
    return addressOf(a) < addressOf(b);
  });
  json::array out;
  for (auto& e : eps) out.push_back(std::move(e));
  return out;
}

json::object sliceLabels(const json::value& service) {
  json::object labels;
  if (const json::value* l = valueAt(service, {"metadata", "labels"}); l && l->is_object()) {
    for (const auto& [k, v] : l->get_object()) {
      if (k != kServiceNameLabel && k != kManagedByLabel) labels[k] = v;
    }
  }
  if (stringAt(service, {"spec", "clusterIP"}) == "None") labels[kHeadlessLabel] = "";
  labels[kServiceNameLabel] = stringAt(service, {"metadata", "name"});
  labels[kManagedByLabel] = kControllerName;
  return labels;
}

bool ownedBy(const json::value& slice, const std::string& serviceUid) {
  auto ref = controllerOf(slice);
  return ref && ref->kind == "Service" && ref->uid == serviceUid;
}

// One slice being planned: an existing one (name set) or a new one.
struct Draft {
  const json::value* existing = nullptr;
  std::vector<json::object> endpoints;
  json::array ports;
};

}  // namespace

std::string podIpOfFamily(const json::value& pod, const std::string& family) {
  if (family == "IPv4") return podIpv4(pod);
  auto isV6 = [](std::string_view ip) {
    return ip.find(':') != std::string_view::npos && ip.find('.') == std::string_view::npos;
  };
  if (const json::value* ips = valueAt(pod, {"status", "podIPs"}); ips && ips->is_array()) {
    for (const auto& entry : ips->get_array()) {
      std::string ip = stringAt(entry, {"ip"});
      if (isV6(ip)) return ip;
    }
  }
  std::string ip = stringAt(pod, {"status", "podIP"});
  return isV6(ip) ? ip : std::string();
}

std::vector<std::string> serviceFamilies(const json::value& service) {
  std::vector<std::string> out;
  if (const json::value* f = valueAt(service, {"spec", "ipFamilies"}); f && f->is_array())
    for (const auto& v : f->get_array())
      if (v.is_string() && (v.get_string() == "IPv4" || v.get_string() == "IPv6"))
        out.emplace_back(v.get_string());
  if (out.empty()) out.push_back("IPv4");
  return out;
}

json::object podEndpoint(const json::value& pod, const json::value& service,
                         const std::string& zone, const std::string& family) {
  bool publishNotReady = valueAt(service, {"spec", "publishNotReadyAddresses"}) &&
                         valueAt(service, {"spec", "publishNotReadyAddresses"})->is_bool() &&
                         valueAt(service, {"spec", "publishNotReadyAddresses"})->get_bool();
  bool terminating = isBeingDeleted(pod);
  bool serving = publishNotReady || isPodReady(pod);
  // "ready" is never true for a terminating pod unless publishNotReadyAddresses says so.
  bool ready = publishNotReady || (serving && !terminating);
  json::object ep{
      {"addresses", json::array{json::string(podIpOfFamily(pod, family))}},
      {"conditions", {{"ready", ready}, {"serving", serving}, {"terminating", terminating}}},
      {"targetRef", podTargetRef(pod)}};
  if (std::string node = stringAt(pod, {"spec", "nodeName"}); !node.empty()) ep["nodeName"] = node;
  if (!zone.empty()) ep["zone"] = zone;
  if (shouldSetHostname(pod, service)) ep["hostname"] = stringAt(pod, {"spec", "hostname"});
  return ep;
}

namespace {

// The slices of one address type (upstream reconcileByAddressType): `owned` are ours of that
// type.
void reconcileFamily(const SliceInputs& in, const std::string& family,
                     const std::vector<const json::value*>& sorted, SlicePlan& plan) {
  const json::value& service = *in.service;
  const std::string serviceUid = uidOf(service);
  const size_t maxPer = std::max<size_t>(1, in.maxEndpointsPerSlice);
  json::object labels = sliceLabels(service);

  // Desired endpoints by port group, then by address.
  std::map<std::string, std::map<std::string, json::object>> desired;
  std::map<std::string, json::array> groupPorts;
  for (const auto& pod : in.pods) {
    std::string phase = stringAt(*pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed" || podIpOfFamily(*pod, family).empty()) continue;
    json::array ports = endpointPorts(*pod, service);
    json::value portsValue = ports;
    std::string key = portsKey(&portsValue);
    std::string node = stringAt(*pod, {"spec", "nodeName"});
    std::string zone = in.zoneOf && !node.empty() ? in.zoneOf(node) : "";
    json::object ep = podEndpoint(*pod, service, zone, family);
    desired[key][addressOf(ep)] = std::move(ep);
    groupPorts.emplace(key, std::move(ports));
  }

  // Existing slices by group.
  std::map<std::string, std::vector<const json::value*>> existing;
  for (const json::value* s : sorted) existing[portsKey(valueAt(*s, {"ports"}))].push_back(s);

  std::vector<Draft> drafts;
  for (auto& [key, wanted] : desired) {
    std::vector<Draft> group;
    // Endpoints stay where they are.
    for (const json::value* s : existing[key]) {
      Draft d{s, {}, groupPorts[key]};
      if (const json::value* eps = valueAt(*s, {"endpoints"}); eps && eps->is_array()) {
        for (const auto& e : eps->get_array()) {
          auto it = wanted.find(addressOf(e));
          if (it == wanted.end() || d.endpoints.size() >= maxPer) continue;
          d.endpoints.push_back(std::move(it->second));
          wanted.erase(it);
        }
      }
      group.push_back(std::move(d));
    }
    existing.erase(key);
    // New endpoints fill slices with room, then new slices.
    auto next = wanted.begin();
    for (auto& d : group) {
      while (next != wanted.end() && d.endpoints.size() < maxPer)
        d.endpoints.push_back(std::move((next++)->second));
    }
    while (next != wanted.end()) {
      Draft d{nullptr, {}, groupPorts[key]};
      while (next != wanted.end() && d.endpoints.size() < maxPer)
        d.endpoints.push_back(std::move((next++)->second));
      group.push_back(std::move(d));
    }
    for (auto& d : group) drafts.push_back(std::move(d));
  }
  // Slices of port groups no endpoint has any more.
  std::vector<const json::value*> leftover;
  for (auto& [key, slices] : existing) leftover.insert(leftover.end(), slices.begin(), slices.end());

  bool anyEndpoint = std::any_of(drafts.begin(), drafts.end(),
                                 [](const Draft& d) { return !d.endpoints.empty(); });
  if (!anyEndpoint) {
    // The placeholder: one slice without endpoints or ports, reusing one we have.
    drafts.clear();
    const json::value* keep = nullptr;
    if (!sorted.empty()) keep = sorted.front();
    drafts.push_back(Draft{keep, {}, {}});
    leftover.clear();
    for (const json::value* s : sorted)
      if (s != keep) leftover.push_back(s);
  }
  for (const json::value* s : leftover) plan.deletes.push_back(stringAt(*s, {"metadata", "name"}));

  const std::string ns = stringAt(service, {"metadata", "namespace"});
  const std::string name = stringAt(service, {"metadata", "name"});
  for (auto& d : drafts) {
    if (d.existing != nullptr && d.endpoints.empty() && anyEndpoint) {
      plan.deletes.push_back(stringAt(*d.existing, {"metadata", "name"}));
      continue;
    }
    json::array endpoints = sortedEndpoints(std::move(d.endpoints));
    if (d.existing != nullptr) {
      json::object slice = d.existing->as_object();
      json::object& meta = slice["metadata"].as_object();
      const json::value* oldEps = valueAt(*d.existing, {"endpoints"});
      json::value newPorts = d.ports;
      bool same = canonicalJson(oldEps ? *oldEps : json::value(json::array())) ==
                      canonicalJson(endpoints) &&
                  portsKey(valueAt(*d.existing, {"ports"})) == portsKey(&newPorts) &&
                  canonicalJson(meta["labels"]) == canonicalJson(labels);
      if (same) continue;
      meta["labels"] = labels;
      if (!in.triggerTime.empty()) {
        if (!meta["annotations"].is_object()) meta["annotations"] = json::object();
        meta["annotations"].as_object()[kTriggerTimeAnnotation] = in.triggerTime;
      }
      slice["endpoints"] = std::move(endpoints);
      if (d.ports.empty()) {
        slice.erase("ports");
      } else {
        slice["ports"] = std::move(d.ports);
      }
      plan.updates.push_back(std::move(slice));
      continue;
    }
    json::object meta{{"generateName", name + "-"},
                      {"namespace", ns},
                      {"labels", labels},
                      {"ownerReferences",
                       json::array{{{"apiVersion", "v1"},
                                    {"kind", "Service"},
                                    {"name", name},
                                    {"uid", serviceUid},
                                    {"controller", true},
                                    {"blockOwnerDeletion", true}}}}};
    if (!in.triggerTime.empty())
      meta["annotations"] = json::object{{kTriggerTimeAnnotation, in.triggerTime}};
    json::object slice{{"apiVersion", "discovery.k8s.io/v1"},
                       {"kind", "EndpointSlice"},
                       {"metadata", std::move(meta)},
                       {"addressType", family},
                       {"endpoints", std::move(endpoints)}};
    if (!d.ports.empty()) slice["ports"] = std::move(d.ports);
    plan.creates.push_back(std::move(slice));
  }
}

}  // namespace

SlicePlan reconcileSlices(const SliceInputs& in) {
  const std::string serviceUid = uidOf(*in.service);
  std::vector<std::string> families = serviceFamilies(*in.service);
  std::vector<const json::value*> sorted;
  for (const auto& s : in.ownedSlices) sorted.push_back(s.get());
  std::sort(sorted.begin(), sorted.end(), [](const json::value* a, const json::value* b) {
    return stringAt(*a, {"metadata", "name"}) < stringAt(*b, {"metadata", "name"});
  });
  SlicePlan plan;
  // Slices of another owner or of an address type the Service no longer has go; each of its
  // families (spec.ipFamilies) gets its own slices, from the pods' IPs of that family.
  std::map<std::string, std::vector<const json::value*>> byFamily;
  for (const json::value* s : sorted) {
    std::string type = stringAt(*s, {"addressType"});
    if (!ownedBy(*s, serviceUid) ||
        std::find(families.begin(), families.end(), type) == families.end()) {
      plan.deletes.push_back(stringAt(*s, {"metadata", "name"}));
      continue;
    }
    byFamily[type].push_back(s);
  }
  for (const auto& family : families) reconcileFamily(in, family, byFamily[family], plan);
  return plan;
}

}  // namespace berth::controllers::endpointslice
