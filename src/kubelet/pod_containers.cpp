// PodManager's container half: restart policy and CrashLoopBackOff, probes, stopping (starting
// one is container_start.cpp).
#include <signal.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "kubelet/lifecycle_hooks.h"
#include "kubelet/pod_manager.h"
#include "kubelet/runtime/oci_runtime.h"
#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

using Steady = std::chrono::steady_clock;

bool running(const PodManager::ContainerRecord& c) {
  return c.current && c.current->started && !c.current->exit;
}

std::chrono::system_clock::time_point parseTime(const std::string& rfc3339) {
  std::tm t{};
  std::istringstream in(rfc3339);
  in >> std::get_time(&t, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::chrono::system_clock::now();
  return std::chrono::system_clock::from_time_t(::timegm(&t));
}

}  // namespace

void PodManager::removeInstance(const ContainerInstance& inst) {
  (void)runc_.remove(inst.id);
  (void)images_.unmountRootfs(inst.dir + "/rootfs");
  runtime::unmountIfMounted(inst.dir + "/rootfs");
  std::error_code ec;
  fs::remove_all(inst.dir, ec);
}

void PodManager::stopContainer(PodRecord& rec, ContainerRecord& c, long long graceSeconds,
                               const std::string& why) {
  if (!running(c) || c.current->termSent) return;
  event(rec, "Normal", "Killing", why);
  c.current->termSent = true;
  c.current->killDeadline = Steady::now() + std::chrono::seconds(graceSeconds);
  // preStop runs before SIGTERM and counts against the grace period (upstream skips it at 0).
  const auto* spec = containerSpecOf(rec.pod, c.name);
  if (const auto* preStop = spec ? lifecycleHandler(*spec, "preStop") : nullptr;
      preStop && graceSeconds > 0) {
    auto r =
        runLifecycleHook(*preStop, *spec, hookTarget(rec, c),
                         std::chrono::duration_cast<Ms>(c.current->killDeadline - Steady::now()));
    if (!r.warningReason.empty()) event(rec, "Warning", r.warningReason.c_str(), r.warningMessage);
    if (!r.success) event(rec, "Warning", "FailedPreStopHook", r.message);
    c.current->exit = runtime::readExit(c.current->dir);
    if (!running(c)) return;  // it exited during the hook
    // As upstream's killContainer, SIGTERM always gets at least 2 s after the hook.
    c.current->killDeadline =
        std::max(c.current->killDeadline, Steady::now() + std::chrono::seconds(2));
  }
  if (graceSeconds <= 0) {
    (void)runc_.kill(c.current->id, SIGKILL, true);
    c.current->killSent = true;
  } else {
    (void)runc_.kill(c.current->id, SIGTERM);
  }
}

HookTarget PodManager::hookTarget(const PodRecord& rec, const ContainerRecord& c) const {
  return {&runc_, c.current->id, c.name, rec.name + "_" + rec.ns + "(" + rec.uid + ")",
          rec.hostNetwork ? o_.hostIP : rec.ip};
}

void PodManager::runPostStart(PodRecord& rec, ContainerRecord& c, const json::object& spec) {
  const auto* postStart = lifecycleHandler(spec, "postStart");
  if (!postStart || !running(c)) return;
  // The pod worker blocks on the hook, so no status shows the container Running until it
  // returns (as upstream's startContainer). Like upstream, the hook has no timeout of its own:
  // it ends when it returns or when the pod starts terminating (upstream cancels the pod
  // worker's sync then), which the next sync of the pod carries out.
  auto cancelled = [this, &rec] {
    return terminationCheck_ && terminationCheck_(rec.ns, rec.name, rec.uid);
  };
  auto r = runLifecycleHook(*postStart, spec, hookTarget(rec, c), Ms(0), cancelled);
  if (!r.warningReason.empty()) event(rec, "Warning", r.warningReason.c_str(), r.warningMessage);
  if (r.success) return;
  event(rec, "Warning", "FailedPostStartHook", r.message);
  if (r.cancelled) return;
  long long grace = 30;
  if (const auto* podSpec = obj(rec.pod, "spec"))
    grace = intField(*podSpec, "terminationGracePeriodSeconds", 30);
  c.ready = false;
  stopContainer(rec, c, grace, "FailedPostStartHook");
}

bool PodManager::restartIfDue(PodRecord& rec, ContainerRecord& c, const json::object& spec,
                              Ms* wait) {
  auto finished = parseTime(c.current->exit->finishedAt);
  std::string key = rec.uid + "/" + c.name;
  std::chrono::milliseconds remaining{0};
  if (backoff_.inBackoff(key, finished, std::chrono::system_clock::now(), &remaining)) {
    if (c.waitingReason != "CrashLoopBackOff")
      event(rec, "Warning", "BackOff",
            "Back-off restarting failed container " + c.name + " in pod " + rec.name + "_" +
                rec.ns + "(" + rec.uid + ")");
    c.waitingReason = "CrashLoopBackOff";
    c.waitingMessage = "back-off " + std::to_string(backoff_.current(key).count()) +
                       "s restarting failed container=" + c.name + " pod=" + rec.name + "_" +
                       rec.ns + "(" + rec.uid + ")";
    *wait = remaining + Ms(10);
    return false;
  }
  backoff_.next(key, finished);
  c.waitingReason.clear();
  return startContainer(rec, c, spec);
}

