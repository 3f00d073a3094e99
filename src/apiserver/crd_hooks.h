#pragma once
// The CRD controller's view of this API server (crd::Hooks): caches are created and retired in
// the watch cache; objects of a deleted CRD are removed, and then its cleanup finalizer, through
// the registry, as upstream's finalizer controller does through the API.
//
// Thread-safety: the hooks may run on any thread once `registry` is set (the cache hooks need
// only `cache`, so they work while the cache starts, before the registry exists).
#include <memory>

#include "apiserver/crd/controller.h"
#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

crd::Hooks crdHooks(CacheSet& cache, const std::unique_ptr<Registry>& registry);

}  // namespace berth::apiserver
