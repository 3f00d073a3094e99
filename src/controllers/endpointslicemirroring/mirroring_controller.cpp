#include "controllers/endpointslicemirroring/mirroring_controller.h"

#include <boost/json.hpp>

#include <algorithm>

#include "controllers/framework/endpoint_util.h"
#include "controllers/framework/object_util.h"

namespace berth::controllers::endpointslicemirroring {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEndpoints{"", "v1", "endpoints", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
constexpr const char* kManagedByLabel = "endpointslice.kubernetes.io/managed-by";
constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
constexpr size_t kMaxPerSlice = 100;
constexpr size_t kMaxMirrored = 1000;

json::object endpointOf(const json::value& address, bool ready) {
  json::object ep{{"addresses", json::array{json::string(stringAt(address, {"ip"}))}},
                  {"conditions", {{"ready", ready}}}};
  if (std::string h = stringAt(address, {"hostname"}); !h.empty()) ep["hostname"] = h;
  if (std::string n = stringAt(address, {"nodeName"}); !n.empty()) ep["nodeName"] = n;
  if (const json::value* ref = valueAt(address, {"targetRef"}); ref && ref->is_object())
    ep["targetRef"] = *ref;
  return ep;
}

bool mirrored(const json::value& endpoints, const client::ObjectPtr& service) {
  if (!service || serviceSelector(*service)) return false;
  return stringAt(endpoints, {"metadata", "labels", "endpointslice.kubernetes.io/skip-mirror"}) !=
         "true";
}

// What the controller owns of a slice's content, for the no-change check.
std::string contentOf(const json::value& slice) {
  json::object c;
  for (const char* f : {"addressType", "endpoints", "ports"})
    if (const json::value* v = valueAt(slice, {f})) c[f] = *v;
  if (const json::value* l = valueAt(slice, {"metadata", "labels"})) c["labels"] = *l;
  return canonicalJson(c);
}
}  // namespace

std::vector<json::object> mirroredSlices(const json::value& endpoints, const json::value& service) {
  std::string name = stringAt(service, {"metadata", "name"});
  json::object labels;
  if (const json::value* l = valueAt(endpoints, {"metadata", "labels"}); l && l->is_object())
    labels = l->get_object();
  labels[kServiceNameLabel] = name;
  labels[kManagedByLabel] = kMirroringControllerName;
  std::vector<json::object> out;
  size_t budget = kMaxMirrored;
  const json::value* subsets = valueAt(endpoints, {"subsets"});
  if (subsets == nullptr || !subsets->is_array()) return out;
  for (const auto& subset : subsets->get_array()) {
    std::vector<json::object> eps;
    for (auto [field, ready] : {std::pair{"addresses", true}, std::pair{"notReadyAddresses", false}}) {
      const json::value* list = valueAt(subset, {field});
      if (list == nullptr || !list->is_array()) continue;
      for (const auto& a : list->get_array()) {
        if (budget == 0 || stringAt(a, {"ip"}).find(':') != std::string::npos) continue;  // IPv4
        eps.push_back(endpointOf(a, ready));
        --budget;
      }
    }
    json::array ports;
    if (const json::value* ps = valueAt(subset, {"ports"}); ps && ps->is_array()) {
      for (const auto& p : ps->get_array()) {
        std::string protocol = stringAt(p, {"protocol"});
        json::object port{{"name", stringAt(p, {"name"})},
                          {"port", intAt(p, {"port"})},
                          {"protocol", protocol.empty() ? "TCP" : protocol}};
        if (std::string app = stringAt(p, {"appProtocol"}); !app.empty()) port["appProtocol"] = app;
        ports.push_back(std::move(port));
      }
    }
    for (size_t start = 0; start < eps.size(); start += kMaxPerSlice) {
      json::array chunk;
      for (size_t i = start; i < std::min(eps.size(), start + kMaxPerSlice); ++i)
        chunk.push_back(eps[i]);
      json::object slice{{"apiVersion", "discovery.k8s.io/v1"},
                         {"kind", "EndpointSlice"},
                         {"metadata",
                          {{"namespace", stringAt(service, {"metadata", "namespace"})},
                           {"labels", labels},
                           {"ownerReferences",
                            json::array{{{"apiVersion", "v1"},
                                         {"kind", "Service"},
                                         {"name", name},
                                         {"uid", uidOf(service)},
                                         {"controller", true},
                                         {"blockOwnerDeletion", true}}}}}},
                         {"addressType", "IPv4"},
                         {"endpoints", std::move(chunk)}};
      if (!ports.empty()) slice["ports"] = ports;
      out.push_back(std::move(slice));
    }
  }
  return out;
}

MirroringController::MirroringController(ControllerContext& ctx)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      services_(ctx.informers.forResource(kServices)),
      endpoints_(ctx.informers.forResource(kEndpoints)),
      slices_(ctx.informers.forResource(kSlices)),
      workers_("endpointslicemirroring", ctx.metrics,
               [this](const std::string& key) { return sync(key); }) {
  auto enqueue = [this](const std::string& k) { workers_.enqueue(k); };
  services_.addEventHandler(serviceKeyHandler(enqueue));
  endpoints_.addEventHandler(serviceKeyHandler(enqueue));
  client::EventHandler sl;
  auto sliceChanged = [this](const json::value& s) {
    if (stringAt(s, {"metadata", "labels", kManagedByLabel}) != kMirroringControllerName) return;
    workers_.enqueue(stringAt(s, {"metadata", "namespace"}) + "/" +
                     stringAt(s, {"metadata", "labels", kServiceNameLabel}));
  };
  sl.onUpdate = [sliceChanged](const client::ObjectPtr&, const client::ObjectPtr& o) {
    sliceChanged(*o);
  };
  sl.onDelete = [sliceChanged](const client::DeletedObject& d) {
    if (d.object) sliceChanged(*d.object);
  };
  slices_.addEventHandler(std::move(sl));
}

void MirroringController::run() { workers_.start(workerCount_); }

void MirroringController::stop() { workers_.stop(); }

Status MirroringController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  client::ObjectPtr service = services_.lister().get(ns, name);
  client::ObjectPtr endpoints = endpoints_.lister().get(ns, name);
  std::vector<json::object> want;
  if (endpoints && mirrored(*endpoints, service)) want = mirroredSlices(*endpoints, *service);
  auto selector = core::LabelSelector::parse(std::string(kServiceNameLabel) + "=" + name + "," +
                                             kManagedByLabel + "=" + kMirroringControllerName);
  std::vector<client::ObjectPtr> have = slices_.lister().list(ns, &*selector);
  std::sort(have.begin(), have.end(), [](const auto& a, const auto& b) {
    return stringAt(*a, {"metadata", "name"}) < stringAt(*b, {"metadata", "name"});
  });
  // Slices are named <service>-mirror-<i>: a create the cache has not shown yet answers
  // AlreadyExists (retried) instead of making a second slice.
  for (size_t i = 0; i < want.size(); ++i) {
    std::string sliceName = name + "-mirror-" + std::to_string(i);
    want[i]["metadata"].as_object()["name"] = sliceName;
    auto it = std::find_if(have.begin(), have.end(), [&](const client::ObjectPtr& s) {
      return stringAt(*s, {"metadata", "name"}) == sliceName;
    });
    if (it == have.end()) {
      auto r = client_.create(kSlices, ns, want[i]);
      if (!r.ok()) return r.status();
      continue;
    }
    if (contentOf(**it) != contentOf(want[i])) {
      want[i]["metadata"].as_object()["resourceVersion"] =
          stringAt(**it, {"metadata", "resourceVersion"});
      auto r = client_.update(kSlices, ns, want[i]);
      if (!r.ok()) return r.status();
    }
    have.erase(it);
  }
  for (const auto& s : have) {
    auto r = client_.remove(kSlices, ns, stringAt(*s, {"metadata", "name"}));
    if (!r.ok() && !r.status().isNotFound()) return r.status();
  }
  return {};
}

}  // namespace berth::controllers::endpointslicemirroring