void PodManager::runProbes(PodRecord& rec, ContainerRecord& c, const json::object& spec) {
  if (!running(c) || c.current->termSent) return;
  auto now = Steady::now();
  std::string ip = rec.hostNetwork ? o_.hostIP : rec.ip;
  long long grace = 30;
  if (const auto* podSpec = obj(rec.pod, "spec"))
    grace = intField(*podSpec, "terminationGracePeriodSeconds", 30);
  auto probeOnce = [&](const char* kind, ProbeTracker& tracker, const char* label) {
    const auto* probe = obj(spec, kind);
    if (!probe || !tracker.due(*probe, c.current->startedSteady, now))
      return ProbeTracker::Outcome::kNotDue;
    auto result = runProbe(resolveNamedPorts(*probe, spec), runc_, c.current->id, ip);
    if (!result.success)
      event(rec, "Warning", "Unhealthy", std::string(label) + " probe failed: " + result.message);
    if (!result.warning.empty())
      event(rec, "Warning", "ProbeWarning",
            std::string(label) + " probe warning: " + result.warning);
    return tracker.record(*probe, result.success, now);
  };
  auto killFor = [&](const char* kind, const char* label) {
    long long g = intField(*obj(spec, kind), "terminationGracePeriodSeconds", grace);
    stopContainer(rec, c, g,
                  "Container " + c.name + " failed " + label + " probe, will be restarted");
  };
  if (!c.startupDone) {
    auto r = probeOnce("startupProbe", c.startup, "Startup");
    if (r == ProbeTracker::Outcome::kThresholdSuccess) c.startupDone = true;
    if (r == ProbeTracker::Outcome::kThresholdFailure) killFor("startupProbe", "startup");
    if (!c.startupDone) return;
  }
  if (probeOnce("livenessProbe", c.liveness, "Liveness") ==
      ProbeTracker::Outcome::kThresholdFailure) {
    killFor("livenessProbe", "liveness");
    return;
  }
  if (obj(spec, "readinessProbe")) {
    auto r = probeOnce("readinessProbe", c.readiness, "Readiness");
    if (r == ProbeTracker::Outcome::kThresholdSuccess) c.ready = true;
    if (r == ProbeTracker::Outcome::kThresholdFailure) c.ready = false;
  } else {
    c.ready = true;
  }
}

std::chrono::milliseconds PodManager::syncContainers(PodRecord& rec) {
  const auto* podSpec = obj(rec.pod, "spec");
  std::string policy = podSpec ? str(*podSpec, "restartPolicy") : "";
  if (policy.empty()) policy = "Always";
  auto now = Steady::now();
  Ms next{1000};  // exits are noticed by polling the shims' files
  auto soonest = [&](Ms d) {
    if (d.count() > 0 && d < next) next = d;
  };
  for (auto& [n, c] : rec.containers) {
    if (running(c) && c.current->termSent && !c.current->killSent &&
        now >= c.current->killDeadline) {
      (void)runc_.kill(c.current->id, SIGKILL, true);
      c.current->killSent = true;
    }
    if (running(c) && c.current->termSent) soonest(Ms(100));
  }
  auto shouldRestart = [&](const ContainerRecord& c) {
    if (policy == "Always") return true;
    return policy == "OnFailure" && c.current->exit->exitCode != 0;
  };
  const json::array empty;
  const auto* inits = podSpec ? arr(*podSpec, "initContainers") : nullptr;
  for (const auto& sv : inits ? *inits : empty) {
    if (!sv.is_object()) continue;
    const auto& spec = sv.as_object();
    auto& c = rec.containers[str(spec, "name")];
    c.name = str(spec, "name");
    c.init = true;
    if (running(c)) return next;
    if (!c.current) {
      startContainer(rec, c, spec);
      return Ms(c.current ? 200 : 2000);
    }
    if (!c.current->exit) return next;  // starting
    if (c.current->exit->exitCode == 0) continue;
    if (policy == "Never") return Ms(0);  // the pod has failed
    Ms wait{0};
    restartIfDue(rec, c, spec, &wait);
    return wait.count() ? wait : next;
  }
  const auto* containers = podSpec ? arr(*podSpec, "containers") : nullptr;
  for (const auto& sv : containers ? *containers : empty) {
    if (!sv.is_object()) continue;
    const auto& spec = sv.as_object();
    auto& c = rec.containers[str(spec, "name")];
    c.name = str(spec, "name");
    if (!c.current) {
      if (!startContainer(rec, c, spec)) soonest(Ms(2000));
    } else if (running(c)) {
      runProbes(rec, c, spec);
    } else if (c.current->exit && shouldRestart(c)) {
      Ms wait{0};
      if (!restartIfDue(rec, c, spec, &wait) && wait.count()) soonest(wait);
    }
  }
  return next;
}

}  // namespace berth::kubelet
