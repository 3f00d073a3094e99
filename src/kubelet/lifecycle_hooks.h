#pragma once
// Container lifecycle hooks (spec.containers[].lifecycle.postStart / preStop), as upstream's
// kubelet runs them (pkg/kubelet/lifecycle/handlers.go): `exec` inside the container, `httpGet`
// against the pod's IP (only a transport error fails it, any HTTP status is fine), `sleep`.
// exec and httpGet go through the prober's runProbe; the caller bounds each run by `timeout`
// (the remaining termination grace period for preStop).
//
// Thread-safety: runLifecycleHook is safe from any thread; it blocks for the hook's duration.
#include <boost/json/object.hpp>

#include <chrono>
#include <string>

#include "kubelet/runtime/runc.h"

namespace berth::kubelet {

struct HookResult {
  bool success = true;
  std::string message;  // the FailedPostStartHook/FailedPreStopHook event's message
};

// Where the hook runs and how it is named in messages.
struct HookTarget {
  const runtime::Runc* runc = nullptr;
  std::string containerId, containerName;
  std::string podDescription;  // "name_namespace(uid)", as upstream's format.Pod
  std::string podIP;
};

// The handler `lifecycle.<which>` of the container `spec` ("postStart" or "preStop"), or null.
const boost::json::object* lifecycleHandler(const boost::json::object& spec, const char* which);

// The container `name` of the pod's spec (containers or initContainers), or null.
const boost::json::object* containerSpecOf(const boost::json::object& pod, const std::string& name);

// Runs `handler` (with the container `spec`'s named ports resolved) within `timeout`.
HookResult runLifecycleHook(const boost::json::object& handler, const boost::json::object& spec,
                            const HookTarget& target, std::chrono::milliseconds timeout);

}  // namespace berth::kubelet
