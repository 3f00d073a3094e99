#include "apiserver/crd_hooks.h"

#include <boost/json.hpp>

#include "apiserver/crd/definition.h"
#include "apiserver/webhook_source.h"

namespace berth::apiserver {
namespace json = boost::json;

crd::Hooks crdHooks(CacheSet& cache, const std::unique_ptr<Registry>& registry) {
  crd::Hooks h;
  h.ensureCache = [&cache](const core::ResourceType& rt) { cache.ensureCache(rt); };
  h.retireCache = [&cache](const std::string& prefix) { cache.retireCache(prefix); };
  h.deleteAll = [&registry](const core::ResourceType& rt) -> core::Result<size_t> {
    auto removed = registry->removeCollection(rt, ListRequest{}, DeleteOptions{});
    if (!removed.ok()) return removed.status();
    auto left = registry->list(rt, ListRequest{});
    if (!left.ok()) return left.status();
    return left->items.size();
  };
  h.removeFinalizer = [&registry](const std::string& name) -> core::Status {
    const auto* rt =
        core::findResource(std::string(crd::kGroup), "v1", "customresourcedefinitions");
    if (rt == nullptr) return core::Status::internal("customresourcedefinitions not served");
    PatchRequest pr;
    pr.type = PatchType::kJson;
    auto cur = registry->get(*rt, "", name);
    if (!cur.ok()) return cur.status();
    auto obj = registry->toServed(*rt, **cur);
    json::array keep;
    if (auto* m = obj["metadata"].if_object()) {
      if (auto* fs = m->if_contains("finalizers"); fs && fs->is_array()) {
        for (const auto& f : fs->get_array())
          if (!(f.is_string() && f.get_string() == crd::kCleanupFinalizer)) keep.push_back(f);
      }
    }
    pr.patch = json::array{
        json::object{{"op", "test"},
                     {"path", "/metadata/resourceVersion"},
                     {"value", std::to_string((*cur)->resourceVersion)}},
        json::object{{"op", "replace"}, {"path", "/metadata/finalizers"}, {"value", keep}}};
    WriteOptions wo;
    wo.fieldManager = "apiextensions-apiserver";
    auto r = registry->patch(*rt, "", name, pr, wo);
    return r.ok() ? core::Status() : r.status();
  };
  h.refreshStatus = [&registry](const std::string& name) -> core::Status {
    const auto* rt =
        core::findResource(std::string(crd::kGroup), "v1", "customresourcedefinitions");
    if (rt == nullptr) return core::Status::internal("customresourcedefinitions not served");
    auto cur = registry->get(*rt, "", name);
    if (!cur.ok()) return cur.status();
    // An update of the unchanged object: the CRD strategy computes the status again.
    WriteOptions wo;
    wo.fieldManager = "apiextensions-apiserver";
    auto r = registry->update(*rt, "", name, registry->toServed(*rt, **cur), wo);
    return r.ok() ? core::Status() : r.status();
  };
  // Conversion webhooks' Services resolve as admission webhooks' do (webhook_source.h).
  h.webhookClient = std::make_shared<webhook::Client>(
      [&registry](const std::string& ns, const std::string& name, int port) {
        return newRegistryWebhookSource(*registry)->serviceEndpoint(ns, name, port);
      });
  return h;
}

}  // namespace berth::apiserver
