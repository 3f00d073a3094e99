#pragma once
// A ReplicaSet's (or ReplicationController's) status computed from the pods it owns, as
// upstream's calculateStatus (pkg/controller/replicaset/replica_set_utils.go).
//
// Thread-safety: stateless functions.
#include <boost/json/object.hpp>

#include <vector>

#include "client/indexer.h"
#include "controllers/framework/object_util.h"
#include "core/status.h"

namespace berth::controllers::replicaset {

// `pods` are the claimed, active pods; `manageError` the result of this sync's creates/deletes
// (sets or clears the ReplicaFailure condition). observedGeneration is left as it was.
boost::json::object calculateStatus(const boost::json::value& rs,
                                    const std::vector<client::ObjectPtr>& pods,
                                    const core::Status& manageError, SystemTime now);

// Whether writing `next` would change anything (counts, conditions, or observedGeneration
// behind metadata.generation).
bool statusNeedsUpdate(const boost::json::value& rs, const boost::json::object& next);

}  // namespace berth::controllers::replicaset
