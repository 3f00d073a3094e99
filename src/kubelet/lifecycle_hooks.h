#pragma once
// Container lifecycle hooks (spec.containers[].lifecycle.postStart / preStop), as upstream's
// kubelet runs them (pkg/kubelet/lifecycle/handlers.go): `exec` inside the container, `httpGet`
// over HTTP or HTTPS against the pod's IP (probe_http.h; only a transport error fails it, any
// HTTP status is fine; an HTTPS hook answered in plain HTTP is retried in HTTP without its
// Authorization header, with a LifecycleHTTPFallback warning), `sleep`.
// The caller bounds each run by `timeout` (preStop: the remaining termination grace period) or
// not at all (0: postStart, which upstream runs without a timeout of its own), and may end it
// early through `cancelled` (upstream cancels a pod worker's sync when the pod starts
// terminating, which ends a hanging postStart).
//
// Thread-safety: runLifecycleHook is safe from any thread; it blocks for the hook's duration.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "kubelet/runtime/runc.h"

namespace berth::kubelet {

struct HookResult {
  bool success = true;
  std::string message;  // the FailedPostStartHook/FailedPreStopHook event's message
  bool cancelled = false;
  // A Warning event to record on the pod even on success (LifecycleHTTPFallback).
  std::string warningReason, warningMessage;
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

// Runs `handler` (with the container `spec`'s named ports resolved) within `timeout` (0: no
// bound); `cancelled`, when set, is polled and ends the run with a failure.
HookResult runLifecycleHook(const boost::json::object& handler, const boost::json::object& spec,
                            const HookTarget& target, std::chrono::milliseconds timeout,
                            const std::function<bool()>& cancelled = {});

}  // namespace berth::kubelet
