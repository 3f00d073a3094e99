#pragma once
// PodManager: the pod workers of one node. sync(pod) makes the node match one pod of the API:
// its sandbox (pinned namespaces, CNI attachment, /etc/hosts and resolv.conf, volumes, pod
// cgroup), its init containers in order and its containers (restart policy, CrashLoopBackOff,
// probes), graceful termination when the pod is deleted (SIGTERM, grace period, SIGKILL, then
// the final delete with grace period 0), and the pod's status through the status subresource.
// Records of pods and containers are kept on disk (<data>/pods/<uid>, <data>/containers/<id>),
// so an agent restart finds its running containers (their shims kept them) and its leftovers.
//
// It also implements streaming::ContainerLocator for the streaming server and stats::PodSource
// for the summary API.
//
// Thread-safety: sync() of one pod key runs on one thread at a time (the agent's work queue
// guarantees it); different pods sync in parallel. find()/podNetns() are safe from any thread.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/event_recorder.h"
#include "client/indexer.h"
#include "client/rest_client.h"
#include "kubelet/backoff.h"
#include "kubelet/container_config.h"
#include "kubelet/images/image_service.h"
#include "kubelet/lifecycle_hooks.h"
#include "kubelet/network/cni.h"
#include "kubelet/pod_status.h"
#include "kubelet/probes.h"
#include "kubelet/runtime/oci_spec.h"
#include "kubelet/runtime/runc.h"
#include "kubelet/runtime/shim.h"
#include "kubelet/start_trace.h"
#include "kubelet/stats/stats_provider.h"
#include "kubelet/streaming/container_locator.h"
#include "kubelet/volumes.h"

namespace berth::kubelet {

struct PodManagerOptions {
  std::string nodeName;
  std::string dataDir;
  std::string hostIP;
  std::string berthBinary;  // for `berth shim`
  std::string runcBinary = "runc";
  std::string runtimeRoot;  // the OCI runtime's state root; empty = <dataDir>/runc
  std::string clusterDns = "10.96.0.10";
  std::string clusterDomain = "cluster.local";
  long long nodeMilliCpu = 0, nodeMemoryBytes = 0;
  // Plug pod networks into the host's own network namespace (see network::inHostNetworkNamespace).
  bool allowHostNetworkNamespace = false;
  int64_t containerLogMaxSize = 10 << 20;  // rotation of each container's log file
  int containerLogMaxFiles = 5;
};

class PodManager : public streaming::ContainerLocator, public stats::PodSource {
 public:
  PodManager(PodManagerOptions options, client::RestClient& rest, client::EventRecorder& events,
             images::ImageService& images, network::Cni& cni, ObjectSource& objects,
             TokenSource* tokens);
  ~PodManager() override;

  // Loads the records this node kept on disk (containers started before an agent restart).
  void recover();
  // Syncs the pod `ns/name`; `pod` is the API's current object, null when it is gone. Returns
  // when to sync it again at the latest (zero: only when it changes).
  std::chrono::milliseconds sync(const std::string& ns, const std::string& name,
                                 const client::ObjectPtr& pod);
  // Node shutdown (node_shutdown.h, pod_manager_shutdown.cpp), called once the pod workers
  // have stopped: stops the pod's containers with `graceSeconds` (preStop, SIGTERM, SIGKILL at
  // the deadline), waits for them to exit, releases the sandbox and writes the final status
  // (phase Failed, reason Terminated, DisruptionTarget). `pod` is the API's object.
  void killForNodeShutdown(const boost::json::object& pod, int64_t graceSeconds);
  // Whether the pod ns/name with this uid is to terminate now (deleted, being deleted, replaced
  // or its static manifest gone): a running postStart hook polls it and ends early. Set once,
  // before the first sync; called from pod workers.
  using TerminationCheck =
      std::function<bool(const std::string& ns, const std::string& name, const std::string& uid)>;
  void setTerminationCheck(TerminationCheck check) { terminationCheck_ = std::move(check); }
  // Keys ("ns/name") of the pods this node has records of.
  std::vector<std::string> knownKeys();
  size_t podCount();

  // ContainerLocator
  std::optional<streaming::ContainerInfo> find(const std::string& ns, const std::string& pod,
                                               const std::string& container) override;
  std::optional<std::string> podNetns(const std::string& ns, const std::string& pod) override;
  // stats::PodSource (pod_manager_stats.cpp): the running pods and containers with their cgroups.
  std::vector<stats::PodRef> statsPods() override;

  // A pod's record (exposed for the implementation files; not for other components).
  struct ContainerInstance {
    std::string id, dir, logPath, image, imageID;
    int attempt = 0;
    std::optional<runtime::ContainerStarted> started;
    std::optional<runtime::ContainerExit> exit;
    std::chrono::steady_clock::time_point startedSteady;
    bool termSent = false, killSent = false;
    std::chrono::steady_clock::time_point killDeadline;
  };
  struct ContainerRecord {
    std::string name;
    bool init = false;
    std::optional<ContainerInstance> current;
    std::optional<TerminatedState> last;
    std::string lastLogPath;
    int restartCount = 0;
    std::string waitingReason = "ContainerCreating", waitingMessage;
    ProbeTracker liveness, readiness, startup;
    bool ready = false, startupDone = false;
  };
  struct PodRecord {
    std::string uid, ns, name, dir;
    bool sandboxReady = false, hostNetwork = false, terminalTornDown = false;
    std::string ip, startTime;
    std::vector<std::string> ips;  // every pod IP, one per family, `ip` (the primary) first
    std::map<std::string, ContainerRecord> containers;
    std::map<std::string, PodVolume> volumes;
    std::chrono::steady_clock::time_point volumesRefreshed;
    bool terminating = false;
    std::chrono::steady_clock::time_point killDeadline;
    std::string lastStatus;  // the status last written, serialized
    boost::json::object pod;
    StartTrace trace;  // the first start's steps (start_trace.h; off by default)
  };

