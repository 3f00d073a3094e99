#pragma once
// The ResourceQuota admission plugin (validating, last in the chain as upstream): rejects a
// write that would take a namespace's usage past a ResourceQuota's hard limits, with upstream's
// 403 messages (`exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited:
// configmaps=2`, `failed quota: q: must specify limits.cpu for: c`, `status unknown for quota`).
//
// Exact under concurrency, as upstream's: before the object is persisted, the plugin adds the
// object's usage to the quota's status.used with an optimistic-concurrency update (the quota's
// resourceVersion). Of two writes racing for the last unit, one update wins; the other gets a
// Conflict, re-reads the quota and is rejected. We chose this over serializing per namespace in
// this process and counting from the watch cache plus in-flight reservations because the
// resourceVersion check also holds with several API servers on one etcd, and it keeps
// status.used current between the controller's recounts. The price is upstream's too: a write
// that fails after admission (say AlreadyExists) leaves its charge in status.used until the
// resource quota controller recounts (on deletes and periodically).
//
// Thread-safety: validate() runs concurrently from request threads; the plugin holds no state
// of its own beyond the QuotaAccess.
#include <memory>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "core/result.h"

namespace berth::apiserver::admission {

// How the plugin reads and charges quotas (implemented by the API server over its registry).
class QuotaAccess {
 public:
  virtual ~QuotaAccess() = default;
  // The namespace's ResourceQuotas, possibly a little stale (from the watch cache), each with
  // metadata.resourceVersion.
  virtual std::vector<boost::json::object> list(const std::string& ns) = 0;
  // One quota as the store has it now.
  virtual core::Result<boost::json::object> get(const std::string& ns, const std::string& name) = 0;
  // Writes `quota`'s status if its metadata.resourceVersion is still current; a Conflict
  // status otherwise.
  virtual core::Status updateStatus(const boost::json::object& quota) = 0;
};

std::unique_ptr<Plugin> newResourceQuota(std::shared_ptr<QuotaAccess> access);

}  // namespace berth::apiserver::admission
