#include "controllers/resourcequota/resource_quota_controller.h"

#include <mutex>

#include "controllers/framework/discovery.h"
#include "controllers/framework/flags.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/resourcequota/quota_recount.h"
#include "core/json_access.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using resourcequota::GroupResource;

const client::Resource kQuotas{"", "v1", "resourcequotas", true};

const json::object& asObject(const json::value& v) {
  static const json::object kEmpty;
  return v.is_object() ? v.as_object() : kEmpty;
}

const json::object* statusOf(const json::object& o) { return core::objectField(o, "status"); }

core::quota::ResourceList listAt(const json::object& o, const char* part, const char* field) {
  const json::object* p = core::objectField(o, part);
  return core::quota::parseResourceList(p ? core::objectField(*p, field) : nullptr);
}

// Whether status lags the spec: hard differs, or a hard name has no used entry yet.
bool statusStale(const json::object& quota) {
  auto spec = listAt(quota, "spec", "hard"), hard = listAt(quota, "status", "hard");
  auto used = listAt(quota, "status", "used");
  if (spec != hard) return true;
  for (const auto& [k, v] : spec) {
    if (!used.count(k)) return true;
  }
  return false;
}

class ResourceQuotaController : public Controller {
 public:
  explicit ResourceQuotaController(ControllerContext& ctx)
      : client_(ctx.client),
        quotas_(ctx.informers.forResource(kQuotas)),
        workers_("resourcequota_primary", ctx.metrics,
                 [this](const std::string& k) { return sync(k); }),
        workerCount_(ctx.workers),
        period_(durationFlag(ctx.flags, "resource-quota-sync-period", std::chrono::minutes(5))) {
    quotas_.addEventHandler(
        {[this](const ObjectPtr& q) { workers_.enqueue(keyOf(*q)); },
         [this](const ObjectPtr&, const ObjectPtr& q) {
           if (statusStale(asObject(*q))) workers_.enqueue(keyOf(*q));
         },
         nullptr});
    // Replenishment: what frees quota. Creates need no recount (admission charged them).
    for (const char* r : {"pods", "services", "configmaps", "secrets", "persistentvolumeclaims"}) {
      GroupResource gr{"", r};
      auto& inf = ctx.informers.forResource({"", "v1", r, true});
      inf.addEventHandler({nullptr,
                           [this, gr](const ObjectPtr& o, const ObjectPtr& n) {
                             if (usageShrank(gr, asObject(*o), asObject(*n))) replenish(gr, *n);
                           },
                           [this, gr](const client::DeletedObject& d) {
                             if (d.object) replenish(gr, *d.object);
                           }});
    }
  }

  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  static bool usageShrank(const GroupResource& gr, const json::object& o, const json::object& n) {
    if (gr.resource != "pods" && gr.resource != "services" &&
        gr.resource != "persistentvolumeclaims")
      return false;
    auto before = core::quota::usage(gr.group, gr.resource, o);
    auto after = core::quota::usage(gr.group, gr.resource, n);
    for (const auto& [k, v] : before) {
      auto it = after.find(k);
      if (it == after.end() || it->second < v) return true;
    }
    return false;
  }

  // Recounts the quotas of the object's namespace that track its resource.
  void replenish(const GroupResource& gr, const json::value& obj) {
    const json::object* meta = core::objectField(asObject(obj), "metadata");
    std::string ns = meta ? core::stringField(*meta, "namespace") : "";
    for (const auto& q : quotas_.lister().list(ns)) {
      const json::object* st = statusOf(asObject(*q));
      auto hard = core::quota::parseResourceList(st ? core::objectField(*st, "hard") : nullptr);
      if (!core::quota::matchingResources(gr.group, gr.resource, core::quota::names(hard)).empty())
        workers_.enqueue(keyOf(*q));
    }
  }

  core::Result<client::Resource> resolve(const GroupResource& gr) {
    if (gr.group.empty()) return client::Resource{"", "v1", gr.resource, true};
    std::shared_ptr<const DiscoveryResult> d;
    {
      std::lock_guard lock(mu_);
      d = discovery_;
    }
    if (!d || !d->forResource(gr.group, gr.resource)) {
      auto found = discoverResources(client_);
      if (!found.ok()) return found.status();
      d = found.value();
      std::lock_guard lock(mu_);
      discovery_ = d;
    }
    const ApiResource* r = d->forResource(gr.group, gr.resource);
    if (!r) return core::Status::notFound(gr.resource + "." + gr.group, "");
    return r->resource;
  }

  core::Status sync(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    auto fresh = client_.get(kQuotas, ns, name);
    if (!fresh.ok()) return fresh.status().isNotFound() ? core::Status() : fresh.status();
    json::object quota = asObject(*fresh);
    const json::object* spec = core::objectField(quota, "spec");
    json::value hardJson = spec && spec->contains("hard") ? spec->at("hard") : json::object();
    json::object next = quota;
    auto& status = next["status"];
    if (!status.is_object()) status = json::object();
    status.as_object()["hard"] = hardJson;

    auto hard = core::quota::parseResourceList(hardJson.is_object() ? &hardJson.as_object()
                                                                     : nullptr);
    std::vector<std::pair<GroupResource, std::vector<json::object>>> objects;
    for (const auto& gr : resourcequota::trackedResources(core::quota::names(hard))) {
      auto r = resolve(gr);
      if (!r.ok()) {
        if (r.status().isNotFound()) continue;  // not served (yet): nothing to count
        return r.status();
      }
      auto list = client_.list(*r, ns);
      if (!list.ok()) return list.status();
      std::vector<json::object> items;
      const json::value* arr = list->is_object() ? list->as_object().if_contains("items") : nullptr;
      for (size_t i = 0; arr && arr->is_array() && i < arr->as_array().size(); ++i) {
        items.push_back(asObject(arr->as_array()[i]));
      }
      objects.emplace_back(gr, std::move(items));
    }
    auto used = resourcequota::recount(next, objects);
    workers_.queue().addAfter(key, period_);
    if (listAt(quota, "status", "hard") == hard && listAt(quota, "status", "used") == used &&
        !statusStale(quota))
      return {};
    status.as_object()["used"] = core::quota::toJson(used);
    auto r = client_.updateStatus(kQuotas, ns, next);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
    return {};
  }

  client::RestClient& client_;
  client::SharedInformer& quotas_;
  QueueWorkers workers_;
  int workerCount_;
  std::chrono::milliseconds period_;
  std::mutex mu_;  // guards discovery_ (read lazily for count/ of non-core resources)
  std::shared_ptr<const DiscoveryResult> discovery_;
};

}  // namespace

std::unique_ptr<Controller> newResourceQuotaController(ControllerContext& ctx) {
  return std::make_unique<ResourceQuotaController>(ctx);
}

}  // namespace berth::controllers
