#pragma once
// Which pods a ReplicaSet deletes first when it scales down: upstream's ActivePodsWithRanks
// ordering (pkg/controller/controller_utils.go) with its default feature gates (PodDeletionCost
// and LogarithmicScaleDown on). Earlier in the order = deleted first:
//   1. unassigned (no spec.nodeName) before assigned;
//   2. phase Pending < Unknown < Running;
//   3. not ready before ready;
//   4. lower controller.kubernetes.io/pod-deletion-cost before higher;
//   5. more related pods on the same node (higher rank) before fewer;
//   6. both ready: ready for a shorter time first, compared in log2 buckets of the age at `now`
//      (ties in a bucket broken by uid);
//   7. more container restarts first (regular containers, then restartable init containers);
//   8. newer creationTimestamp first (log2 buckets, then uid); a missing time counts as newest.
//
// Thread-safety: stateless functions.
#include <boost/json/value.hpp>

#include <vector>

#include "client/indexer.h"
#include "controllers/framework/object_util.h"

namespace berth::controllers::replicaset {

// Strict weak ordering: true when pod `a` should be deleted before pod `b`.
bool deleteBefore(const boost::json::value& a, int rankA, const boost::json::value& b, int rankB,
                  SystemTime now);

// The `count` pods of `pods` to delete, in deletion order. Ranks count the active pods of
// `related` (the pods of every ReplicaSet with the same controller) on each pod's node.
std::vector<client::ObjectPtr> podsToDelete(const std::vector<client::ObjectPtr>& pods,
                                            const std::vector<client::ObjectPtr>& related,
                                            size_t count, SystemTime now);

}  // namespace berth::controllers::replicaset
