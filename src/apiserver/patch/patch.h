#pragma once
// The patch engines of PATCH requests, as upstream applies them:
//  - JSON patch (RFC 6902, application/json-patch+json): add, remove, replace, move, copy, test.
//  - JSON merge patch (RFC 7386, application/merge-patch+json).
//  - Strategic merge patch (application/strategic-merge-patch+json): merge patch, except lists
//    with a merge key merge element-wise by it (containers/env/volumes/... by name, container
//    ports by containerPort, service ports by port, volumeMounts by mountPath, conditions by
//    type, ownerReferences by uid), finalizers merge as a set, and the directives `$patch`
//    (replace|delete|merge), `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
//    `$retainKeys` apply. Other lists are replaced.
// Also the three-way strategic merge that kubectl's client-side apply computes is not needed
// here: the client computes it; the server only applies the resulting patch.
//
// Errors: malformed patches are BadRequest; a failed JSON patch `test` or a path that does not
// exist is 422 Invalid (as upstream: "the server rejected our request due to an error in our
// request") — callers wrap with the object name.
//
// Thread-safety: stateless free functions.
#include <boost/json/value.hpp>

#include <string_view>

#include "core/resources.h"
#include "core/result.h"

namespace berth::apiserver::patch {

core::Result<boost::json::value> applyJsonPatch(const boost::json::value& document,
                                                const boost::json::value& patch);
core::Result<boost::json::value> applyMergePatch(const boost::json::value& document,
                                                 const boost::json::value& patch);
// `rt` selects the merge keys of the object's kind.
core::Result<boost::json::value> applyStrategicMergePatch(const boost::json::value& document,
                                                          const boost::json::value& patch,
                                                          const core::ResourceType& rt);

}  // namespace berth::apiserver::patch
