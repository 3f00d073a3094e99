#pragma once
// What the local-path provisioner (controllers/persistentvolume) and the node agents that hold
// its volumes' directories (kubelet/local_path_cleaner.h) agree on. Upstream's
// rancher/local-path-provisioner removes a released volume's directory with a helper pod on
// the volume's node; Berth's agents do it themselves:
//
//   1. a node agent announces where its local-path volumes live (kAnnLocalPathDir on its Node;
//      upstream's per-node nodePathMap); the provisioner puts a new volume's directory there;
//   2. once a Delete-policy volume is Released, the provisioner labels it with the node that
//      holds it (kLabelCleanupNode), adds kCleanupFinalizer and deletes it;
//   3. that node's agent (it lists and watches only volumes labelled with its own name; the
//      Node authorizer lets it see no others) removes the directory and then the finalizer, so
//      the volume goes. An agent that is down leaves the volume waiting until it comes back.
namespace berth::core::localpath {

inline constexpr const char* kAnnLocalPathDir = "berth.dev/local-path-dir";
inline constexpr const char* kLabelCleanupNode = "berth.dev/local-path-cleanup-node";
inline constexpr const char* kCleanupFinalizer = "berth.dev/local-path-cleanup";

}  // namespace berth::core::localpath
