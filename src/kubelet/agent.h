#pragma once
// Agent: the node agent (kubelet) of one node. It registers the Node, renews its Lease in
// kube-node-lease every 10 s and posts the node's status, watches the pods bound to the node
// (fieldSelector spec.nodeName=<node>) and hands each to the PodManager's workers, which make
// them real containers and report their status. It talks to the cluster only through the API.
//
// Thread-safety: start()/stop() from the owning thread; locator() from any thread after start.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/rest_client.h"
#include "client/work_queue.h"
#include "kubelet/images/image_service.h"
#include "kubelet/local_path_cleaner.h"
#include "kubelet/network/cni.h"
#include "kubelet/network/routes.h"
#include "kubelet/node_dns.h"
#include "kubelet/node_shutdown.h"
#include "kubelet/node_status.h"
#include "kubelet/pod_manager.h"
#include "kubelet/runtime/oci_runtime.h"
#include "kubelet/static_pods.h"
#include "kubelet/stats/stats_provider.h"
#include "kubelet/streaming/streaming_server.h"
#include "kubelet/token_cache.h"
#include "metrics/metrics.h"
#include "netpol/controller.h"
#include "proxy/proxier.h"

namespace berth::kubelet {

struct AgentOptions {
  client::RestConfig rest;
  std::string nodeName;       // empty = the host name
  std::string dataDir;        // the node's state: pods, containers, logs, CNI, runc
  std::string podCidr = "10.244.0.0/24";  // used while the Node has no spec.podCIDR
  std::string nodeIP;         // empty = detected
  int kubeletPort = 10250;     // the streaming server's port (0 = any free port)
  std::string clientCaFile;   // CA of the API server's client cert; empty = the kubeconfig's CA
  std::string berthBinary;    // empty = this executable
  std::string runcBinary = "runc";
  std::string containerRuntime = "runc";  // auto | runc | crun (runtime/oci_runtime.h)
  std::string cniBinDir = "/usr/lib/cni";
  bool allowHostNetworkNamespace = false;
  bool disableNetworkPolicy = false;  // else NetworkPolicies are enforced here (src/netpol)
  // The credentials NetworkPolicy enforcement reads every pod with (its own identity,
  // system:berth:network-policy: a node's may read only its own pods); unset = `rest`.
  std::optional<client::RestConfig> networkPolicyRest;
  bool disableDns = false;  // no in-process cluster DNS server (node_dns.h) on this node
  // The kube-dns Service's ClusterIP: pods' nameserver and the zone's SOA host. The commands
  // resolve --cluster-dns (default: the 10th address of the Service range); empty = 10.96.0.10.
  std::string clusterDns;
  // Pod workers. A pod start holds one for the shim's runc create + start (hundreds of ms on a
  // loaded machine, mostly waiting on processes), so 4 queued pods behind each other at 5 pods/s
  // (bench/pod_start.sh: p50 2.9 s at 4, 1.4 s at 16 under load); upstream runs one goroutine
  // per pod.
  int workers = 16;
  std::chrono::seconds heartbeat{10};
  // null = the node's image store (LocalImageService under <dataDir>/images, registries from
  // registryConfig); busyboxImages = every image is the host's busybox (busybox_images.h).
  images::ImageService* images = nullptr;
  std::string registryConfig;  // k3s-style registries.yaml; missing file = no mirrors
  // Static pod manifests (static_pods.h); empty = <dataDir>/pod-manifests, "none" = off.
  std::string podManifestPath;
  std::chrono::milliseconds podManifestScan{1000};  // how often the directory is re-read
  bool busyboxImages = false;
  metrics::Registry* metrics = nullptr;
  // The service proxy of this node (nftables in the agent's network namespace); off in the
  // host's own namespace unless allowHostNetworkNamespace.
  bool disableProxy = false;
  proxy::RulesetConfig proxyRules;
  // The proxy's --healthz-bind-address ("" = off) and --nodeport-addresses (proxier.h).
  std::string proxyHealthzBindAddress = "0.0.0.0:10256";
  std::vector<std::string> nodePortAddresses;
  // Container log rotation (logs/log_files.h), as the kubelet's flags of the same names.
  std::string containerLogMaxSize = "10Mi";
  int containerLogMaxFiles = 5;
  // Graceful node shutdown on SIGTERM/SIGINT (node_shutdown.h); 0 = off.
  ShutdownConfig shutdown;
  // Where this node keeps local-path volumes (announced on the Node, core/local_path.h; the
  // only directory whose children local_path_cleaner.h removes). Empty = <dataDir>/storage.
  std::string localPathDir;
  // Stats housekeeping (stats/stats_provider.h): cadvisor's --housekeeping_interval and the
  // kubelet's --volume-stats-agg-period (directory usage walks).
  std::chrono::milliseconds statsHousekeeping{10000};
  std::chrono::milliseconds volumeStatsPeriod{60000};
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  core::Status start();
  // With a shutdown grace period (AgentOptions::shutdown): the node goes NotReady and its pods
  // are killed and marked Failed (node_shutdown.h, agent_shutdown.cpp). Call before stop();
  // without a grace period it does nothing and the containers outlive the agent.
  void shutdownGracefully();
  void stop();
  const std::string& nodeName() const { return o_.nodeName; }
  streaming::ContainerLocator& locator() { return *pods_; }

