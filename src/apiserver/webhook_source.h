#pragma once
// The admission webhook plugin's view of the cluster (admission::WebhookSource) over the
// registry: webhook configurations and namespaces from the watch cache (a configuration
// created a moment ago may be missed by a request racing it, as with upstream's informer), and
// a Service's endpoint from its EndpointSlices (kubernetes.io/service-name label) or, failing
// that, its Endpoints. matchConditions' authorizer checks go to the authorizer `authorizer`
// returns (called per check, as the server picks its authorizer after building admission; null:
// the check errors).
//
// The decoded configurations are kept between changes: reused while the cache lists the same
// objects at the same resourceVersions, decoded again after any change.
//
// Thread-safety: as Registry's (any thread); the decoded lists sit behind a mutex.
#include <functional>
#include <memory>

#include "apiserver/admission/webhook.h"
#include "apiserver/authz/authorizer.h"
#include "apiserver/registry.h"

namespace berth::apiserver {

std::shared_ptr<admission::WebhookSource> newRegistryWebhookSource(
    Registry& registry, std::function<const authz::Authorizer*()> authorizer = {});

}  // namespace berth::apiserver
