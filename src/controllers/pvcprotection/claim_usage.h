#pragma once
// Which pods hold a PersistentVolumeClaim, as the pvc-protection controller judges it (upstream
// pkg/controller/volume/pvcprotection podUsesPVC and pkg/volume/util IsPodTerminated):
//  - only scheduled pods count (spec.nodeName set): the kubelet sees a pod only after it is
//    scheduled and will not start one whose claim is being deleted;
//  - a terminated pod (phase Succeeded or Failed, or being deleted with no container running)
//    does not hold its claims: its containers are gone. Upstream since 1.25 keeps counting such
//    pods until they are deleted (kubernetes#120756); Berth follows the older rule, which its
//    kubelet makes safe because a pod reaches a terminal phase only after its containers exit
//    (docs/decisions.md);
//  - a volume names the claim directly (persistentVolumeClaim.claimName), or is a generic
//    ephemeral volume whose claim is <pod>-<volume> and controlled by that pod (one that was
//    force-deleted or has finished with grace period 0 no longer counts for those).
//
// Thread-safety: stateless functions.
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace berth::controllers::pvcprotection {

inline constexpr const char* kFinalizer = "kubernetes.io/pvc-protection";

// Phase Succeeded/Failed, or being deleted with no container (init, app, ephemeral) running.
bool podIsTerminated(const boost::json::value& pod);
// Being deleted with deletionGracePeriodSeconds 0: the kubelet is done with it (or it was
// force-deleted) and only garbage collection is left.
bool podIsShutDown(const boost::json::value& pod);

// The claim names the pod's volumes refer to (direct and generic ephemeral), in volume order.
std::vector<std::string> claimNamesOf(const boost::json::value& pod);

// Whether `pod` keeps `claim` (same namespace assumed) from being deleted.
bool podUsesClaim(const boost::json::value& pod, const boost::json::value& claim);

// Whether a pod event may release a claim, so its claims are worth re-checking: the pod was
// deleted, terminated, or is not scheduled (upstream's enqueuePVCs filter).
bool podEventMayReleaseClaims(const boost::json::value& pod, bool deleted);

}  // namespace berth::controllers::pvcprotection
