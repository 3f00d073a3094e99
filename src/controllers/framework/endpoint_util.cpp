#include "controllers/framework/endpoint_util.h"

#include <boost/json.hpp>

#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers {

namespace json = boost::json;

std::optional<core::LabelSelector> serviceSelector(const json::value& service) {
  const json::value* sel = valueAt(service, {"spec", "selector"});
  if (sel == nullptr || !sel->is_object() || sel->as_object().empty()) return std::nullopt;
  auto parsed = core::LabelSelector::fromJson(json::object{{"matchLabels", *sel}});
  if (!parsed.ok()) return std::nullopt;  // validation keeps bad selectors out
  return std::move(parsed).value();
}

bool shouldPodBeInEndpoints(const json::value& pod, bool includeTerminating) {
  std::string phase = stringAt(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed") return false;
  if (podIpv4(pod).empty()) return false;
  return includeTerminating || !isBeingDeleted(pod);
}

std::string podIpv4(const json::value& pod) {
  auto isV4 = [](std::string_view ip) {
    return !ip.empty() && ip.find(':') == std::string_view::npos;
  };
  if (const json::value* ips = valueAt(pod, {"status", "podIPs"}); ips && ips->is_array()) {
    for (const auto& entry : ips->get_array()) {
      std::string ip = stringAt(entry, {"ip"});
      if (isV4(ip)) return ip;
    }
  }
  std::string ip = stringAt(pod, {"status", "podIP"});
  return isV4(ip) ? ip : std::string();
}

std::optional<int64_t> findPodPort(const json::value& pod, const json::value& servicePort) {
  const json::value* target = valueAt(servicePort, {"targetPort"});
  if (target == nullptr) return intAt(servicePort, {"port"});  // defaulting sets it; be lenient
  if (target->is_int64()) return target->get_int64();
  if (target->is_uint64()) return static_cast<int64_t>(target->get_uint64());
  if (!target->is_string()) return std::nullopt;
  std::string_view name = target->get_string();
  std::string protocol = stringAt(servicePort, {"protocol"});
  if (protocol.empty()) protocol = "TCP";
  const json::value* containers = valueAt(pod, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return std::nullopt;
  for (const auto& c : containers->get_array()) {
    const json::value* ports = valueAt(c, {"ports"});
    if (ports == nullptr || !ports->is_array()) continue;
    for (const auto& p : ports->get_array()) {
      std::string proto = stringAt(p, {"protocol"});
      if (proto.empty()) proto = "TCP";
      if (stringAt(p, {"name"}) == name && proto == protocol) return intAt(p, {"containerPort"});
    }
  }
  return std::nullopt;
}

std::optional<json::object> endpointPort(const json::value& pod, const json::value& servicePort) {
  auto number = findPodPort(pod, servicePort);
  if (!number || *number <= 0) return std::nullopt;
  std::string protocol = stringAt(servicePort, {"protocol"});
  json::object p{{"name", stringAt(servicePort, {"name"})},
                 {"port", *number},
                 {"protocol", protocol.empty() ? "TCP" : protocol}};
  if (std::string app = stringAt(servicePort, {"appProtocol"}); !app.empty()) p["appProtocol"] = app;
  return p;
}

json::object podTargetRef(const json::value& pod) {
  return json::object{{"kind", "Pod"},
                      {"namespace", stringAt(pod, {"metadata", "namespace"})},
                      {"name", stringAt(pod, {"metadata", "name"})},
                      {"uid", uidOf(pod)}};
}

client::EventHandler serviceKeyHandler(std::function<void(const std::string&)> enqueue) {
  client::EventHandler h;
  h.onAdd = [enqueue](const client::ObjectPtr& o) { enqueue(keyOf(*o)); };
  h.onUpdate = [enqueue](const client::ObjectPtr&, const client::ObjectPtr& o) {
    enqueue(keyOf(*o));
  };
  h.onDelete = [enqueue](const client::DeletedObject& d) { enqueue(d.key); };
  return h;
}

bool shouldSetHostname(const json::value& pod, const json::value& service) {
  return !stringAt(pod, {"spec", "hostname"}).empty() &&
         stringAt(pod, {"spec", "subdomain"}) == stringAt(service, {"metadata", "name"}) &&
         stringAt(pod, {"metadata", "namespace"}) == stringAt(service, {"metadata", "namespace"});
}

std::string lastChangeTriggerTime(const json::value& service,
                                  const std::vector<client::ObjectPtr>& pods) {
  // RFC 3339 in UTC with whole seconds compares as text.
  std::string newest = stringAt(service, {"metadata", "creationTimestamp"});
  for (const auto& pod : pods) {
    std::string t = stringAt(*pod, {"metadata", "creationTimestamp"});
    if (const json::value* conds = valueAt(*pod, {"status", "conditions"});
        conds && conds->is_array()) {
      for (const auto& c : conds->get_array()) {
        if (stringAt(c, {"type"}) == "Ready") t = std::max(t, stringAt(c, {"lastTransitionTime"}));
      }
    }
    newest = std::max(newest, t);
  }
  return newest;
}

client::EventHandler podToServicesHandler(const client::SharedInformer& services,
                                          std::function<void(const std::string&)> enqueue) {
  auto forPod = [&services, enqueue](const json::value& pod, const core::Labels* alsoLabels) {
    std::string ns = stringAt(pod, {"metadata", "namespace"});
    core::Labels labels = labelsOfObject(pod);
    for (const auto& svc : services.lister().list(ns)) {
      auto sel = serviceSelector(*svc);
      if (!sel) continue;
      if (sel->matches(labels) || (alsoLabels && sel->matches(*alsoLabels)))
        enqueue(keyOf(*svc));
    }
  };
  client::EventHandler h;
  h.onAdd = [forPod](const client::ObjectPtr& p) { forPod(*p, nullptr); };
  h.onUpdate = [forPod](const client::ObjectPtr& oldPod, const client::ObjectPtr& newPod) {
    core::Labels oldLabels = labelsOfObject(*oldPod);
    forPod(*newPod, &oldLabels);
  };
  h.onDelete = [forPod](const client::DeletedObject& d) {
    if (d.object) forPod(*d.object, nullptr);
  };
  return h;
}

}  // namespace berth::controllers
