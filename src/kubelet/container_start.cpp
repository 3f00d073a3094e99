// PodManager's container start, step by step: the image (present or pulled, with its
// back-off), the process and security settings, the container's directory, its OCI bundle
// (root filesystem, mounts, config.json), the shim that runs it, and the new attempt replacing
// the previous one. A step that fails leaves the container waiting with upstream's reason
// (ErrImagePull, CreateContainerConfigError, CreateContainerError, RunContainerError).
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "kubelet/pod_manager.h"
#include "kubelet/runtime/oci_runtime.h"
#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

using Steady = std::chrono::steady_clock;

std::string randomId() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  std::ostringstream out;
  for (unsigned char b : bytes) out << std::hex << std::setw(2) << std::setfill('0') << int(b);
  return out.str();
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

// A failed step: its Status carries the container's waiting reason.
core::Status stepFailed(const char* reason, const std::string& message) {
  return core::Status::generic(500, reason, message);
}

// The user and groups: the image's USER, then runAsUser/runAsGroup (container over pod), the
// pod's supplementalGroups and fsGroup.
void applyUser(runtime::ContainerConfig& cfg, const json::object& pod, const json::object& spec,
               const images::ImageConfig& image) {
  if (!image.user.empty()) {
    cfg.uid = static_cast<uint32_t>(std::atoll(image.user.c_str()));
    if (auto colon = image.user.find(':'); colon != std::string::npos)
      cfg.gid = static_cast<uint32_t>(std::atoll(image.user.c_str() + colon + 1));
  }
  if (const auto* v = securityField(pod, spec, "runAsUser"); v && v->is_int64())
    cfg.uid = static_cast<uint32_t>(v->as_int64());
  if (const auto* v = securityField(pod, spec, "runAsGroup"); v && v->is_int64())
    cfg.gid = static_cast<uint32_t>(v->as_int64());
  const auto* podSpec = obj(pod, "spec");
  const auto* psc = podSpec ? obj(*podSpec, "securityContext") : nullptr;
  if (!psc) return;
  if (const auto* groups = arr(*psc, "supplementalGroups"))
    for (const auto& g : *groups)
      if (g.is_int64()) cfg.additionalGids.push_back(static_cast<uint32_t>(g.as_int64()));
  if (auto fsGroup = intField(*psc, "fsGroup", -1); fsGroup >= 0)
    cfg.additionalGids.push_back(static_cast<uint32_t>(fsGroup));
}

// The container's securityContext (privileged, read-only root, privilege escalation,
// capabilities) and its stdin/tty.
void applySecurityContext(runtime::ContainerConfig& cfg, const json::object& spec) {
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
}

// The container's volumeMounts from the pod's volumes, then the pod's /etc files.
core::Result<std::vector<runtime::Mount>> containerMounts(const PodManager::PodRecord& rec,
                                                          const std::string& container,
                                                          const json::object& spec) {
  std::vector<runtime::Mount> out;
  std::error_code ec;
  if (const auto* mounts = arr(spec, "volumeMounts")) {
    for (const auto& mv : *mounts) {
      if (!mv.is_object()) continue;
      const auto& m = mv.as_object();
      auto vol = rec.volumes.find(str(m, "name"));
      if (vol == rec.volumes.end())
        return stepFailed("CreateContainerConfigError",
                          "cannot find volume \"" + str(m, "name") +
                              "\" to mount into container \"" + container + "\"");
      runtime::Mount mount;
      mount.destination = str(m, "mountPath");
      mount.source = vol->second.hostPath;
      if (std::string sub = str(m, "subPath"); !sub.empty()) {
        if (sub.find("..") != std::string::npos || sub[0] == '/')
          return stepFailed("CreateContainerConfigError", "invalid subPath " + sub);
        mount.source += "/" + sub;
        if (!fs::exists(mount.source)) fs::create_directories(mount.source, ec);
      }
      mount.readOnly = vol->second.readOnly || boolField(m, "readOnly", false);
      out.push_back(mount);
    }
  }
  // The pod's own files, unless the container mounts a volume there (upstream's makeMounts for
  // /etc/hosts; containerd's isInCRIMounts for all three).
  for (const char* f : {"hosts", "resolv.conf", "hostname"}) {
    std::string target = std::string("/etc/") + f;
    if (std::none_of(out.begin(), out.end(),
                     [&](const runtime::Mount& m) { return m.destination == target; }))
      out.push_back({target, rec.dir + "/" + f, "bind", false, {}});
  }
  return out;
}

}  // namespace

