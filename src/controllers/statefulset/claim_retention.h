#pragma once
// A StatefulSet's persistentVolumeClaimRetentionPolicy as ownerReferences on its claims
// (upstream updateClaimOwnerRefForSetAndPod, StatefulSetAutoDeletePVC): the garbage collector
// then deletes what the policy says to delete.
//  - whenDeleted=Delete: a claim of a pod in range is owned by the set (gone with the set);
//  - whenScaled=Delete: a claim of a pod removed by scale-down is owned by that pod instead
//    (gone once the pod is);
//  - Retain (both default): neither reference.
// The references are plain owners (no controller, no blockOwnerDeletion), as upstream's.
//
// Thread-safety: stateless functions over immutable JSON.
#include <boost/json.hpp>

#include <optional>

namespace berth::controllers::statefulset {

// The claim's ownerReferences as the policy wants them for `pod` (null: the pod does not exist
// yet) when it is `scaledDown` or in range; nullopt when they already are.
std::optional<boost::json::array> retentionOwnerRefs(const boost::json::value& claim,
                                                     const boost::json::value& set,
                                                     const boost::json::value* pod,
                                                     bool scaledDown);

}  // namespace berth::controllers::statefulset
