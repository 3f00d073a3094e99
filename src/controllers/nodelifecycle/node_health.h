#pragma once
// The node lifecycle controller's decisions as pure functions (testable without a server), after
// upstream's pkg/controller/nodelifecycle and pkg/controller/tainteviction:
//  - assessNodeHealth: a node whose kubelet stopped renewing its Lease and posting status for the
//    grace period gets its conditions set to Unknown ("Kubelet stopped posting node status.").
//    As upstream, "renewed" is judged by local observation time (when a new renewTime or
//    heartbeat was first seen), never by comparing the kubelet's clock with ours.
//  - desiredTaints: the taints that follow from the conditions (not-ready / unreachable with
//    NoSchedule and NoExecute, the pressure taints, unschedulable), other taints kept.
//  - evictionDelay: how long a pod may stay on a node with NoExecute taints.
//
// Thread-safety: stateless functions; NodeHealth is owned by the controller's monitor loop.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace berth::controllers::nodelifecycle {

using SteadyTime = std::chrono::steady_clock::time_point;

struct HealthOptions {
  std::chrono::milliseconds monitorGracePeriod{40000};  // --node-monitor-grace-period
  std::chrono::milliseconds startupGracePeriod{60000};  // --node-startup-grace-period
};

// What the controller remembers of a node between passes (upstream's nodeHealthData).
struct NodeHealth {
  bool known = false;
  std::string heartbeat;   // Ready.lastHeartbeatTime last seen
  std::string leaseRenew;  // the Lease's spec.renewTime last seen
  SteadyTime probeTime{};  // when either last changed, on our clock
};

struct HealthVerdict {
  bool changed = false;           // `conditions` must be written to the node's status
  boost::json::array conditions;  // the node's conditions after this pass
  std::string readyStatus;        // "True", "False", "Unknown" or "" (no Ready condition)
};

HealthVerdict assessNodeHealth(const boost::json::object& node, const std::string& leaseRenewTime,
                               NodeHealth& health, SteadyTime now, const HealthOptions& options,
                               const std::string& nowRfc3339);

// The node's taints after applying its conditions and spec.unschedulable; `changed` false when
// they are what the node has. New NoExecute taints carry timeAdded = now; kept ones keep theirs.
struct TaintVerdict {
  bool changed = false;
  boost::json::array taints;
};
TaintVerdict desiredTaints(const boost::json::object& node, const std::string& nowRfc3339);

// Upstream's ToleratesTaint.
bool tolerates(const boost::json::object& toleration, const boost::json::object& taint);

// For a pod on a node with these taints: nullopt = stays (no NoExecute taint, or tolerated
// forever); 0 = evict now (a NoExecute taint it does not tolerate); n = evict after n seconds
// (the smallest tolerationSeconds among the tolerations it uses).
std::optional<long long> evictionDelaySeconds(const boost::json::object& pod,
                                              const boost::json::array& nodeTaints);

// The strategic-merge patch of pods/status that marks a pod not ready (MarkPodsNotReady), or
// nullopt when its Ready condition is already not True.
std::optional<boost::json::object> podNotReadyPatch(const boost::json::object& pod,
                                                    const std::string& nowRfc3339);

}  // namespace berth::controllers::nodelifecycle