 private:
  class ApiObjects;
  // The steps of start(), in their order.
  core::Result<runtime::OciRuntime> prepareHost();
  core::Status connectToApi();
  core::Status openImages();
  core::Status prepareNode();
  core::Status startPodManager(const std::string& runtimeName);
  void startStatsAndStreaming();
  core::Status startPodInformer();
  void startPodSources();
  void startNodeServices();
  void startNetworkPolicy();
  core::Status registerNode();
  void announceLocalPathDir(const boost::json::object& node);
  void startProxy();
  void heartbeatLoop();
  void renewLease();
  void postNodeStatus();
  // The node's spec.podCIDRs into the CNI config and the node DNS.
  void applyPodCidrs(const boost::json::object& node);
  void startNodeDns();
  void workerLoop();
  void startPodRoutes();
  // Static pods (agent_static_pods.cpp).
  void startStaticPods();
  void staticPodLoop();
  // What the pod worker syncs for `key`: the static pod (with its mirror's status) when there
  // is one, after creating or replacing its mirror; nothing for an orphaned mirror (which it
  // deletes); else the API's pod.
  client::ObjectPtr podToSync(const std::string& key, const client::ObjectPtr& apiPod,
                              std::chrono::milliseconds* again);
  // PodManager::TerminationCheck: the pod's source (its static manifest, else the API) no longer
  // has it with this uid, or the API is deleting it.
  bool podTerminationRequested(const std::string& ns, const std::string& name,
                               const std::string& uid);
  std::string nodeUid();

  AgentOptions o_;
  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<client::EventRecorder> events_;
  std::unique_ptr<images::ImageService> ownImages_;
  std::unique_ptr<network::Cni> cni_;
  std::unique_ptr<ApiObjects> objects_;
  std::unique_ptr<CachingTokenSource> tokens_;  // over objects_
  std::unique_ptr<PodManager> pods_;
  std::unique_ptr<stats::StatsProvider> stats_;  // the summary API, over pods_
  std::unique_ptr<client::SharedInformer> podInformer_;
  // Every Node, for the routes to the other nodes' podCIDRs (network/routes.h).
  std::unique_ptr<client::SharedInformer> nodeInformer_;
  std::unique_ptr<network::PodRoutes> routes_;
  std::unique_ptr<netpol::NetworkPolicyController> netpol_;
  std::unique_ptr<streaming::StreamingServer> streaming_;
  std::unique_ptr<NodeDns> dns_;
  std::unique_ptr<proxy::Proxier> proxy_;
  std::unique_ptr<StaticPodSource> staticPods_;
  std::unique_ptr<NodeShutdownManager> shutdown_;
  std::unique_ptr<LocalPathCleaner> localPaths_;
  client::WorkQueue queue_;
  HostFacts facts_;
  boost::json::object lastNodeStatus_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool postStatusNow_ = false;  // wakes the heartbeat to post the node status at once
  std::string nodeUid_;  // guarded by mu_
  std::thread heartbeat_, staticPodScanner_;
  std::vector<std::thread> workers_;
};

}  // namespace berth::kubelet
