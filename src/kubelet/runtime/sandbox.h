#pragma once
// The pod sandbox without a sandbox process: the pod's network, IPC and UTS namespaces are
// created once and pinned by bind mounts on files in the pod's directory (as CRI-O's `pinns`
// does), and every container of the pod joins them by path in its OCI spec. The UTS namespace's
// hostname is the pod's name; the network namespace's `lo` is brought up as it is created
// (what the CNI loopback plugin would do, without a plugin exec per pod). The pod's cgroup is
// /berth/pod<uid> in every cgroup v1 controller (absolute, so it does not depend on where the
// agent itself sits); containers are its children.
//
// Thread-safety: free functions; callers serialise work on one pod.
#include <string>
#include <vector>

#include "core/status.h"

namespace berth::kubelet::runtime {

struct PodNamespaces {
  std::string net, ipc, uts;  // bind-mounted namespace files
};

// The namespace files under `podDir`/ns.
PodNamespaces podNamespacePaths(const std::string& podDir);

// Creates and pins fresh net/ipc/uts namespaces (UTS hostname = `hostname`, `lo` up),
// idempotent: an already pinned set is kept.
core::Status createPodNamespaces(const std::string& podDir, const std::string& hostname);
// Pins the namespaces a running process of the pod (a container's init, `pid`) is in again:
// after an agent restart in a fresh mount namespace the old pins are out of sight, but the
// pod's containers still hold its namespaces.
core::Status repinPodNamespaces(const std::string& podDir, int pid);
// Unmounts and removes the pinned namespaces (the namespaces die with their last user).
void removePodNamespaces(const std::string& podDir);
bool namespacesPinned(const std::string& podDir);

// "/berth/pod<uid>" and "/berth/pod<uid>/<container id>".
std::string podCgroup(const std::string& podUid);
std::string containerCgroup(const std::string& podUid, const std::string& containerId);
// `ip netns exec` mounts a fresh /sys in its private mount namespace, which hides the cgroup
// hierarchies runc needs. When /sys/fs/cgroup has none and this process is not in the host's
// mount namespace, mount them again there (every hierarchy of /proc/self/cgroup). Call before
// anything else here.
core::Status ensureCgroupMounts();
// cgroup v1 controllers mounted under /sys/fs/cgroup (cpu, memory, pids, ...).
const std::vector<std::string>& cgroupControllers();
// Removes `cgroup` (absolute) and its children in every controller; processes still inside
// are killed first. Missing cgroups are fine.
void removeCgroup(const std::string& cgroup);

// Whether `path` is a mount point (in this mount namespace).
bool isMountPoint(const std::string& path);
// Unmounts `path` (lazily when busy); ignores paths that are not mounted.
void unmountIfMounted(const std::string& path);

}  // namespace berth::kubelet::runtime
