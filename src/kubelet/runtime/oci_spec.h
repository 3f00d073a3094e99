#pragma once
// The OCI runtime spec (config.json) of one container, from what the pod worker resolved: the
// process (args, env, cwd, user, capabilities), the root filesystem, the pod's namespaces joined
// by path, mounts, and resources as cgroup v1 settings under an absolute cgroupsPath.
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::kubelet::runtime {

struct Mount {
  std::string destination, source;
  std::string type = "bind";  // "bind" or a filesystem type (tmpfs)
  bool readOnly = false;
  std::vector<std::string> extraOptions;  // e.g. "size=64m"
};

struct ContainerResources {
  long long cpuShares = 2;       // from requests.cpu (milli * 1024 / 1000, at least 2)
  long long cpuQuotaMicros = 0;  // from limits.cpu per 100 ms period; 0 = unlimited
  long long memoryLimitBytes = 0;  // 0 = unlimited
  long long pidsLimit = 0;
};

struct ContainerConfig {
  std::vector<std::string> args, env;  // env as K=V
  std::string cwd = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additionalGids;
  bool privileged = false, readOnlyRootfs = false, tty = false, stdinOpen = false;
  std::optional<bool> allowPrivilegeEscalation;
  std::vector<std::string> capAdd, capDrop;  // Kubernetes spelling ("NET_ADMIN", "ALL")
  std::string rootfs;                        // absolute path
  std::string cgroupsPath;                   // absolute cgroup path
  std::string netns, ipcns, utsns;           // namespace files to join; empty = a new one
  bool hostNetwork = false;                  // no network/UTS namespace: the node's own
  std::string hostname;
  std::vector<Mount> mounts;                 // after the defaults (/proc, /dev, ...)
  ContainerResources resources;
  int oomScoreAdj = 0;
};

// The runtime's default capability set (containerd's), as CAP_* names.
const std::vector<std::string>& defaultCapabilities();
// The effective set after securityContext add/drop ("ALL" allowed in both), as CAP_* names.
std::vector<std::string> effectiveCapabilities(const ContainerConfig& c);

boost::json::object buildOciSpec(const ContainerConfig& c);

// cpu shares from a CPU request in millicores, as the kubelet's MilliCPUToShares (min 2).
long long milliCpuToShares(long long milli);
// CFS quota (µs per 100 ms period) from a CPU limit in millicores; 0 for no limit. Min 1 ms.
long long milliCpuToQuota(long long milli);

}  // namespace berth::kubelet::runtime
