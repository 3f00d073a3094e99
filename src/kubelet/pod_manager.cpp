#include "kubelet/pod_manager.h"

#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

const client::Resource kPods{"", "v1", "pods", true};

std::string metaField(const json::object& pod, const char* key) {
  const auto* m = obj(pod, "metadata");
  return m ? str(*m, key) : std::string();
}

bool running(const PodManager::ContainerRecord& c) {
  return c.current && c.current->started && !c.current->exit;
}

}  // namespace

TerminatedState terminatedStateOf(const PodManager::ContainerInstance& inst) {
  TerminatedState t;
  const auto& e = *inst.exit;
  t.exitCode = e.exitCode;
  t.reason = e.reason.empty() ? terminatedReason(e.exitCode, e.oomKilled) : e.reason;
  t.message = e.message;
  t.startedAt = e.startedAt;
  t.finishedAt = e.finishedAt;
  t.containerID = "berth://" + inst.id;
  return t;
}

PodManager::PodManager(PodManagerOptions options, client::RestClient& rest,
                       client::EventRecorder& events, images::ImageService& images,
                       network::Cni& cni, ObjectSource& objects, TokenSource* tokens)
    : o_(std::move(options)),
      rest_(rest),
      events_(events),
      images_(images),
      cni_(cni),
      objects_(objects),
      tokens_(tokens),
      runc_(o_.runtimeRoot.empty() ? o_.dataDir + "/runc" : o_.runtimeRoot, o_.runcBinary) {
  std::error_code ec;
  for (const char* d : {"/pods", "/containers", "/logs"})
    fs::create_directories(o_.dataDir + d, ec);
  fs::create_directories(runc_.root(), ec);
}

PodManager::~PodManager() = default;

void PodManager::recover() {
  std::error_code ec;
  std::lock_guard lock(mu_);
  for (const auto& e : fs::directory_iterator(o_.dataDir + "/pods", ec)) {
    auto meta = runtime::readJsonFile(e.path() / "pod.json");
    if (!meta) continue;
    auto rec = std::make_shared<PodRecord>();
    rec->uid = str(*meta, "uid");
    rec->ns = str(*meta, "namespace");
    rec->name = str(*meta, "name");
    rec->ip = str(*meta, "ip");
    if (const auto* ips = arr(*meta, "ips"))
      for (const auto& ip : *ips)
        if (ip.is_string()) rec->ips.emplace_back(ip.as_string());
    rec->startTime = str(*meta, "startTime");
    rec->hostNetwork = boolField(*meta, "hostNetwork", false);
    rec->dir = e.path();
    rec->sandboxReady = runtime::namespacesPinned(rec->dir) && !rec->ip.empty();
    records_[rec->uid] = rec;
  }
  for (const auto& e : fs::directory_iterator(o_.dataDir + "/containers", ec)) {
    auto meta = runtime::readJsonFile(e.path() / "meta.json");
    auto it = meta ? records_.find(str(*meta, "podUid")) : records_.end();
    if (it == records_.end()) {
      // A container without a pod record: a leftover of a half-started pod.
      ContainerInstance orphan;
      orphan.id = e.path().filename();
      orphan.dir = e.path();
      removeInstance(orphan);
      continue;
    }
    auto& c = it->second->containers[str(*meta, "container")];
    c.name = str(*meta, "container");
    c.init = boolField(*meta, "init", false);
    ContainerInstance inst;
    inst.id = e.path().filename();
    inst.dir = e.path();
    inst.attempt = static_cast<int>(intField(*meta, "attempt", 0));
    inst.image = str(*meta, "image");
    inst.imageID = str(*meta, "imageID");
    inst.logPath = str(*meta, "logPath");
    inst.started = runtime::readStarted(inst.dir);
    inst.exit = runtime::readExit(inst.dir);
    inst.startedSteady = std::chrono::steady_clock::now();
    if (c.current && c.current->attempt > inst.attempt) {
      removeInstance(inst);
      continue;
    }
    if (c.current) removeInstance(*c.current);
    c.restartCount = inst.attempt;
    c.current = inst;
    c.startupDone = c.ready = running(c);
  }
  // Sandboxes whose pins this mount namespace cannot see are pinned again from a running
  // container, so the pod keeps its namespaces and IP.
  for (auto& [uid, rec] : records_) {
    if (rec->sandboxReady || rec->ip.empty() || rec->hostNetwork) continue;
    for (auto& [name, c] : rec->containers) {
      if (!running(c) || c.current->started->pid <= 0) continue;
      if (runtime::repinPodNamespaces(rec->dir, c.current->started->pid).ok()) {
        rec->sandboxReady = true;
        break;
      }
    }
  }
}

