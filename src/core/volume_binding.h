#pragma once
// PersistentVolume ↔ PersistentVolumeClaim matching, shared by the PV binder controller and the
// scheduler's VolumeBinding plugin (upstream keeps it in
// pkg/controller/volume/persistentvolume/util for both): which volume a claim binds to,
// whether a volume is (pre-)bound to a claim, and a volume's node affinity. Pure functions over
// the JSON objects; a missing or wrongly typed field reads as absent.
//
// Thread-safety: stateless.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "core/labels.h"

namespace berth::core::volumes {

// Upstream's annotation names.
inline constexpr const char* kAnnBindCompleted = "pv.kubernetes.io/bind-completed";
inline constexpr const char* kAnnBoundByController = "pv.kubernetes.io/bound-by-controller";
inline constexpr const char* kAnnSelectedNode = "volume.kubernetes.io/selected-node";
inline constexpr const char* kAnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnBetaStorageProvisioner =
    "volume.beta.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnProvisionedBy = "pv.kubernetes.io/provisioned-by";
inline constexpr const char* kAnnBetaStorageClass = "volume.beta.kubernetes.io/storage-class";

// The claim's class: spec.storageClassName, else the beta annotation, else "".
std::string claimClass(const boost::json::object& claim);
// The volume's class, the same way.
std::string volumeClass(const boost::json::object& volume);
std::string annotation(const boost::json::object& obj, std::string_view key);

// spec.claimRef names the claim (namespace/name) and its uid is empty or the claim's.
bool volumeBoundToClaim(const boost::json::object& volume, const boost::json::object& claim);

// A node, as the volume's spec.nodeAffinity.required sees it.
struct NodeView {
  std::string name;
  Labels labels;
};
// True when the volume has no required node affinity or one of its terms matches the node
// (requirements In/NotIn/Exists/DoesNotExist/Gt/Lt on labels, matchFields on metadata.name).
bool volumeNodeAffinityMatches(const boost::json::object& volume, const NodeView& node);
// The single node a volume's affinity pins it to (kubernetes.io/hostname In [one value], or
// metadata.name In [one]); "" when none or more than one.
std::string volumePinnedNode(const boost::json::object& volume);

// Upstream FindMatchingVolume: a volume pre-bound to the claim wins (nullptr if `node` is given
// and it does not fit the node); otherwise, of the volumes with no claimRef that are not being
// deleted, with the claim's class, volumeMode and every requested access mode, capacity of at
// least the request and labels the claim's selector matches (and, with `node`, phase Available
// and affinity for the node), the smallest. `delayBinding` without a node (a
// WaitForFirstConsumer claim seen by the controller) matches only pre-bound volumes.
const boost::json::object* findMatchingVolume(
    const boost::json::object& claim, const std::vector<const boost::json::object*>& volumes,
    const NodeView* node, bool delayBinding);

}  // namespace berth::core::volumes