bool PodManager::startContainer(PodRecord& rec, ContainerRecord& c, const json::object& spec) {
  auto image = imageFor(rec, c, spec);
  if (!image) return false;
  auto cfg = processConfig(rec, spec, *image);
  if (!cfg.ok()) return waitWith(rec, c, cfg.status());
  ContainerInstance inst = newInstance(rec, c, str(spec, "image"), *image);
  rec.trace.mark("image");
  auto failed = [&](const core::Status& st) {
    removeInstance(inst);
    return waitWith(rec, c, st);
  };
  if (auto st = writeBundle(rec, c, spec, *image, inst, *cfg); !st.ok()) return failed(st);
  event(rec, "Normal", "Created", "Created container " + c.name);
  rec.trace.mark("config");
  if (auto st = runtime::launchShim(o_.berthBinary, shimOptions(inst, *cfg, spec)); !st.ok())
    return failed(stepFailed("RunContainerError", st.message()));
  rec.trace.mark("shim");
  inst.started = runtime::readStarted(inst.dir);
  inst.exit = runtime::readExit(inst.dir);
  inst.startedSteady = Steady::now();
  if (inst.exit && inst.exit->reason == "StartError") {
    event(rec, "Warning", "Failed",
          "Error: failed to start container \"" + c.name + "\": " + inst.exit->message);
  } else {
    event(rec, "Normal", "Started", "Started container " + c.name);
  }
  adoptInstance(c, std::move(inst), spec);
  runPostStart(rec, c, spec);
  return true;
}

bool PodManager::waitWith(PodRecord& rec, ContainerRecord& c, const core::Status& why) {
  c.waitingReason = why.reason();
  c.waitingMessage = why.message();
  event(rec, "Warning", "Failed", "Error: " + why.message());
  return false;
}

// The image per the pull policy: already present, else pulled (with upstream's events), unless
// an earlier pull failed and its back-off has not passed.
std::optional<images::Image> PodManager::imageFor(PodRecord& rec, ContainerRecord& c,
                                                  const json::object& spec) {
  std::string ref = str(spec, "image");
  auto policy = pullPolicyOf(spec);
  auto present = images_.inspect(ref);
  if (present.ok() && policy != images::PullPolicy::kAlways) {
    event(rec, "Normal", "Pulled", "Container image \"" + ref + "\" already present on machine");
    return *present;
  }
  std::string pullKey = rec.uid + "/" + c.name + "/pull";
  auto now = std::chrono::system_clock::now();
  if ((c.waitingReason == "ErrImagePull" || c.waitingReason == "ImagePullBackOff") &&
      backoff_.inBackoff(pullKey, now, now + std::chrono::milliseconds(1))) {
    c.waitingReason = "ImagePullBackOff";
    c.waitingMessage = "Back-off pulling image \"" + ref + "\"";
    event(rec, "Normal", "BackOff", c.waitingMessage);
    return std::nullopt;
  }
  event(rec, "Normal", "Pulling", "Pulling image \"" + ref + "\"");
  auto started = Steady::now();
  auto image = images_.ensure(ref, policy, {});
  if (!image.ok()) {
    backoff_.next(pullKey, std::chrono::system_clock::now());
    c.waitingReason = image.status().reason().empty() ? "ErrImagePull" : image.status().reason();
    c.waitingMessage = image.status().message();
    event(rec, "Warning", "Failed",
          "Failed to pull image \"" + ref + "\": " + image.status().message());
    event(rec, "Warning", "Failed", "Error: " + c.waitingReason);
    return std::nullopt;
  }
  double secs = std::chrono::duration<double>(Steady::now() - started).count();
  std::ostringstream msg;
  msg << "Successfully pulled image \"" << ref << "\" in " << std::fixed << std::setprecision(3)
      << secs << "s. Image size: " << image->size << " bytes.";
  event(rec, "Normal", "Pulled", msg.str());
  return *image;
}

