#pragma once
// The pod's status as the kubelet reports it (upstream's generateAPIPodStatus + getPhase):
// phase from the containers' states and the restart policy, the conditions
// PodReadyToStartContainers/Initialized/Ready/ContainersReady/PodScheduled with transition times
// kept while unchanged, containerStatuses (sorted by name) and initContainerStatuses (in spec
// order), pod and host IPs, startTime and qosClass.
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace berth::kubelet {

struct TerminatedState {
  int exitCode = 0;
  std::string reason;  // Completed, Error, OOMKilled, StartError
  std::string message, startedAt, finishedAt, containerID;
};

struct ContainerObservation {
  std::string name, image, imageID, containerID;  // containerID "berth://<id>", empty if none
  enum class State { kWaiting, kRunning, kTerminated } state = State::kWaiting;
  std::string waitingReason = "ContainerCreating", waitingMessage;
  std::string startedAt;  // running
  TerminatedState terminated;
  std::optional<TerminatedState> last;
  int restartCount = 0;
  bool ready = false;
  bool started = false;
};

struct PodObservation {
  std::vector<ContainerObservation> initContainers, containers;
  bool sandboxReady = false;
  std::string podIP, hostIP, startTime, qosClass;
  // All pod IPs of a dual-stack pod, podIP first; empty = podIP alone.
  std::vector<std::string> podIPs;
  std::string restartPolicy = "Always";
  std::string now;  // RFC 3339, for changed conditions
};

// "Pending", "Running", "Succeeded" or "Failed".
std::string podPhase(const PodObservation& o);
// The terminated reason of an exit ("Completed", "Error", "OOMKilled").
std::string terminatedReason(int exitCode, bool oomKilled);

// The new status; `old` is the pod's current status (for transition times and PodScheduled).
boost::json::object computePodStatus(const boost::json::object& old, const PodObservation& o);

}  // namespace berth::kubelet
