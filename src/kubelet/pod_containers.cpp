// PodManager's container half: starting containers as OCI bundles under a shim, restart policy
// and CrashLoopBackOff, probes, stopping.
#include <openssl/rand.h>
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

std::string randomId() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  std::ostringstream out;
  for (unsigned char b : bytes) out << std::hex << std::setw(2) << std::setfill('0') << int(b);
  return out.str();
}

std::chrono::system_clock::time_point parseTime(const std::string& rfc3339) {
  std::tm t{};
  std::istringstream in(rfc3339);
  in >> std::get_time(&t, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::chrono::system_clock::now();
  return std::chrono::system_clock::from_time_t(::timegm(&t));
}

images::PullPolicy pullPolicyOf(const json::object& spec) {
  std::string p = str(spec, "imagePullPolicy");
  if (p == "Always") return images::PullPolicy::kAlways;
  if (p == "Never") return images::PullPolicy::kNever;
  if (p == "IfNotPresent") return images::PullPolicy::kIfNotPresent;
  std::string image = str(spec, "image");
  auto slash = image.rfind('/');
  auto colon = image.find(':', slash == std::string::npos ? 0 : slash);
  bool latest = colon == std::string::npos || image.substr(colon + 1) == "latest";
  return latest && image.find('@') == std::string::npos ? images::PullPolicy::kAlways
                                                        : images::PullPolicy::kIfNotPresent;
}

// securityContext field: the container's, else the pod's.
const json::value* securityField(const json::object& pod, const json::object& c, const char* k) {
  if (const auto* sc = obj(c, "securityContext"))
    if (const auto* v = sc->if_contains(k)) return v;
  if (const auto* spec = obj(pod, "spec"))
    if (const auto* sc = obj(*spec, "securityContext"))
      if (const auto* v = sc->if_contains(k)) return v;
  return nullptr;
}

std::vector<std::string> stringList(const json::object* o, const char* key) {
  std::vector<std::string> out;
  if (o)
    if (const auto* a = arr(*o, key))
      for (const auto& v : *a)
        if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

int oomScoreAdj(const std::string& qos, const json::object& spec, long long nodeMemory) {
  if (qos == "Guaranteed") return -997;
  if (qos == "BestEffort") return 1000;
  long long request = 0;
  if (const auto* r = obj(spec, "resources"))
    if (const auto* req = obj(*r, "requests"))
      if (auto q = parseQuantity(str(*req, "memory"))) request = static_cast<long long>(*q);
  if (nodeMemory <= 0) return 999;
  long long adj = 1000 - (1000 * request) / nodeMemory;
  return static_cast<int>(std::clamp(adj, 2LL, 999LL));
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

bool PodManager::startContainer(PodRecord& rec, ContainerRecord& c, const json::object& spec) {
  std::string ref = str(spec, "image");
  auto policy = pullPolicyOf(spec);
  std::string pullKey = rec.uid + "/" + c.name + "/pull";
  auto present = images_.inspect(ref);
  core::Result<images::Image> image = present;
  if (present.ok() && policy != images::PullPolicy::kAlways) {
    event(rec, "Normal", "Pulled", "Container image \"" + ref + "\" already present on machine");
  } else {
    auto now = std::chrono::system_clock::now();
    if (c.waitingReason == "ErrImagePull" || c.waitingReason == "ImagePullBackOff") {
      if (backoff_.inBackoff(pullKey, now, now + std::chrono::milliseconds(1))) {
        c.waitingReason = "ImagePullBackOff";
        c.waitingMessage = "Back-off pulling image \"" + ref + "\"";
        event(rec, "Normal", "BackOff", c.waitingMessage);
        return false;
      }
    }
    event(rec, "Normal", "Pulling", "Pulling image \"" + ref + "\"");
    auto started = Steady::now();
    image = images_.ensure(ref, policy, {});
    if (!image.ok()) {
      backoff_.next(pullKey, std::chrono::system_clock::now());
      c.waitingReason = image.status().reason().empty() ? "ErrImagePull" : image.status().reason();
      c.waitingMessage = image.status().message();
      event(rec, "Warning", "Failed",
            "Failed to pull image \"" + ref + "\": " + image.status().message());
      event(rec, "Warning", "Failed", "Error: " + c.waitingReason);
      return false;
    }
    double secs = std::chrono::duration<double>(Steady::now() - started).count();
    std::ostringstream msg;
    msg << "Successfully pulled image \"" << ref << "\" in " << std::fixed << std::setprecision(3)
        << secs << "s. Image size: " << image->size << " bytes.";
    event(rec, "Normal", "Pulled", msg.str());
  }

  PodRuntimeFacts facts{rec.ip, o_.hostIP, o_.nodeName, o_.nodeMilliCpu, o_.nodeMemoryBytes,
                        rec.ips};
  auto env = resolveEnv(rec.pod, spec, objects_, facts);
  if (!env.ok()) {
    c.waitingReason = "CreateContainerConfigError";
    c.waitingMessage = env.status().message();
    event(rec, "Warning", "Failed", "Error: " + c.waitingMessage);
    return false;
  }
  env->emplace(env->begin(), "HOSTNAME", rec.hostNetwork ? o_.nodeName : rec.name);
  auto envList = mergeEnv(image->config.env, *env);
  std::map<std::string, std::string> envMap;
  for (const auto& kv : envList) envMap[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);

  runtime::ContainerConfig cfg;
  cfg.args = containerArgs(spec, image->config, envMap);
  if (cfg.args.empty()) {
    c.waitingReason = "CreateContainerError";
    c.waitingMessage = "no command specified";
    event(rec, "Warning", "Failed", "Error: " + c.waitingMessage);
    return false;
  }
  cfg.env = envList;
  cfg.cwd = str(spec, "workingDir");
  if (cfg.cwd.empty()) cfg.cwd = image->config.workingDir.empty() ? "/" : image->config.workingDir;
  if (!image->config.user.empty()) {
    cfg.uid = static_cast<uint32_t>(std::atoll(image->config.user.c_str()));
    if (auto colon = image->config.user.find(':'); colon != std::string::npos)
      cfg.gid = static_cast<uint32_t>(std::atoll(image->config.user.c_str() + colon + 1));
  }
  if (const auto* v = securityField(rec.pod, spec, "runAsUser"); v && v->is_int64())
    cfg.uid = static_cast<uint32_t>(v->as_int64());
  if (const auto* v = securityField(rec.pod, spec, "runAsGroup"); v && v->is_int64())
    cfg.gid = static_cast<uint32_t>(v->as_int64());
  if (const auto* podSpec = obj(rec.pod, "spec"))
    if (const auto* psc = obj(*podSpec, "securityContext")) {
      if (const auto* groups = arr(*psc, "supplementalGroups"))
        for (const auto& g : *groups)
          if (g.is_int64()) cfg.additionalGids.push_back(static_cast<uint32_t>(g.as_int64()));
      if (auto fsGroup = intField(*psc, "fsGroup", -1); fsGroup >= 0)
        cfg.additionalGids.push_back(static_cast<uint32_t>(fsGroup));
    }
  const auto* sc = obj(spec, "securityContext");
  cfg.privileged = sc && boolField(*sc, "privileged", false);
  cfg.readOnlyRootfs = sc && boolField(*sc, "readOnlyRootFilesystem", false);
  if (sc && sc->contains("allowPrivilegeEscalation"))
    cfg.allowPrivilegeEscalation = boolField(*sc, "allowPrivilegeEscalation", true);
  const auto* caps = sc ? obj(*sc, "capabilities") : nullptr;
  cfg.capAdd = stringList(caps, "add");
  cfg.capDrop = stringList(caps, "drop");
  cfg.stdinOpen = boolField(spec, "stdin", false);
  cfg.tty = boolField(spec, "tty", false);

  std::string id = randomId();
  std::string dir = o_.dataDir + "/containers/" + id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  int attempt = c.current ? c.current->attempt + 1 : c.restartCount;
  std::string logDir = o_.dataDir + "/logs/" + rec.ns + "_" + rec.name + "_" + rec.uid + "/" + c.name;
  fs::create_directories(logDir, ec);
  ContainerInstance inst;
  inst.id = id;
  inst.dir = dir;
  inst.attempt = attempt;
  inst.image = image->repoTags.empty() ? ref : image->repoTags.front();
  inst.imageID = image->repoDigests.empty() ? image->id : image->repoDigests.front();
  inst.logPath = logDir + "/" + std::to_string(attempt) + ".log";
  json::object meta{{"podUid", rec.uid},     {"container", c.name}, {"attempt", attempt},
                    {"init", c.init},        {"image", inst.image}, {"imageID", inst.imageID},
                    {"logPath", inst.logPath}};
  std::ofstream(dir + "/meta.json") << json::serialize(meta);

  auto fail = [&](const std::string& reason, const std::string& message) {
    c.waitingReason = reason;
    c.waitingMessage = message;
    event(rec, "Warning", "Failed", "Error: " + message);
    removeInstance(inst);
    return false;
  };
  rec.trace.mark("image");
  if (auto st = images_.mountRootfs(*image, dir + "/scratch", dir + "/rootfs"); !st.ok())
    return fail("CreateContainerError", st.message());
  rec.trace.mark("rootfs");
  cfg.rootfs = dir + "/rootfs";
  cfg.cgroupsPath = runtime::containerCgroup(rec.uid, id);
  auto ns = runtime::podNamespacePaths(rec.dir);
  cfg.hostNetwork = rec.hostNetwork;
  cfg.netns = ns.net;
  cfg.ipcns = ns.ipc;
  cfg.utsns = ns.uts;
  cfg.resources = containerResources(spec);
  cfg.oomScoreAdj =
      runtime::settableOomScoreAdj(oomScoreAdj(podQosClass(rec.pod), spec, o_.nodeMemoryBytes));
  if (const auto* mounts = arr(spec, "volumeMounts")) {
    for (const auto& mv : *mounts) {
      if (!mv.is_object()) continue;
      const auto& m = mv.as_object();
      auto vol = rec.volumes.find(str(m, "name"));
      if (vol == rec.volumes.end())
        return fail("CreateContainerConfigError",
                    "cannot find volume \"" + str(m, "name") + "\" to mount into container \"" +
                        c.name + "\"");
      runtime::Mount mount;
      mount.destination = str(m, "mountPath");
      mount.source = vol->second.hostPath;
      if (std::string sub = str(m, "subPath"); !sub.empty()) {
        if (sub.find("..") != std::string::npos || sub[0] == '/')
          return fail("CreateContainerConfigError", "invalid subPath " + sub);
        mount.source += "/" + sub;
        if (!fs::exists(mount.source)) fs::create_directories(mount.source, ec);
      }
      mount.readOnly = vol->second.readOnly || boolField(m, "readOnly", false);
      cfg.mounts.push_back(mount);
    }
  }
  for (const char* f : {"hosts", "resolv.conf", "hostname"})
    cfg.mounts.push_back({std::string("/etc/") + f, rec.dir + "/" + f, "bind", false, {}});
  std::ofstream(dir + "/config.json") << json::serialize(runtime::buildOciSpec(cfg));

  runtime::ShimOptions shim;
  shim.id = id;
  shim.runcRoot = runc_.root();
  shim.runcBinary = runc_.binary();
  shim.bundle = dir;
  shim.logPath = inst.logPath;
  shim.logMaxSize = o_.containerLogMaxSize;
  shim.logMaxFiles = o_.containerLogMaxFiles;
  shim.cgroup = cfg.cgroupsPath;
  shim.stdinOpen = cfg.stdinOpen;
  shim.stdinOnce = boolField(spec, "stdinOnce", false);
  shim.tty = cfg.tty;
  event(rec, "Normal", "Created", "Created container " + c.name);
  rec.trace.mark("config");
  if (auto st = runtime::launchShim(o_.berthBinary, shim); !st.ok())
    return fail("RunContainerError", st.message());
  rec.trace.mark("shim");
  inst.started = runtime::readStarted(dir);
  inst.exit = runtime::readExit(dir);
  inst.startedSteady = Steady::now();
  if (inst.exit && inst.exit->reason == "StartError") {
    event(rec, "Warning", "Failed",
          "Error: failed to start container \"" + c.name + "\": " + inst.exit->message);
  } else {
    event(rec, "Normal", "Started", "Started container " + c.name);
  }
  // The new attempt replaces the previous one, which becomes lastState.
  if (c.current) {
    if (c.current->exit) c.last = terminatedStateOf(*c.current);
    c.lastLogPath = c.current->logPath;
    removeInstance(*c.current);
  }
  c.restartCount = attempt;
  c.current = inst;
  c.waitingReason.clear();
  c.waitingMessage.clear();
  c.liveness.reset();
  c.readiness.reset();
  c.startup.reset();
  c.startupDone = !obj(spec, "startupProbe");
  c.ready = c.startupDone && !obj(spec, "readinessProbe");
  runPostStart(rec, c, spec);
  return true;
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
