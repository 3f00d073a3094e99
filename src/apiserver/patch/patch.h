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
// The three-way strategic merge that kubectl's client-side apply computes is not needed here:
// the client computes it; the server only applies the resulting patch. As upstream, items named
// in a patch list are placed before server-only items unless `$setElementOrder` says otherwise.
//
// Errors: malformed patches are 400 BadRequest; a JSON patch that does not apply (failed `test`,
// missing path) is 422 Invalid with upstream's "the server rejected our request due to an error
// in our request" followed by the detail; strategic-merge content errors (an item without its
// merge key, a patch that does not match $retainKeys) are 422 Invalid. Callers may wrap these
// with the object name.
//
// Thread-safety: stateless free functions.
#include <boost/json/value.hpp>
#include <string_view>

#include "core/resources.h"
#include "core/result.h"

namespace berth::apiserver::patch {

core::Result<boost::json::value> applyJsonPatch(const boost::json::value& document,
                                                const boost::json::value& patch);
// The merge engines take the document by value: a caller done with it moves it in, and the
// patch is applied in place instead of to a copy of the whole object.
core::Result<boost::json::value> applyMergePatch(boost::json::value document,
                                                 const boost::json::value& patch);
// `rt` selects the merge keys of the object's kind.
core::Result<boost::json::value> applyStrategicMergePatch(boost::json::value document,
                                                          const boost::json::value& patch,
                                                          const core::ResourceType& rt);

}  // namespace berth::apiserver::patch
