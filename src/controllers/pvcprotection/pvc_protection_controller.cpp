#include "controllers/pvcprotection/pvc_protection_controller.h"

#include <boost/json.hpp>

#include <iostream>

#include "controllers/framework/finalizer_util.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/queue_workers.h"
#include "controllers/pvcprotection/claim_usage.h"

namespace berth::controllers {

namespace {

namespace json = boost::json;
using client::ObjectPtr;
using namespace pvcprotection;

const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};
const client::Resource kPods{"", "v1", "pods", true};
// Pods by "namespace/claim" for every claim their volumes name (upstream common.PodPVCIndex).
constexpr const char* kPodsByClaimIndex = "pod-pvc-index";

class PvcProtectionController : public Controller {
 public:
  explicit PvcProtectionController(ControllerContext& ctx)
      : client_(ctx.client),
        claims_(ctx.informers.forResource(kClaims)),
        pods_(ctx.informers.forResource(kPods)),
        workers_("pvcprotection", ctx.metrics, [this](const std::string& k) { return sync(k); }) {
    // Shared informer: another controller may have added the same index already.
    (void)pods_.addIndexers({{kPodsByClaimIndex, [](const json::value& pod) {
                                std::vector<std::string> keys;
                                std::string ns(client::objectNamespace(pod));
                                for (auto& c : claimNamesOf(pod)) keys.push_back(ns + "/" + c);
                                return keys;
                              }}});
    auto claimChanged = [this](const ObjectPtr& c) {
      if (needToAddFinalizer(*c, kFinalizer) || isDeletionCandidate(*c, kFinalizer))
        workers_.enqueue(keyOf(*c));
    };
    claims_.addEventHandler(client::onEveryChange(claimChanged, false));
    pods_.addEventHandler(
        {[this](const ObjectPtr& p) { enqueueClaimsOf(*p, false); },
         [this](const ObjectPtr& oldPod, const ObjectPtr& pod) {
           enqueueClaimsOf(*pod, false);
           // A delete and re-create under the same name can arrive as one update: the old pod
           // is gone, so its claims may be free.
           if (uidOf(*oldPod) != uidOf(*pod)) enqueueClaimsOf(*oldPod, true);
         },
         [this](const client::DeletedObject& d) { enqueueClaimsOf(*d.object, true); }});
  }

  void run() override { workers_.start(1); }
  void stop() override { workers_.stop(); }

 private:
  void enqueueClaimsOf(const json::value& pod, bool deleted) {
    if (!podEventMayReleaseClaims(pod, deleted)) return;
    std::string ns(client::objectNamespace(pod));
    for (const auto& c : claimNamesOf(pod)) workers_.enqueue(ns + "/" + c);
  }

  core::Status sync(const std::string& key) {
    std::string ns, name;
    splitKey(key, ns, name);
    ObjectPtr claim = claims_.lister().get(ns, name);
    if (!claim) return {};
    if (isDeletionCandidate(*claim, kFinalizer)) {
      auto used = isBeingUsed(*claim, ns, key);
      if (!used.ok()) return used.status();
      if (!*used) return update(withoutFinalizer(*claim, kFinalizer), ns);
    }
    if (needToAddFinalizer(*claim, kFinalizer))
      return update(withFinalizer(*claim, kFinalizer), ns);
    return {};
  }

  core::Result<bool> isBeingUsed(const json::value& claim, const std::string& ns,
                                 const std::string& key) {
    if (auto cached = pods_.indexer().byIndex(kPodsByClaimIndex, key); cached.ok()) {
      for (const auto& pod : *cached)
        if (podUsesClaim(*pod, claim)) return true;
    }
    // The cache may not have a pod created moments ago: ask the server before letting go.
    auto live = client_.list(kPods, ns);
    if (!live.ok()) return live.status();
    if (const json::value* items = valueAt(*live, {"items"}); items && items->is_array()) {
      for (const auto& pod : items->get_array())
        if (podUsesClaim(pod, claim)) return true;
    }
    return false;
  }

  core::Status update(const json::value& claim, const std::string& ns) {
    auto r = client_.update(kClaims, ns, claim);
    if (!r.ok() && !r.status().isNotFound()) return r.status();
    return {};
  }

  client::RestClient& client_;
  client::SharedInformer& claims_;
  client::SharedInformer& pods_;
  QueueWorkers workers_;
};

}  // namespace

std::unique_ptr<Controller> newPvcProtectionController(ControllerContext& ctx) {
  return std::make_unique<PvcProtectionController>(ctx);
}

}  // namespace berth::controllers
