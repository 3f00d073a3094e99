#pragma once
// Internal to managedFields bookkeeping: the fields a create's manager owns, in FieldsV1, built
// straight from the object. Equal to FieldSet::fromObject plus upstream's strip set (what
// recordUpdate tracks for the main resource) then toFieldsV1, without the intermediate tree of
// path strings, which was the largest single step of a pod create.
//
// Thread-safety: a pure function.
#include <boost/json/object.hpp>

#include <optional>

#include "core/resources.h"

namespace berth::apiserver::patch::internal {

// For the main resource (subresource ""). nullopt when a list holds two items with the same
// merge key or a set two equal members (FieldSet merges those; callers then take that path).
std::optional<boost::json::object> createdFieldsV1(const boost::json::object& obj,
                                                   const core::ResourceType& rt);

}  // namespace berth::apiserver::patch::internal