 private:
  using Ms = std::chrono::milliseconds;
  std::shared_ptr<PodRecord> recordFor(const boost::json::object& pod);
  Ms syncLive(PodRecord& rec);
  Ms terminate(PodRecord& rec, bool podGone);
  void refresh(ContainerRecord& c);
  bool anyRunning(const PodRecord& rec);
  void writeStatus(PodRecord& rec);
  PodObservation observe(PodRecord& rec);
  void publishLocator(const PodRecord& rec);
  std::vector<stats::VolumeRef> statsVolumes(const PodRecord& rec);  // pod_manager_stats.cpp
  void event(const PodRecord& rec, const char* type, const char* reason, const std::string& msg);

  // Sandbox (pod_sandbox.cpp)
  core::Status ensureSandbox(PodRecord& rec);
  // Volume setup started before the sandbox (pod_sandbox.cpp); invalid when not started.
  using EarlyVolumes = std::future<core::Result<std::map<std::string, PodVolume>>>;
  EarlyVolumes startVolumesEarly(PodRecord& rec);
  // With `early` started: its result, else set up (or refreshed) now.
  core::Status ensureVolumes(PodRecord& rec, bool force, EarlyVolumes* early = nullptr);
  void teardownSandbox(PodRecord& rec);
  void savePodRecord(const PodRecord& rec);

  // Containers (pod_containers.cpp)
  Ms syncContainers(PodRecord& rec);
  // Starts the container `spec` as its next attempt; false when it could not be started (it is
  // then waiting with the reason). Its steps are in container_start.cpp.
  bool startContainer(PodRecord& rec, ContainerRecord& c, const boost::json::object& spec);
  std::optional<images::Image> imageFor(PodRecord& rec, ContainerRecord& c,
                                        const boost::json::object& spec);
  core::Result<runtime::ContainerConfig> processConfig(const PodRecord& rec,
                                                       const boost::json::object& spec,
                                                       const images::Image& image);
  ContainerInstance newInstance(const PodRecord& rec, const ContainerRecord& c,
                                const std::string& ref, const images::Image& image);
  core::Status writeBundle(PodRecord& rec, const ContainerRecord& c,
                           const boost::json::object& spec, const images::Image& image,
                           const ContainerInstance& inst, runtime::ContainerConfig& cfg);
  runtime::ShimOptions shimOptions(const ContainerInstance& inst,
                                   const runtime::ContainerConfig& cfg,
                                   const boost::json::object& spec) const;
  void adoptInstance(ContainerRecord& c, ContainerInstance inst, const boost::json::object& spec);
  // Leaves `c` waiting with `why`'s reason and message (and a Failed event); returns false.
  bool waitWith(PodRecord& rec, ContainerRecord& c, const core::Status& why);
  // Decides a dead container's restart; returns whether it was (re)started or must wait
  // (*wait set to the remaining backoff).
  bool restartIfDue(PodRecord& rec, ContainerRecord& c, const boost::json::object& spec, Ms* wait);
  void runProbes(PodRecord& rec, ContainerRecord& c, const boost::json::object& spec);
  void stopContainer(PodRecord& rec, ContainerRecord& c, long long graceSeconds,
                     const std::string& why);
  void removeInstance(const ContainerInstance& inst);
  // Lifecycle hooks (lifecycle_hooks.h): postStart right after a start; a failure stops it.
  void runPostStart(PodRecord& rec, ContainerRecord& c, const boost::json::object& spec);
  HookTarget hookTarget(const PodRecord& rec, const ContainerRecord& c) const;

  const PodManagerOptions o_;
  client::RestClient& rest_;
  client::EventRecorder& events_;
  images::ImageService& images_;
  network::Cni& cni_;
  ObjectSource& objects_;
  TokenSource* tokens_;
  runtime::Runc runc_;
  Backoff backoff_;
  TerminationCheck terminationCheck_;

  std::mutex mu_;  // guards records_ and locator_
  std::map<std::string, std::shared_ptr<PodRecord>> records_;  // by uid
  struct LocatorEntry {
    std::string netns;
    std::string uid, startTime;                    // for statsPods()
    std::map<std::string, std::string> startedAt;  // by container, of running containers
    bool hostNetwork = false;
    std::map<std::string, std::string> rootfsDirs;  // by container: the writable layer
    std::vector<stats::VolumeRef> volumes;
    std::vector<std::pair<std::string, streaming::ContainerInfo>> containers;
  };
  std::map<std::string, LocatorEntry> locator_;  // by "ns/name"
};

// The terminated state of an instance that has exited.
TerminatedState terminatedStateOf(const PodManager::ContainerInstance& inst);

}  // namespace berth::kubelet