// The process: environment (the image's, then the container's resolved env with HOSTNAME
// first), command and args, working directory, user and security settings.
core::Result<runtime::ContainerConfig> PodManager::processConfig(const PodRecord& rec,
                                                                 const json::object& spec,
                                                                 const images::Image& image) {
  PodRuntimeFacts facts{rec.ip, o_.hostIP, o_.nodeName, o_.nodeMilliCpu, o_.nodeMemoryBytes,
                        rec.ips};
  auto env = resolveEnv(rec.pod, spec, objects_, facts);
  if (!env.ok()) return stepFailed("CreateContainerConfigError", env.status().message());
  env->emplace(env->begin(), "HOSTNAME", rec.hostNetwork ? o_.nodeName : rec.name);
  auto envList = mergeEnv(image.config.env, *env);
  std::map<std::string, std::string> envMap;
  for (const auto& kv : envList) envMap[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  runtime::ContainerConfig cfg;
  cfg.args = containerArgs(spec, image.config, envMap);
  if (cfg.args.empty()) return stepFailed("CreateContainerError", "no command specified");
  cfg.env = envList;
  cfg.cwd = str(spec, "workingDir");
  if (cfg.cwd.empty()) cfg.cwd = image.config.workingDir.empty() ? "/" : image.config.workingDir;
  applyUser(cfg, rec.pod, spec, image.config);
  applySecurityContext(cfg, spec);
  return cfg;
}

// The next attempt's directory (with its meta.json, which a restarted agent reads) and log.
PodManager::ContainerInstance PodManager::newInstance(const PodRecord& rec,
                                                      const ContainerRecord& c,
                                                      const std::string& ref,
                                                      const images::Image& image) {
  ContainerInstance inst;
  inst.id = randomId();
  inst.dir = o_.dataDir + "/containers/" + inst.id;
  std::error_code ec;
  fs::create_directories(inst.dir, ec);
  inst.attempt = c.current ? c.current->attempt + 1 : c.restartCount;
  std::string logDir =
      o_.dataDir + "/logs/" + rec.ns + "_" + rec.name + "_" + rec.uid + "/" + c.name;
  fs::create_directories(logDir, ec);
  inst.image = image.repoTags.empty() ? ref : image.repoTags.front();
  inst.imageID = image.repoDigests.empty() ? image.id : image.repoDigests.front();
  inst.logPath = logDir + "/" + std::to_string(inst.attempt) + ".log";
  json::object meta{{"podUid", rec.uid},      {"container", c.name}, {"attempt", inst.attempt},
                    {"init", c.init},         {"image", inst.image}, {"imageID", inst.imageID},
                    {"logPath", inst.logPath}};
  std::ofstream(inst.dir + "/meta.json") << json::serialize(meta);
  return inst;
}

// The OCI bundle: the root filesystem's overlay, the pod's namespaces and cgroup, resources,
// OOM score, mounts, then config.json.
core::Status PodManager::writeBundle(PodRecord& rec, const ContainerRecord& c,
                                     const json::object& spec, const images::Image& image,
                                     const ContainerInstance& inst, runtime::ContainerConfig& cfg) {
  if (auto st = images_.mountRootfs(image, inst.dir + "/scratch", inst.dir + "/rootfs"); !st.ok())
    return stepFailed("CreateContainerError", st.message());
  rec.trace.mark("rootfs");
  cfg.rootfs = inst.dir + "/rootfs";
  cfg.cgroupsPath = runtime::containerCgroup(rec.uid, inst.id);
  auto ns = runtime::podNamespacePaths(rec.dir);
  cfg.hostNetwork = rec.hostNetwork;
  cfg.netns = ns.net;
  cfg.ipcns = ns.ipc;
  cfg.utsns = ns.uts;
  cfg.resources = containerResources(spec);
  cfg.oomScoreAdj =
      runtime::settableOomScoreAdj(oomScoreAdj(podQosClass(rec.pod), spec, o_.nodeMemoryBytes));
  auto mounts = containerMounts(rec, c.name, spec);
  if (!mounts.ok()) return mounts.status();
  cfg.mounts = std::move(*mounts);
  std::ofstream(inst.dir + "/config.json") << json::serialize(runtime::buildOciSpec(cfg));
  return {};
}

runtime::ShimOptions PodManager::shimOptions(const ContainerInstance& inst,
                                             const runtime::ContainerConfig& cfg,
                                             const json::object& spec) const {
  runtime::ShimOptions shim;
  shim.id = inst.id;
  shim.runcRoot = runc_.root();
  shim.runcBinary = runc_.binary();
  shim.bundle = inst.dir;
  shim.logPath = inst.logPath;
  shim.logMaxSize = o_.containerLogMaxSize;
  shim.logMaxFiles = o_.containerLogMaxFiles;
  shim.cgroup = cfg.cgroupsPath;
  shim.stdinOpen = cfg.stdinOpen;
  shim.stdinOnce = boolField(spec, "stdinOnce", false);
  shim.tty = cfg.tty;
  return shim;
}

// The new attempt replaces the previous one, which becomes lastState; probes start over.
void PodManager::adoptInstance(ContainerRecord& c, ContainerInstance inst,
                               const json::object& spec) {
  if (c.current) {
    if (c.current->exit) c.last = terminatedStateOf(*c.current);
    c.lastLogPath = c.current->logPath;
    removeInstance(*c.current);
  }
  c.restartCount = inst.attempt;
  c.current = std::move(inst);
  c.waitingReason.clear();
  c.waitingMessage.clear();
  c.liveness.reset();
  c.readiness.reset();
  c.startup.reset();
  c.startupDone = !obj(spec, "startupProbe");
  c.ready = c.startupDone && !obj(spec, "readinessProbe");
}

}  // namespace berth::kubelet