std::vector<std::string> PodManager::knownKeys() {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [uid, r] : records_) keys.push_back(r->ns + "/" + r->name);
  return keys;
}

size_t PodManager::podCount() {
  std::lock_guard lock(mu_);
  return records_.size();
}

std::shared_ptr<PodManager::PodRecord> PodManager::recordFor(const json::object& pod) {
  std::string uid = metaField(pod, "uid");
  std::lock_guard lock(mu_);
  auto& rec = records_[uid];
  if (!rec) {
    rec = std::make_shared<PodRecord>();
    rec->uid = uid;
    rec->ns = metaField(pod, "namespace");
    rec->name = metaField(pod, "name");
    rec->dir = o_.dataDir + "/pods/" + uid;
    if (const auto* spec = obj(pod, "spec")) rec->hostNetwork = boolField(*spec, "hostNetwork", false);
  }
  return rec;
}

std::chrono::milliseconds PodManager::sync(const std::string& ns, const std::string& name,
                                           const client::ObjectPtr& pod) {
  const json::object* p = pod && pod->is_object() ? &pod->as_object() : nullptr;
  std::string uid = p ? metaField(*p, "uid") : "";
  std::vector<std::shared_ptr<PodRecord>> stale;
  {
    std::lock_guard lock(mu_);
    for (const auto& [u, r] : records_)
      if (r->ns == ns && r->name == name && u != uid) stale.push_back(r);
  }
  Ms again{0};
  auto soonest = [&](Ms d) {
    if (d.count() > 0 && (again.count() == 0 || d < again)) again = d;
  };
  for (auto& r : stale) soonest(terminate(*r, true));
  if (!p) return again;
  const auto* spec = obj(*p, "spec");
  if (!spec || str(*spec, "nodeName") != o_.nodeName) return again;
  auto rec = recordFor(*p);
  rec->pod = *p;
  const auto* meta = obj(*p, "metadata");
  if (meta && meta->contains("deletionTimestamp")) {
    soonest(terminate(*rec, false));
  } else {
    soonest(syncLive(*rec));
  }
  return again;
}

void PodManager::refresh(ContainerRecord& c) {
  if (!c.current || c.current->exit) return;
  if (!c.current->started) c.current->started = runtime::readStarted(c.current->dir);
  c.current->exit = runtime::readExit(c.current->dir);
}

bool PodManager::anyRunning(const PodRecord& rec) {
  for (const auto& [n, c] : rec.containers)
    if (running(c)) return true;
  return false;
}

void PodManager::event(const PodRecord& rec, const char* type, const char* reason,
                       const std::string& msg) {
  json::object ref{{"kind", "Pod"},
                   {"apiVersion", "v1"},
                   {"metadata", {{"name", rec.name}, {"namespace", rec.ns}, {"uid", rec.uid}}}};
  if (auto rv = metaField(rec.pod, "resourceVersion"); !rv.empty())
    ref["metadata"].as_object()["resourceVersion"] = rv;
  events_.record(ref, type, reason, msg);
}

std::chrono::milliseconds PodManager::syncLive(PodRecord& rec) {
  std::string apiPhase;
  if (const auto* st = obj(rec.pod, "status")) apiPhase = str(*st, "phase");
  for (auto& [n, c] : rec.containers) refresh(c);
  if ((apiPhase == "Succeeded" || apiPhase == "Failed") && !anyRunning(rec)) {
    // A finished pod keeps its status; its sandbox and IP are released.
    if (!rec.terminalTornDown) {
      teardownSandbox(rec);
      rec.terminalTornDown = true;
    }
    publishLocator(rec);
    return Ms(0);
  }
  if (!rec.sandboxReady && rec.startTime.empty()) rec.trace.begin(-1);
  EarlyVolumes early = startVolumesEarly(rec);  // joined below, or on return
  if (auto st = ensureSandbox(rec); !st.ok()) {
    event(rec, "Warning", "FailedCreatePodSandBox",
          "Failed to create pod sandbox: " + st.message());
    writeStatus(rec);
    return Ms(2000);
  }
  if (auto st = ensureVolumes(rec, false, &early); !st.ok()) {
    event(rec, "Warning", "FailedMount", "MountVolume.SetUp failed: " + st.message());
    writeStatus(rec);
    return Ms(2000);
  }
  rec.trace.mark("volumes");
  Ms next = syncContainers(rec);
  writeStatus(rec);
  rec.trace.mark("status");
  rec.trace.finish(rec.ns + "/" + rec.name);
  publishLocator(rec);
  return next;
}

