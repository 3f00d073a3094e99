#include "controllers/namespace/namespace_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "core/clock.h"
#include "core/json_access.h"

namespace berth::controllers {

namespace json = boost::json;
using core::Status;

namespace {

const client::Resource kNamespaces{"", "v1", "namespaces", false};
// Upstream's estimate for content held by finalizers (finalizerEstimateSeconds).
constexpr long long kFinalizerEstimateSeconds = 15;
// Upstream re-checks after estimate/2 + 1 seconds; a single server can afford to look sooner.
constexpr long long kMaxRecheckSeconds = 2;

const json::object* metaOf(const json::value& obj) {
  return obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
}

bool terminating(const json::value& obj) {
  const auto* m = metaOf(obj);
  return m && m->contains("deletionTimestamp");
}

json::array specFinalizers(const json::value& ns) {
  const auto* spec = ns.is_object() ? core::objectField(ns.as_object(), "spec") : nullptr;
  auto* f = spec ? spec->if_contains("finalizers") : nullptr;
  return f && f->is_array() ? f->as_array() : json::array();
}

bool hasKubernetesFinalizer(const json::value& ns) {
  for (const auto& f : specFinalizers(ns))
    if (f.is_string() && f.as_string() == "kubernetes") return true;
  return false;
}

}  // namespace

NamespaceController::NamespaceController(ControllerContext& ctx)
    : ctx_(ctx),
      namespaces_(ctx.informers.forResource(kNamespaces)),
      workers_("namespace", ctx.metrics, [this](const std::string& key) { return sync(key); }) {
  auto enqueueIfTerminating = [this](const client::ObjectPtr& obj) {
    if (terminating(*obj)) workers_.enqueue(std::string(client::objectName(*obj)));
  };
  client::EventHandler h;
  h.onAdd = enqueueIfTerminating;
  h.onUpdate = [enqueueIfTerminating](const client::ObjectPtr&, const client::ObjectPtr& obj) {
    enqueueIfTerminating(obj);
  };
  handlerId_ = namespaces_.addEventHandler(std::move(h));
}

NamespaceController::~NamespaceController() { stop(); }

void NamespaceController::run() { workers_.start(std::max(ctx_.workers, 2)); }

void NamespaceController::stop() {
  workers_.stop();
  if (handlerId_) namespaces_.removeEventHandler(handlerId_);
  handlerId_ = 0;
}

// Upstream's namespacedResourcesDeleter.Delete, from a live read of the namespace.
Status NamespaceController::sync(const std::string& name) {
  auto ns = ctx_.client.get(kNamespaces, "", name);
  if (!ns.ok()) return ns.status().isNotFound() ? Status() : ns.status();
  if (!terminating(*ns)) return {};
  json::object& obj = ns->as_object();
  auto* st = obj.if_contains("status");
  if (!st || !st->is_object() || core::stringField(st->as_object(), "phase") != "Terminating") {
    if (!st || !st->is_object()) obj["status"] = json::object();
    obj["status"].as_object()["phase"] = "Terminating";
    auto r = ctx_.client.updateStatus(kNamespaces, "", obj);
    if (!r.ok()) return r.status().isNotFound() ? Status() : r.status();
    *ns = std::move(*r);
  }
  if (!hasKubernetesFinalizer(*ns)) {
    // Finalized by us already (e.g. a crash right after): the namespace goes once its other
    // finalizers do; with none left, delete it (upstream's deleter does the same).
    if (!specFinalizers(*ns).empty()) return {};
    auto r = ctx_.client.remove(kNamespaces, "", name);
    return r.ok() || r.status().isNotFound() ? Status() : r.status();
  }
  ns::DeletionReport report;
  long long estimate = deleteAllContent(name, report);
  // Conditions are written whether or not this round finished, so a former failure clears.
  if (ns::updateConditions(ns->as_object(), report, core::nowRfc3339())) {
    auto r = ctx_.client.updateStatus(kNamespaces, "", *ns);
    if (!r.ok() && r.status().isNotFound()) return {};
  }
  if (!report.contentErrors.empty() || !report.discoveryFailures.empty())
    return Status::internal("namespace " + name + ": content deletion incomplete");
  if (estimate > 0) {
    workers_.queue().addAfter(name,
                              std::chrono::seconds(std::min(estimate / 2 + 1, kMaxRecheckSeconds)));
    return {};
  }
  return finalize(name);
}

long long NamespaceController::deleteAllContent(const std::string& ns, ns::DeletionReport& report) {
  auto found = discoverResources(ctx_.client);
  if (!found.ok()) {
    report.discoveryFailures.push_back(found.status().message());
    return 0;
  }
  const auto& d = *found.value();
  report.discoveryFailures = d.failedGroups;
  long long estimate = 0;
  for (const auto& r : d.resources) {
    if (!r.resource.namespaced || !r.hasVerb("delete")) continue;
    estimate = std::max(estimate, deleteResourceContent(r, ns, report));
  }
  return estimate;
}

// Upstream's deleteAllContentForGroupVersionResource: deletecollection (or delete each), then
// list what is left. Left-overs are expected while they terminate gracefully or wait on
// finalizers (an estimate > 0); anything else is a content failure.
long long NamespaceController::deleteResourceContent(const ApiResource& r, const std::string& ns,
                                                     ns::DeletionReport& report) {
  const std::string q = r.resource.resource + "." + r.resource.group;
  const std::string options =
      R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})";
  bool deleted = false;
  if (r.hasVerb("deletecollection")) {
    auto res = ctx_.client.request("DELETE", client::RestClient::path(r.resource, ns), options,
                                   "application/json");
    if (!res.ok() && !res.status().isNotFound() && res.status().code() != 405) {
      report.contentErrors.push_back(q + ": " + res.status().message());
      return 0;
    }
    deleted = res.ok();
  }
  if (!r.hasVerb("list")) return 0;
  auto listed = ctx_.client.list(r.resource, ns);
  if (!listed.ok()) {
    if (!listed.status().isNotFound())
      report.contentErrors.push_back(q + ": " + listed.status().message());
    return 0;
  }
  auto* items = listed->as_object().if_contains("items");
  if (!items || !items->is_array() || items->as_array().empty()) return 0;
  if (!deleted) {
    json::value opts = json::parse(options);
    for (const auto& item : items->as_array()) {
      if (terminating(item)) continue;
      auto res = ctx_.client.remove(r.resource, ns, std::string(client::objectName(item)), &opts);
      if (!res.ok() && !res.status().isNotFound() && !res.status().isConflict()) {
        report.contentErrors.push_back(q + ": " + res.status().message());
        return 0;
      }
    }
    listed = ctx_.client.list(r.resource, ns);
    if (!listed.ok()) return 0;
    items = listed->as_object().if_contains("items");
    if (!items || !items->is_array() || items->as_array().empty()) return 0;
  }
  long long estimate = 0;
  int withFinalizers = 0;
  for (const auto& item : items->as_array()) {
    const auto* m = metaOf(item);
    auto* fs = m ? m->if_contains("finalizers") : nullptr;
    if (fs && fs->is_array() && !fs->as_array().empty()) {
      ++withFinalizers;
      for (const auto& f : fs->as_array())
        if (f.is_string()) ++report.remainingByFinalizer[std::string(f.as_string())];
    }
    // A pod in its grace period: the kubelet deletes it when its containers have stopped.
    if (auto* g = m ? m->if_contains("deletionGracePeriodSeconds") : nullptr; g && g->is_int64())
      estimate = std::max<long long>(estimate, std::max<long long>(g->as_int64(), 1));
  }
  report.remainingByResource[q] = static_cast<int>(items->as_array().size());
  if (withFinalizers > 0) estimate = std::max(estimate, kFinalizerEstimateSeconds);
  if (estimate == 0) {
    report.contentErrors.push_back("unexpected items still remain in namespace: " + ns +
                                   " for gvr: " + r.resource.group + "/" + r.resource.version +
                                   ", Resource=" + r.resource.resource);
  }
  return estimate;
}

// Removes our finalizer through the finalize subresource (retried on conflict, as upstream).
Status NamespaceController::finalize(const std::string& name) {
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto ns = ctx_.client.get(kNamespaces, "", name);
    if (!ns.ok()) return ns.status().isNotFound() ? Status() : ns.status();
    if (!hasKubernetesFinalizer(*ns)) return {};
    json::array kept;
    for (const auto& f : specFinalizers(*ns))
      if (!(f.is_string() && f.as_string() == "kubernetes")) kept.push_back(f);
    auto& spec = ns->as_object()["spec"];
    if (!spec.is_object()) spec = json::object();
    spec.as_object()["finalizers"] = std::move(kept);
    auto r = ctx_.client.request("PUT", client::RestClient::path(kNamespaces, "", name, "finalize"),
                                 json::serialize(*ns), "application/json");
    if (r.ok() || r.status().isNotFound()) return {};
    last = r.status();
    if (!last.isConflict()) return last;
  }
  return last;
}

}  // namespace berth::controllers
