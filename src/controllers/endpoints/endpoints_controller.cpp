#include "controllers/endpoints/endpoints_controller.h"

#include <boost/json.hpp>

#include "controllers/endpoints/subsets.h"
#include "controllers/framework/endpoint_util.h"
#include "controllers/framework/object_util.h"

namespace berth::controllers::endpoints {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kEndpoints{"", "v1", "endpoints", true};
constexpr const char* kTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";
constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

json::object labelsFor(const json::value& service) {
  json::object labels;
  if (const json::value* l = valueAt(service, {"metadata", "labels"}); l && l->is_object())
    labels = l->get_object();
  if (stringAt(service, {"spec", "clusterIP"}) == "None") labels[kHeadlessLabel] = "";
  return labels;
}
}  // namespace

EndpointsController::EndpointsController(ControllerContext& ctx)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      services_(ctx.informers.forResource(kServices)),
      pods_(ctx.informers.forResource(kPods)),
      endpoints_(ctx.informers.forResource(kEndpoints)),
      workers_("endpoint", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  services_.addEventHandler(
      serviceKeyHandler([this](const std::string& k) { workers_.enqueue(k); }));
  pods_.addEventHandler(
      podToServicesHandler(services_, [this](const std::string& k) { workers_.enqueue(k); }));
  // Someone else changed or deleted an Endpoints of ours: put it back.
  client::EventHandler ep;
  ep.onUpdate = [this](const client::ObjectPtr&, const client::ObjectPtr& o) {
    workers_.enqueue(keyOf(*o));
  };
  ep.onDelete = [this](const client::DeletedObject& d) { workers_.enqueue(d.key); };
  endpoints_.addEventHandler(std::move(ep));
}

void EndpointsController::run() { workers_.start(workerCount_); }

void EndpointsController::stop() { workers_.stop(); }

Status EndpointsController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  // The API server keeps default/kubernetes itself (kubernetes_service.cpp).
  if (ns == "default" && name == "kubernetes") return {};
  client::ObjectPtr service = services_.lister().get(ns, name);
  client::ObjectPtr current = endpoints_.lister().get(ns, name);
  if (!service) {
    // Only an Endpoints this controller would have written: a selector-less Service's
    // Endpoints is gone with it too (upstream deletes whatever has the Service's name).
    if (!current) return {};
    auto r = client_.remove(kEndpoints, ns, name);
    return r.ok() || r.status().isNotFound() ? Status() : r.status();
  }
  auto selector = serviceSelector(*service);
  if (!selector || isBeingDeleted(*service)) return {};

  std::vector<client::ObjectPtr> pods = pods_.lister().list(ns, &*selector);
  Subsets computed = computeSubsets(*service, pods);
  json::object labels = labelsFor(*service);

  if (current) {
    const json::value* oldSubsets = valueAt(*current, {"subsets"});
    bool sameSubsets = canonicalJson(oldSubsets ? *oldSubsets : json::value(json::array())) ==
                       canonicalJson(computed.subsets);
    const json::value* oldLabels = valueAt(*current, {"metadata", "labels"});
    bool sameLabels = canonicalJson(oldLabels ? *oldLabels : json::value(json::object())) ==
                      canonicalJson(labels);
    bool wasTruncated = annotation(*current, kOverCapacityAnnotation).has_value();
    if (sameSubsets && sameLabels && wasTruncated == computed.truncated) return {};
  }

  json::object obj = current ? current->as_object()
                             : json::object{{"apiVersion", "v1"},
                                            {"kind", "Endpoints"},
                                            {"metadata", {{"name", name}, {"namespace", ns}}}};
  json::object& meta = obj["metadata"].as_object();
  meta["labels"] = std::move(labels);
  if (!meta["annotations"].is_object()) meta["annotations"] = json::object();
  json::object& ann = meta["annotations"].as_object();
  if (std::string t = lastChangeTriggerTime(*service, pods); !t.empty())
    ann[kTriggerTimeAnnotation] = t;
  if (computed.truncated) {
    ann[kOverCapacityAnnotation] = "truncated";
  } else {
    ann.erase(kOverCapacityAnnotation);
  }
  if (ann.empty()) meta.erase("annotations");
  if (computed.subsets.empty()) {
    obj.erase("subsets");
  } else {
    obj["subsets"] = std::move(computed.subsets);
  }
  auto r = current ? client_.update(kEndpoints, ns, obj) : client_.create(kEndpoints, ns, obj);
  if (!r.ok() && r.status().isAlreadyExists()) {
    return Status::generic(409, "Conflict", "endpoints cache is behind for " + key);  // retried
  }
  return r.ok() ? Status() : r.status();
}

}  // namespace berth::controllers::endpoints
