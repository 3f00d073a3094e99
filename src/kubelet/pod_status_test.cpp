#include "kubelet/pod_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::kubelet {
namespace {

using State = ContainerObservation::State;

ContainerObservation running(const std::string& name, bool ready = true) {
  ContainerObservation c;
  c.name = name;
  c.state = State::kRunning;
  c.startedAt = "2024-01-01T00:00:00Z";
  c.ready = ready;
  c.started = true;
  return c;
}

ContainerObservation terminated(const std::string& name, int code) {
  ContainerObservation c;
  c.name = name;
  c.state = State::kTerminated;
  c.terminated.exitCode = code;
  c.terminated.reason = terminatedReason(code, false);
  return c;
}

std::map<std::string, std::string> conditions(const json::object& status) {
  std::map<std::string, std::string> out;
  for (const auto& c : status.at("conditions").as_array())
    out[std::string(c.at("type").as_string())] = std::string(c.at("status").as_string());
  return out;
}

TEST(PodPhase, FromContainersAndRestartPolicy) {
  PodObservation o;
  o.containers = {running("a")};
  EXPECT_EQ(podPhase(o), "Running");
  o.containers = {ContainerObservation{}};  // waiting, never ran
  EXPECT_EQ(podPhase(o), "Pending");
  o.containers = {terminated("a", 0), terminated("b", 0)};
  o.restartPolicy = "Never";
  EXPECT_EQ(podPhase(o), "Succeeded");
  o.containers = {terminated("a", 0), terminated("b", 1)};
  EXPECT_EQ(podPhase(o), "Failed");
  o.restartPolicy = "OnFailure";
  EXPECT_EQ(podPhase(o), "Running");  // b restarts
  o.restartPolicy = "Always";
  EXPECT_EQ(podPhase(o), "Running");
  // CrashLoopBackOff: waiting with a last termination counts as stopped, not pending.
  ContainerObservation crash;
  crash.name = "a";
  crash.waitingReason = "CrashLoopBackOff";
  crash.last = TerminatedState{1, "Error", "", "", "", ""};
  o.containers = {crash};
  EXPECT_EQ(podPhase(o), "Running");
}

TEST(PodPhase, InitContainersGateThePod) {
  PodObservation o;
  o.restartPolicy = "Never";
  o.initContainers = {terminated("init", 0), running("init2")};
  o.containers = {ContainerObservation{}};
  EXPECT_EQ(podPhase(o), "Pending");
  o.initContainers = {terminated("init", 2)};
  EXPECT_EQ(podPhase(o), "Failed");
  o.restartPolicy = "Always";
  EXPECT_EQ(podPhase(o), "Pending");
}

TEST(PodStatus, ConditionsAndFieldsAsUpstream) {
  PodObservation o;
  o.sandboxReady = true;
  o.podIP = "10.244.0.5";
  o.hostIP = "10.0.0.1";
  o.startTime = "2024-01-01T00:00:00Z";
  o.qosClass = "BestEffort";
  o.now = "2024-01-01T00:00:05Z";
  o.containers = {running("b"), running("a", false)};
  auto s = computePodStatus({}, o);
  EXPECT_EQ(s.at("phase").as_string(), "Running");
  auto c = conditions(s);
  EXPECT_EQ(c["PodReadyToStartContainers"], "True");
  EXPECT_EQ(c["Initialized"], "True");
  EXPECT_EQ(c["ContainersReady"], "False");
  EXPECT_EQ(c["Ready"], "False");
  EXPECT_EQ(c["PodScheduled"], "True");
  for (const auto& cond : s.at("conditions").as_array())
    if (cond.at("type") == "Ready") {
      EXPECT_EQ(cond.at("reason").as_string(), "ContainersNotReady");
      EXPECT_EQ(cond.at("message").as_string(), "containers with unready status: [a]");
    }
  // containerStatuses sorted by name
  const auto& cs = s.at("containerStatuses").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("name").as_string(), "a");
  EXPECT_TRUE(cs[1].at("state").as_object().contains("running"));
  EXPECT_EQ(s.at("podIPs").as_array()[0].at("ip").as_string(), "10.244.0.5");
  EXPECT_EQ(s.at("hostIP").as_string(), "10.0.0.1");
  EXPECT_EQ(s.at("qosClass").as_string(), "BestEffort");

  // Dual-stack: podIPs lists every address, the primary (podIP) first.
  o.podIPs = {"10.244.0.5", "fd00:10:244::5"};
  s = computePodStatus({}, o);
  EXPECT_EQ(boost::json::serialize(s.at("podIPs")),
            R"([{"ip":"10.244.0.5"},{"ip":"fd00:10:244::5"}])");
  EXPECT_EQ(s.at("podIP").as_string(), "10.244.0.5");
}

TEST(PodStatus, TransitionTimesKeptWhileUnchanged) {
  PodObservation o;
  o.sandboxReady = true;
  o.containers = {running("a")};
  o.now = "2024-01-01T00:00:05Z";
  auto first = computePodStatus({}, o);
  o.now = "2024-01-01T00:09:00Z";
  auto second = computePodStatus(first, o);
  for (const auto& c : second.at("conditions").as_array())
    EXPECT_EQ(c.at("lastTransitionTime").as_string(), "2024-01-01T00:00:05Z");
  o.containers = {running("a", false)};
  auto third = computePodStatus(second, o);
  for (const auto& c : third.at("conditions").as_array())
    if (c.at("type") == "Ready") EXPECT_EQ(c.at("lastTransitionTime").as_string(), o.now);
}

TEST(PodStatus, CompletedPodsAreNotReadyWithPodCompleted) {
  PodObservation o;
  o.restartPolicy = "Never";
  o.containers = {terminated("a", 0)};
  o.now = "t";
  auto s = computePodStatus({}, o);
  EXPECT_EQ(s.at("phase").as_string(), "Succeeded");
  for (const auto& c : s.at("conditions").as_array())
    if (c.at("type") == "Ready") EXPECT_EQ(c.at("reason").as_string(), "PodCompleted");
  auto term = s.at("containerStatuses").as_array()[0].at("state").at("terminated");
  EXPECT_EQ(term.at("reason").as_string(), "Completed");
  EXPECT_EQ(terminatedReason(137, true), "OOMKilled");
  EXPECT_EQ(terminatedReason(1, false), "Error");
}

}  // namespace
}  // namespace berth::kubelet
