#pragma once
// Which OCI runtime runs the node's containers (--container-runtime auto|runc|crun), as one
// binary that every runtime call execs with runc's command line (the shim's create/start/delete,
// Runc's kill/exec/delete, the streaming server's exec). crun starts a container in about a
// third of runc's time, but refuses a host with the hybrid cgroup layout; there the binary is the
// `berth-crun` wrapper beside `berth` (runtime/bin/berth_crun.cpp), which runs crun in a private
// mount namespace without the cgroup2 mount. "auto" takes crun when a probe container starts with
// it and its cgroups land at the absolute cgroupsPath in the v1 hierarchies, else runc.
//
// Each runtime keeps its own state root (<data dir>/runc, <data dir>/crun): the two do not read
// each other's state. "auto" stays with the runtime whose root still holds containers (started
// before an agent restart), so it never strands running containers.
//
// Thread-safety: free functions; the probe starts and removes a container of its own.
#include <string>

#include "core/result.h"

namespace berth::kubelet::runtime {

struct OciRuntime {
  std::string name;    // "runc" or "crun": also the state root's name under the data dir
  std::string binary;  // what is exec'd for each call: runc, or the berth-crun wrapper
  std::string reason;  // why this one (for the agent's log), e.g. why auto did not take crun
};

struct OciRuntimeChoice {
  std::string choice = "runc";  // auto | runc | crun
  std::string runcBinary = "runc";
  std::string berthBinary;  // berth-crun and berth-shim (the probe's process) are beside it
  std::string dataDir;      // state roots; the probe's scratch directory
};

// BadRequest for an unknown choice; for "crun", an error when the wrapper is missing (no probe,
// as for runc: the node starts at once). "auto" probes (probeOciRuntime) unless a state root
// holds containers.
core::Result<OciRuntime> selectOciRuntime(const OciRuntimeChoice& choice);

// Creates, checks and removes one container with `binary` (state and bundle under `workDir`,
// removed after; cgroup /berth-probe-<pid>-<n>): ok when `create` and `start` succeed and the
// container's memory and cpu cgroups are at the absolute cgroupsPath in the v1 hierarchies.
// `probeExe` is a static executable that exits 0 when run with --help (berth-shim).
core::Status probeOciRuntime(const std::string& binary, const std::string& workDir,
                             const std::string& probeExe);

// The OOM score adjustment a container can be given on this host. Setting one below the agent's
// own takes CAP_SYS_RESOURCE, which an agent in an unprivileged container lacks: runc then
// ignores the failed write (the container keeps the agent's value), crun refuses to start the
// container. So without the capability a lower value is raised to the agent's own, which is
// what runc gave such containers anyway. `canLower`/`own` come from /proc/self in the second
// form.
int settableOomScoreAdj(int wanted, bool canLower, int own);
int settableOomScoreAdj(int wanted);

}  // namespace berth::kubelet::runtime