std::chrono::milliseconds PodManager::terminate(PodRecord& rec, bool podGone) {
  auto now = std::chrono::steady_clock::now();
  for (auto& [n, c] : rec.containers) refresh(c);
  if (!rec.terminating) {
    rec.terminating = true;
    long long grace = 30;
    if (const auto* spec = obj(rec.pod, "spec"))
      grace = intField(*spec, "terminationGracePeriodSeconds", 30);
    if (const auto* meta = obj(rec.pod, "metadata"))
      grace = intField(*meta, "deletionGracePeriodSeconds", grace);
    if (podGone) grace = 0;
    // In parallel, as upstream's killContainersWithSyncResult: each container's preStop hook
    // may take up to the whole grace period.
    std::vector<std::thread> stops;
    for (auto& [n, c] : rec.containers)
      if (running(c))
        stops.emplace_back([this, &rec, &c = c, grace] {
          stopContainer(rec, c, grace, "Stopping container " + c.name);
        });
    for (auto& t : stops) t.join();
  }
  for (auto& [n, c] : rec.containers) {
    if (running(c) && !c.current->killSent && now >= c.current->killDeadline) {
      (void)runc_.kill(c.current->id, SIGKILL, true);
      c.current->killSent = true;
    }
  }
  if (anyRunning(rec)) return Ms(100);
  for (auto& [n, c] : rec.containers)
    if (c.current) removeInstance(*c.current);
  teardownSandbox(rec);
  if (!podGone) {
    json::object options{{"gracePeriodSeconds", 0},
                         {"preconditions", {{"uid", rec.uid}}}};
    json::value body = options;
    auto r = rest_.remove(kPods, rec.ns, rec.name, &body);
    if (!r.ok() && !r.status().isNotFound() && !r.status().isConflict()) return Ms(1000);
  }
  std::error_code ec;
  fs::remove_all(o_.dataDir + "/logs/" + rec.ns + "_" + rec.name + "_" + rec.uid, ec);
  fs::remove_all(rec.dir, ec);
  backoff_.forget(rec.uid + "/");
  std::lock_guard lock(mu_);
  records_.erase(rec.uid);
  if (auto it = locator_.find(rec.ns + "/" + rec.name); it != locator_.end()) {
    bool mine = false;  // a newer pod of the same name may own the entry already
    for (const auto& [name, info] : it->second.containers)
      if (info.runtimeRoot == runc_.root() && info.logPath.find(rec.uid) != std::string::npos)
        mine = true;
    if (mine || it->second.containers.empty()) locator_.erase(it);
  }
  return Ms(0);
}

PodObservation PodManager::observe(PodRecord& rec) {
  PodObservation o;
  o.sandboxReady = rec.sandboxReady;
  o.podIP = rec.hostNetwork ? o_.hostIP : rec.ip;
  if (!rec.hostNetwork) o.podIPs = rec.ips;
  o.hostIP = o_.hostIP;
  o.startTime = rec.startTime;
  o.qosClass = podQosClass(rec.pod);
  o.now = runtime::rfc3339Now();
  const auto* spec = obj(rec.pod, "spec");
  if (spec && !str(*spec, "restartPolicy").empty()) o.restartPolicy = str(*spec, "restartPolicy");
  for (const char* list : {"initContainers", "containers"}) {
    const auto* cs = spec ? arr(*spec, list) : nullptr;
    if (!cs) continue;
    for (const auto& cv : *cs) {
      if (!cv.is_object()) continue;
      std::string name = str(cv.as_object(), "name");
      auto& c = rec.containers[name];
      c.name = name;
      ContainerObservation co;
      co.name = name;
      co.image = str(cv.as_object(), "image");
      co.restartCount = c.restartCount;
      co.last = c.last;
      co.waitingReason = c.waitingReason.empty() ? "ContainerCreating" : c.waitingReason;
      co.waitingMessage = c.waitingMessage;
      if (c.current) {
        co.imageID = c.current->imageID;
        co.containerID = "berth://" + c.current->id;
        if (!c.current->image.empty()) co.image = c.current->image;
        if (c.current->exit) {
          if (c.waitingReason == "CrashLoopBackOff") {
            co.state = ContainerObservation::State::kWaiting;
            co.last = terminatedStateOf(*c.current);
          } else {
            co.state = ContainerObservation::State::kTerminated;
            co.terminated = terminatedStateOf(*c.current);
          }
        } else if (c.current->started) {
          co.state = ContainerObservation::State::kRunning;
          co.startedAt = c.current->started->startedAt;
          co.ready = c.ready;
          co.started = c.startupDone;
        }
      }
      (std::string(list) == "initContainers" ? o.initContainers : o.containers).push_back(co);
    }
  }
  return o;
}

