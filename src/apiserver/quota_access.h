#pragma once
// The ResourceQuota admission plugin's view of quotas (admission::QuotaAccess) over the
// registry: lists from the watch cache without waiting for it to catch up (a stale quota only
// costs a Conflict and a re-read), status writes through the registry's status subresource
// with the quota's resourceVersion as precondition.
//
// Thread-safety: as Registry's (any thread).
#include <memory>

#include "apiserver/admission/resource_quota.h"
#include "apiserver/registry.h"

namespace berth::apiserver {

std::shared_ptr<admission::QuotaAccess> newRegistryQuotaAccess(Registry& registry);

}  // namespace berth::apiserver
