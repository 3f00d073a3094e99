#include "controllers/endpointslice/endpointslice_controller.h"

#include <boost/json.hpp>

#include <charconv>

#include "controllers/endpointslice/slice_reconciler.h"
#include "controllers/framework/endpoint_util.h"
#include "controllers/framework/flags.h"
#include "controllers/framework/object_util.h"

namespace berth::controllers::endpointslice {

namespace json = boost::json;
using core::Status;

namespace {
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};

int64_t resourceVersionOf(const json::value& obj) {
  std::string rv = stringAt(obj, {"metadata", "resourceVersion"});
  int64_t n = 0;
  std::from_chars(rv.data(), rv.data() + rv.size(), n);
  return n;
}

bool managedByUs(const json::value& slice) {
  return stringAt(slice, {"metadata", "labels", kManagedByLabel}) == kControllerName;
}

size_t maxPerSliceFlag(const std::map<std::string, std::string>& flags) {
  long n = std::atol(stringFlag(flags, "max-endpoints-per-slice", "100").c_str());
  return n >= 1 && n <= 1000 ? static_cast<size_t>(n) : 100;
}
}  // namespace

EndpointSliceController::EndpointSliceController(ControllerContext& ctx)
    : client_(ctx.client),
      workerCount_(ctx.workers),
      maxEndpointsPerSlice_(maxPerSliceFlag(ctx.flags)),
      services_(ctx.informers.forResource(kServices)),
      pods_(ctx.informers.forResource(kPods)),
      slices_(ctx.informers.forResource(kSlices)),
      nodes_(ctx.informers.forResource(kNodes)),
      workers_("endpointslice", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  services_.addEventHandler(
      serviceKeyHandler([this](const std::string& k) { workers_.enqueue(k); }));
  pods_.addEventHandler(
      podToServicesHandler(services_, [this](const std::string& k) { workers_.enqueue(k); }));
  // A managed slice changed or went (by us, or by someone else): the Service is looked at again.
  auto sliceChanged = [this](const json::value& slice) {
    if (!managedByUs(slice)) return;
    std::string svcName = stringAt(slice, {"metadata", "labels", kServiceNameLabel});
    if (!svcName.empty())
      workers_.enqueue(stringAt(slice, {"metadata", "namespace"}) + "/" + svcName);
  };
  client::EventHandler sl;
  sl.onAdd = [sliceChanged](const client::ObjectPtr& o) { sliceChanged(*o); };
  sl.onUpdate = [sliceChanged](const client::ObjectPtr&, const client::ObjectPtr& o) {
    sliceChanged(*o);
  };
  sl.onDelete = [sliceChanged](const client::DeletedObject& d) {
    if (d.object) sliceChanged(*d.object);
  };
  slices_.addEventHandler(std::move(sl));
}

void EndpointSliceController::run() { workers_.start(workerCount_); }

void EndpointSliceController::stop() { workers_.stop(); }

bool EndpointSliceController::cacheCaughtUp(const std::string& key, const std::string& ns) {
  std::lock_guard lock(mu_);
  auto it = expected_.find(key);
  if (it == expected_.end()) return true;
  for (auto s = it->second.begin(); s != it->second.end();) {
    client::ObjectPtr cached = slices_.lister().get(ns, s->first);
    bool seen = s->second < 0 ? cached == nullptr
                              : cached != nullptr && resourceVersionOf(*cached) >= s->second;
    if (!seen) return false;
    s = it->second.erase(s);
  }
  expected_.erase(it);
  return true;
}

void EndpointSliceController::expect(const std::string& key, const std::string& sliceName,
                                     int64_t resourceVersion) {
  std::lock_guard lock(mu_);
  expected_[key][sliceName] = resourceVersion;
}

Status EndpointSliceController::sync(const std::string& key) {
  std::string ns, name;
  splitKey(key, ns, name);
  if (!cacheCaughtUp(key, ns)) {
    // Retried with the queue's per-key backoff (milliseconds at first).
    return Status::generic(409, "Conflict", "endpointslice cache is behind our writes for " + key);
  }
  core::LabelSelector ours =
      *core::LabelSelector::parse(std::string(kServiceNameLabel) + "=" + name + "," +
                                  kManagedByLabel + "=" + kControllerName);
  std::vector<client::ObjectPtr> owned = slices_.lister().list(ns, &ours);
  client::ObjectPtr service = services_.lister().get(ns, name);

  SlicePlan plan;
  std::optional<core::LabelSelector> selector;
  if (service) selector = serviceSelector(*service);
  if (!service || isBeingDeleted(*service)) {
    // The garbage collector would delete them too (ownerReference); doing it now keeps proxies
    // and DNS from serving a deleted Service's endpoints meanwhile.
    for (const auto& s : owned) plan.deletes.push_back(stringAt(*s, {"metadata", "name"}));
  } else if (!selector || stringAt(*service, {"spec", "type"}) == "ExternalName") {
    return {};  // endpoints of Services without selectors are someone else's
  } else {
    SliceInputs in;
    in.service = service.get();
    in.pods = pods_.lister().list(ns, &*selector);
    in.ownedSlices = std::move(owned);
    in.maxEndpointsPerSlice = maxEndpointsPerSlice_;
    in.zoneOf = [this](const std::string& node) {
      client::ObjectPtr n = nodes_.lister().get("", node);
      return n ? stringAt(*n, {"metadata", "labels", "topology.kubernetes.io/zone"}) : "";
    };
    in.triggerTime = lastChangeTriggerTime(*service, in.pods);
    plan = reconcileSlices(in);
  }

  // Creates and updates before deletes, so a Service never shows fewer endpoints mid-change.
  for (const auto& obj : plan.creates) {
    auto r = client_.create(kSlices, ns, obj);
    if (!r.ok()) return r.status();
    expect(key, stringAt(*r, {"metadata", "name"}), resourceVersionOf(*r));
  }
  for (const auto& obj : plan.updates) {
    auto r = client_.update(kSlices, ns, obj);
    if (!r.ok()) return r.status();  // a conflict: the cache is behind; retried
    expect(key, stringAt(*r, {"metadata", "name"}), resourceVersionOf(*r));
  }
  for (const auto& sliceName : plan.deletes) {
    auto r = client_.remove(kSlices, ns, sliceName);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
    expect(key, sliceName, -1);
  }
  return {};
}

}  // namespace berth::controllers::endpointslice
