#pragma once
// What a DELETE does to an object's garbage-collection finalizers, as upstream's
// genericregistry.Store does (deletionFinalizersForGarbageCollection): the propagation policy
// becomes the `orphan` or `foregroundDeletion` finalizer, which the garbage collector then
// acts on and removes.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <string>

#include "core/resources.h"

namespace berth::core::kinds {

inline constexpr const char* kFinalizerOrphan = "orphan";
inline constexpr const char* kFinalizerForeground = "foregroundDeletion";

// The policy used when a DELETE names none and the object carries neither finalizer:
// "Orphan" for core/v1 ReplicationControllers (upstream keeps the pre-GC behaviour there),
// "Background" for everything else served here (apps/v1 and later default to deleting
// dependents; the extensions and apps/v1beta* versions that defaulted to orphaning are not
// served).
std::string defaultPropagationPolicy(const ResourceType& rt);

// Sets `meta.finalizers` for a delete with `policy` ("" = none given): an explicit policy wins,
// then an orphan/foregroundDeletion finalizer already on the object, then the kind's default.
// Orphan adds `orphan` and drops `foregroundDeletion`, Foreground the reverse, Background drops
// both. Returns true when the finalizers changed.
bool applyPropagationPolicy(const ResourceType& rt, boost::json::object& meta,
                            const std::string& policy);

}  // namespace berth::core::kinds