void PodManager::writeStatus(PodRecord& rec) {
  const json::object empty;
  const auto* old = obj(rec.pod, "status");
  auto status = computePodStatus(old ? *old : empty, observe(rec));
  // Transition times are recomputed from the pod the informer last saw; compare without them.
  std::string key = json::serialize(status);
  if (key == rec.lastStatus) return;
  json::object patch{{"status", status}};
  client::PatchOptions opts;
  opts.subresource = "status";
  auto r = rest_.patch(kPods, rec.ns, rec.name, client::PatchType::kMerge, json::serialize(patch),
                       opts);
  if (r.ok()) rec.lastStatus = key;
}

void PodManager::publishLocator(const PodRecord& rec) {
  LocatorEntry entry;
  entry.uid = rec.uid;
  entry.startTime = rec.startTime;
  // A host-network pod shares the agent's (the node's) network namespace.
  entry.netns = rec.hostNetwork ? "/proc/" + std::to_string(::getpid()) + "/ns/net"
                                : runtime::podNamespacePaths(rec.dir).net;
  const auto* spec = obj(rec.pod, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const auto* cs = spec ? arr(*spec, list) : nullptr;
    if (!cs) continue;
    for (const auto& cv : *cs) {
      if (!cv.is_object()) continue;
      std::string name = str(cv.as_object(), "name");
      auto it = rec.containers.find(name);
      if (it == rec.containers.end() || !it->second.current) continue;
      const auto& c = it->second;
      streaming::ContainerInfo info;
      info.runtimeRoot = runc_.root();
      info.containerId = c.current->id;
      info.pid = running(c) ? c.current->started->pid : 0;
      info.netnsPath = entry.netns;
      info.logPath = c.current->logPath;
      info.previousLogPath = c.lastLogPath;
      info.tty = boolField(cv.as_object(), "tty", false);
      info.stdinOpen = boolField(cv.as_object(), "stdin", false);
      info.attachSocket = running(c) ? runtime::attachSocketPath(c.current->dir) : "";
      if (running(c)) entry.startedAt[name] = c.current->started->startedAt;
      entry.rootfsDirs[name] = c.current->dir + "/scratch";
      entry.containers.emplace_back(name, info);
    }
  }
  entry.hostNetwork = rec.hostNetwork;
  entry.volumes = statsVolumes(rec);
  std::lock_guard lock(mu_);
  locator_[rec.ns + "/" + rec.name] = std::move(entry);
}

std::optional<streaming::ContainerInfo> PodManager::find(const std::string& ns,
                                                         const std::string& pod,
                                                         const std::string& container) {
  std::lock_guard lock(mu_);
  auto it = locator_.find(ns + "/" + pod);
  if (it == locator_.end() || it->second.containers.empty()) return std::nullopt;
  if (container.empty()) return it->second.containers.front().second;
  for (const auto& [name, info] : it->second.containers)
    if (name == container) return info;
  return std::nullopt;
}

std::optional<std::string> PodManager::podNetns(const std::string& ns, const std::string& pod) {
  std::lock_guard lock(mu_);
  auto it = locator_.find(ns + "/" + pod);
  if (it == locator_.end()) return std::nullopt;
  return it->second.netns;
}

}  // namespace berth::kubelet
