#include "kubelet/pod_status.h"

#include <boost/json.hpp>

#include <algorithm>

#include "kubelet/container_config.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

using State = ContainerObservation::State;

json::object terminatedJson(const TerminatedState& t) {
  json::object o{{"exitCode", t.exitCode}, {"reason", t.reason}};
  if (!t.message.empty()) o["message"] = t.message;
  o["startedAt"] = t.startedAt.empty() ? json::value(nullptr) : json::value(t.startedAt);
  o["finishedAt"] = t.finishedAt.empty() ? json::value(nullptr) : json::value(t.finishedAt);
  if (!t.containerID.empty()) o["containerID"] = t.containerID;
  return o;
}

json::object containerStatusJson(const ContainerObservation& c) {
  json::object state;
  switch (c.state) {
    case State::kWaiting: {
      json::object w{{"reason", c.waitingReason}};
      if (!c.waitingMessage.empty()) w["message"] = c.waitingMessage;
      state["waiting"] = w;
      break;
    }
    case State::kRunning:
      state["running"] = json::object{{"startedAt", c.startedAt}};
      break;
    case State::kTerminated:
      state["terminated"] = terminatedJson(c.terminated);
      break;
  }
  json::object last;
  if (c.last) last["terminated"] = terminatedJson(*c.last);
  json::object o{{"name", c.name},       {"state", state},
                 {"lastState", last},    {"ready", c.ready},
                 {"restartCount", c.restartCount}, {"image", c.image},
                 {"imageID", c.imageID}, {"started", c.started}};
  if (!c.containerID.empty()) o["containerID"] = c.containerID;
  return o;
}

bool initDone(const PodObservation& o, std::vector<std::string>* pending) {
  bool done = true;
  for (const auto& c : o.initContainers) {
    if (c.state == State::kTerminated && c.terminated.exitCode == 0) continue;
    done = false;
    if (pending) pending->push_back(c.name);
  }
  return done;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

}  // namespace

std::string terminatedReason(int exitCode, bool oomKilled) {
  if (oomKilled) return "OOMKilled";
  return exitCode == 0 ? "Completed" : "Error";
}

std::string podPhase(const PodObservation& o) {
  bool policyNever = o.restartPolicy == "Never";
  for (const auto& c : o.initContainers) {
    bool failed = c.state == State::kTerminated && c.terminated.exitCode != 0;
    if (failed && policyNever) return "Failed";
  }
  if (!initDone(o, nullptr)) return "Pending";
  int running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const auto& c : o.containers) {
    switch (c.state) {
      case State::kRunning:
        ++running;
        break;
      case State::kTerminated:
        ++stopped;
        if (c.terminated.exitCode == 0) ++succeeded;
        break;
      case State::kWaiting:
        // A container waiting to restart has run before: it counts as stopped, not waiting.
        if (c.last) ++stopped;
        else ++waiting;
        break;
    }
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (o.restartPolicy == "Always") return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policyNever) return "Failed";
    return "Running";
  }
  return "Pending";
}

json::object computePodStatus(const json::object& old, const PodObservation& o) {
  std::string phase = podPhase(o);
  // Old conditions by type, for lastTransitionTime.
  const json::array* oldConditions = arr(old, "conditions");
  auto condition = [&](const std::string& type, bool status, const std::string& reason,
                       const std::string& message) {
    std::string s = status ? "True" : "False";
    std::string since = o.now;
    if (oldConditions) {
      for (const auto& c : *oldConditions) {
        if (!c.is_object() || str(c.as_object(), "type") != type) continue;
        if (str(c.as_object(), "status") == s && !str(c.as_object(), "lastTransitionTime").empty())
          since = str(c.as_object(), "lastTransitionTime");
      }
    }
    json::object c{{"type", type}, {"status", s}, {"lastProbeTime", nullptr},
                   {"lastTransitionTime", since}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    return c;
  };

  std::vector<std::string> pendingInit, unready;
  bool initialized = initDone(o, &pendingInit);
  for (const auto& c : o.containers)
    if (!c.ready) unready.push_back(c.name);
  std::sort(unready.begin(), unready.end());
  bool completed = phase == "Succeeded" || phase == "Failed";
  bool containersReady = unready.empty() && !o.containers.empty() && !completed;
  std::string readyReason, readyMessage;
  if (!containersReady) {
    if (completed) {
      readyReason = "PodCompleted";
    } else {
      readyReason = "ContainersNotReady";
      readyMessage = "containers with unready status: " + joinNames(unready);
    }
  }
  json::array conditions;
  conditions.push_back(condition("PodReadyToStartContainers", o.sandboxReady, "", ""));
  conditions.push_back(condition(
      "Initialized", initialized || completed,
      initialized ? (completed && !o.initContainers.empty() ? "PodCompleted" : "")
                  : "ContainersNotInitialized",
      initialized ? "" : "containers with incomplete status: " + joinNames(pendingInit)));
  conditions.push_back(condition("Ready", containersReady, readyReason, readyMessage));
  conditions.push_back(condition("ContainersReady", containersReady, readyReason, readyMessage));
  // PodScheduled is the scheduler's; a pod bound some other way (spec.nodeName) counts as it.
  json::object scheduled = condition("PodScheduled", true, "", "");
  if (oldConditions)
    for (const auto& c : *oldConditions)
      if (c.is_object() && str(c.as_object(), "type") == "PodScheduled") scheduled = c.as_object();
  conditions.push_back(scheduled);

  json::object status{{"phase", phase}, {"conditions", conditions}};
  if (!o.hostIP.empty()) {
    status["hostIP"] = o.hostIP;
    status["hostIPs"] = json::array{json::object{{"ip", o.hostIP}}};
  }
  if (!o.podIP.empty()) {
    status["podIP"] = o.podIP;
    json::array ips;
    for (const auto& ip : o.podIPs.empty() ? std::vector<std::string>{o.podIP} : o.podIPs)
      ips.push_back(json::object{{"ip", ip}});
    status["podIPs"] = std::move(ips);
  }
  if (!o.startTime.empty()) status["startTime"] = o.startTime;
  if (!o.initContainers.empty()) {
    json::array init;
    for (const auto& c : o.initContainers) init.push_back(containerStatusJson(c));
    status["initContainerStatuses"] = init;
  }
  auto sorted = o.containers;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  json::array containers;
  for (const auto& c : sorted) containers.push_back(containerStatusJson(c));
  status["containerStatuses"] = containers;
  status["qosClass"] = o.qosClass;
  return status;
}

}  // namespace berth::kubelet
