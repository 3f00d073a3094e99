#include "kubelet/agent.h"

#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <iostream>

#include "kubelet/agent_streaming.h"
#include "kubelet/logs/log_files.h"
#include "kubelet/busybox_images.h"
#include "kubelet/images/local_image_service.h"
#include "kubelet/images/registries_config.h"
#include "kubelet/runtime/oci_runtime.h"
#include "kubelet/runtime/sandbox.h"
#include "kubelet/runtime/shim.h"
#include "kubelet/stats/summary_format.h"
#include "core/local_path.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
const client::Resource kConfigMaps{"", "v1", "configmaps", true};
const client::Resource kSecrets{"", "v1", "secrets", true};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims", true};
const client::Resource kVolumes{"", "v1", "persistentvolumes", false};
const client::Resource kServiceAccounts{"", "v1", "serviceaccounts", true};

std::string selfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "berth" : p.string();
}

std::string nowMicro() {
  // Lease renewTime is a MicroTime: RFC 3339 with microseconds.
  std::string nano = runtime::rfc3339NanoNow();  // ...SS.nnnnnnnnnZ
  return nano.substr(0, nano.size() - 4) + "Z";
}

}  // namespace

// ConfigMaps, Secrets and service account tokens read through the API.
class Agent::ApiObjects : public ObjectSource, public TokenSource {
 public:
  explicit ApiObjects(client::RestClient& rest) : rest_(rest) {}
  core::Result<json::object> configMap(const std::string& ns, const std::string& name) override {
    return get(kConfigMaps, ns, name);
  }
  core::Result<json::object> secret(const std::string& ns, const std::string& name) override {
    return get(kSecrets, ns, name);
  }
  core::Result<json::object> persistentVolumeClaim(const std::string& ns,
                                                   const std::string& name) override {
    return get(kClaims, ns, name);
  }
  core::Result<json::object> persistentVolume(const std::string& name) override {
    return get(kVolumes, "", name);
  }
  core::Result<std::string> token(const std::string& ns, const std::string& sa,
                                  const std::string& podName, const std::string& podUid,
                                  const std::string& audience, long long expiration) override {
    json::object spec{{"expirationSeconds", expiration},
                      {"boundObjectRef",
                       {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", podName}, {"uid", podUid}}}};
    if (!audience.empty()) spec["audiences"] = json::array{json::string(audience)};
    json::object request{{"apiVersion", "authentication.k8s.io/v1"},
                         {"kind", "TokenRequest"},
                         {"spec", spec}};
    auto t = rest_.request("POST", client::RestClient::path(kServiceAccounts, ns, sa, "token"),
                           json::serialize(request), "application/json");
    if (!t.ok()) return t.status();
    if (t->is_object())
      if (const auto* st = obj(t->as_object(), "status"))
        if (auto token = str(*st, "token"); !token.empty()) return token;
    return core::Status::unavailable("TokenRequest gave no token");
  }

 private:
  core::Result<json::object> get(const client::Resource& r, const std::string& ns,
                                 const std::string& name) {
    auto v = rest_.get(r, ns, name);
    if (!v.ok()) return v.status();
    if (!v->is_object()) return core::Status::internal("not an object");
    return v->as_object();
  }
  client::RestClient& rest_;
};

Agent::Agent(AgentOptions options) : o_(std::move(options)) {
  if (o_.nodeName.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o_.nodeName = host;
  }
  for (auto& ch : o_.nodeName) ch = static_cast<char>(::tolower(ch));
  if (o_.berthBinary.empty()) o_.berthBinary = selfExe();
  if (o_.localPathDir.empty()) o_.localPathDir = o_.dataDir + "/storage";
  o_.localPathDir = fs::absolute(o_.localPathDir).lexically_normal().string();
  while (o_.localPathDir.size() > 1 && o_.localPathDir.back() == '/') o_.localPathDir.pop_back();
}

Agent::~Agent() { stop(); }

// The node comes up in dependency order: the host (cgroups, OCI runtime), the API client and
// images, the Node object, then the pods' machinery, the APIs the node serves, the pod sources
// and the loops that drive them.
core::Status Agent::start() {
  if (auto why = nodeNameProblem(o_.nodeName); !why.empty()) return core::Status::badRequest(why);
  auto ociRuntime = prepareHost();
  if (!ociRuntime.ok()) return ociRuntime.status();
  if (auto st = connectToApi(); !st.ok()) return st;
  if (auto st = openImages(); !st.ok()) return st;
  if (auto st = prepareNode(); !st.ok()) return st;
  if (auto st = startPodManager(ociRuntime->name); !st.ok()) return st;
  startStatsAndStreaming();
  if (auto st = startPodInformer(); !st.ok()) return st;
  startPodSources();
  startNodeServices();
  for (int i = 0; i < std::max(1, o_.workers); ++i)
    workers_.emplace_back([this] { workerLoop(); });
  startProxy();
  heartbeat_ = std::thread([this] { heartbeatLoop(); });
  return {};
}

core::Result<runtime::OciRuntime> Agent::prepareHost() {
  std::error_code ec;
  fs::create_directories(o_.dataDir, ec);
  if (ec) return core::Status::internal("create " + o_.dataDir + ": " + ec.message());
  if (auto st = runtime::ensureCgroupMounts(); !st.ok()) return st;
  auto ociRuntime =
      runtime::selectOciRuntime({o_.containerRuntime, o_.runcBinary, o_.berthBinary, o_.dataDir});
  if (!ociRuntime.ok()) return ociRuntime.status();
  std::cerr << "berth agent: container runtime " << ociRuntime->name << " (" << ociRuntime->reason
            << ")" << std::endl;
  o_.runcBinary = ociRuntime->binary;  // what the shims, probes, exec and streaming run
  return ociRuntime;
}

core::Status Agent::connectToApi() {
  auto config = o_.rest;
  config.userAgent = "berth-kubelet/v0.1 (" + o_.nodeName + ")";
  config.qps = std::max(config.qps, 50.0);
  config.burst = std::max(config.burst, 100);
  auto rest = client::RestClient::create(config);
  if (!rest.ok()) return rest.status();
  rest_ = std::move(*rest);
  events_ = std::make_unique<client::EventRecorder>(*rest_, "kubelet", o_.nodeName);
  return {};
}

// The image service given in the options, else the busybox stand-in, else the node's own store.
core::Status Agent::openImages() {
  if (!o_.images && o_.busyboxImages) {
    ownImages_ = std::make_unique<BusyboxImageService>(o_.dataDir + "/busybox-image");
  } else if (!o_.images) {
    auto registries = images::loadRegistriesConfig(o_.registryConfig);
    if (!registries.ok()) return registries.status();
    auto store = images::LocalImageService::open({o_.dataDir + "/images", *registries});
    if (!store.ok()) return store.status();
    ownImages_ = std::move(*store);
  }
  if (!o_.images) o_.images = ownImages_.get();
  return {};
}

// The host's facts, the shutdown manager and the CNI config, then the Node itself and the
// node DNS on its pod network.
core::Status Agent::prepareNode() {
  facts_ = probeHost(o_.dataDir, o_.nodeIP);
  // The Hostname address is the node's name, as upstream's kubelet reports its
  // --hostname-override (which k3s's --node-name sets), not the machine's.
  facts_.hostname = o_.nodeName;
  if (auto why = validateShutdownConfig(o_.shutdown); !why.empty())
    return core::Status::badRequest(why);
  shutdown_ = std::make_unique<NodeShutdownManager>(o_.shutdown);
  network::CniOptions cni;
  cni.binDir = o_.cniBinDir;
  cni.stateDir = o_.dataDir + "/cni";
  cni.podCidrs = {o_.podCidr};
  cni_ = std::make_unique<network::Cni>(cni);
  if (auto st = registerNode(); !st.ok()) return st;
  startNodeDns();
  return {};
}

core::Status Agent::startPodManager(const std::string& runtimeName) {
  objects_ = std::make_unique<ApiObjects>(*rest_);
  tokens_ = std::make_unique<CachingTokenSource>(*objects_);
  PodManagerOptions pm;
  pm.nodeName = o_.nodeName;
  pm.dataDir = o_.dataDir;
  pm.hostIP = facts_.internalIP;
  pm.berthBinary = o_.berthBinary;
  pm.runcBinary = o_.runcBinary;
  pm.runtimeRoot = o_.dataDir + "/" + runtimeName;
  pm.nodeMilliCpu = facts_.milliCpu;
  pm.nodeMemoryBytes = facts_.memoryBytes;
  pm.allowHostNetworkNamespace = o_.allowHostNetworkNamespace;
  pm.containerLogMaxSize = logs::parseQuantityBytes(o_.containerLogMaxSize);
  pm.containerLogMaxFiles = o_.containerLogMaxFiles;
  if (!o_.clusterDns.empty()) pm.clusterDns = o_.clusterDns;
  if (pm.containerLogMaxSize <= 0 || pm.containerLogMaxFiles < 2)
    return core::Status::badRequest("invalid container log rotation: --container-log-max-size " +
                                    o_.containerLogMaxSize + ", --container-log-max-files " +
                                    std::to_string(o_.containerLogMaxFiles));
  pods_ = std::make_unique<PodManager>(pm, *rest_, *events_, *o_.images, *cni_, *objects_,
                                       tokens_.get());
  pods_->recover();
  return {};
}

// The stats provider and the kubelet's HTTPS API (logs, exec, attach, port-forward, stats).
void Agent::startStatsAndStreaming() {
  AgentStreamingOptions so;
  so.dataDir = o_.dataDir;
  so.nodeName = o_.nodeName;
  so.internalIP = facts_.internalIP;
  so.port = o_.kubeletPort;
  so.clientCaFile = o_.clientCaFile;
  so.clientCaPem = o_.rest.caPem;
  so.runcBinary = o_.runcBinary;
  stats::StatsProviderOptions statsOptions{o_.nodeName, o_.dataDir, {}};
  statsOptions.housekeeping = o_.statsHousekeeping;
  statsOptions.fsPeriod = o_.volumeStatsPeriod;
  stats_ = std::make_unique<stats::StatsProvider>(statsOptions, pods_.get());
  stats_->start();
  so.endpoints["/stats/summary"] = {"application/json", [this]() -> core::Result<std::string> {
                                      return stats::summaryJson(stats_->summary());
                                    }};
  so.endpoints["/metrics/resource"] = {
      "text/plain; version=0.0.4; charset=utf-8", [this]() -> core::Result<std::string> {
        return stats::resourceMetricsText(stats_->summary());
      }};
  auto streaming = startAgentStreaming(so, *pods_);
  if (!streaming.ok()) {
    // Pods still run without it; only logs/exec/attach/port-forward through the API fail.
    std::cerr << "berth agent: kubelet API on " << facts_.internalIP << ":" << o_.kubeletPort
              << " not served: " << streaming.status().message() << std::endl;
    return;
  }
  streaming_ = std::move(*streaming);
  if (streaming_->port() != o_.kubeletPort) {
    o_.kubeletPort = streaming_->port();
    postNodeStatus();
  }
}

// The pods bound to this node, each change queued by namespace/name for the workers.
core::Status Agent::startPodInformer() {
  client::InformerOptions io;
  io.fieldSelector = "spec.nodeName=" + o_.nodeName;
  podInformer_ = std::make_unique<client::SharedInformer>(*rest_, kPods, io);
  auto enqueue = [this](const client::ObjectPtr& o) {
    if (!o || !o->is_object()) return;
    const auto* meta = obj(o->as_object(), "metadata");
    if (meta) queue_.add(str(*meta, "namespace") + "/" + str(*meta, "name"));
  };
  podInformer_->addEventHandler(
      {enqueue, [enqueue](const client::ObjectPtr&, const client::ObjectPtr& n) { enqueue(n); },
       [enqueue](const client::DeletedObject& d) { enqueue(d.object); }});
  podInformer_->start();
  if (!podInformer_->waitForSync(std::chrono::seconds(30)))
    return core::Status::unavailable("the pod informer did not sync");
  return {};
}

// Static pods, the termination check over both sources, and the pods from before a restart.
void Agent::startPodSources() {
  startStaticPods();
  pods_->setTerminationCheck(
      [this](const std::string& ns, const std::string& name, const std::string& uid) {
        return podTerminationRequested(ns, name, uid);
      });
  // Pods this node ran before a restart that the API no longer has are torn down by their sync.
  for (const auto& key : pods_->knownKeys()) queue_.add(key);
}

// Local-path clean-up, routes to the other nodes' pods and NetworkPolicy enforcement.
void Agent::startNodeServices() {
  localPaths_ = std::make_unique<LocalPathCleaner>(*rest_, *events_, o_.nodeName, o_.localPathDir);
  localPaths_->start();
  startPodRoutes();
  startNetworkPolicy();
}

// NetworkPolicy enforcement in the node's namespace, as k3s embeds its policy controller in the
// agent. Never in the host's own namespace unless pod networks may be plugged there.
void Agent::startNetworkPolicy() {
  if (o_.disableNetworkPolicy ||
      (!o_.allowHostNetworkNamespace && network::inHostNetworkNamespace()))
    return;
  netpol::ControllerOptions np;
  np.rest = o_.networkPolicyRest.value_or(o_.rest);
  np.nodeName = o_.nodeName;
  np.metrics = o_.metrics;
  netpol_ = std::make_unique<netpol::NetworkPolicyController>(np);
  if (auto st = netpol_->start(); !st.ok()) {
    // Pods still run, unprotected: say so loudly rather than refuse to run the node.
    std::cerr << "berth agent: NetworkPolicies not enforced: " << st.message() << std::endl;
    netpol_->stop();
    netpol_.reset();
  }
}

void Agent::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  queue_.shutDown();
  if (podInformer_) podInformer_->stop();
  if (nodeInformer_) nodeInformer_->stop();
  if (localPaths_) localPaths_->stop();
  if (stats_) stats_->stop();
  if (netpol_) netpol_->stop();
  if (proxy_) proxy_->stop();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (staticPodScanner_.joinable()) staticPodScanner_.join();
  if (streaming_) streaming_->stop();
  if (dns_) dns_->stop();
  if (events_) events_->flush();
  // Containers keep running under their shims; a restarted agent picks them up again.
}

void Agent::startProxy() {
  if (o_.disableProxy) return;
  if (!o_.allowHostNetworkNamespace && network::inHostNetworkNamespace()) {
    std::cerr << "berth agent: service proxy off in the host's network namespace "
                 "(--allow-host-network-namespace enables it)" << std::endl;
    return;
  }
  proxy::ProxierOptions po;
  po.rules = o_.proxyRules;
  po.rules.nodeName = o_.nodeName;
  po.rules6 = proxy::splitDualStack(po.rules);  // dual-stack: the ip6 table too
  po.metrics = o_.metrics;
  po.healthzBindAddress = o_.proxyHealthzBindAddress;
  po.nodePortAddresses = o_.nodePortAddresses;
  po.nodeIP = facts_.internalIP;
  proxy_ = std::make_unique<proxy::Proxier>(*rest_, po);
  // Pods run without it; only Services do not answer on this node.
  if (auto st = proxy_->start(); !st.ok()) {
    std::cerr << "berth agent: service proxy: " << st.message() << std::endl;
    proxy_.reset();
  }
}

core::Status Agent::registerNode() {
  std::string now = runtime::rfc3339Now();
  auto node = nodeObject(o_.nodeName, facts_, o_.kubeletPort, {}, now);
  auto created = rest_->create(kNodes, "", node);
  json::object current;
  if (created.ok()) {
    current = created->as_object();
  } else if (created.status().isAlreadyExists()) {
    auto got = rest_->get(kNodes, "", o_.nodeName);
    if (!got.ok()) return got.status();
    current = got->as_object();
  } else {
    return created.status();
  }
  applyPodCidrs(current);
  if (const auto* meta = obj(current, "metadata")) {
    std::lock_guard lock(mu_);
    nodeUid_ = str(*meta, "uid");
  }
  if (const auto* st = obj(current, "status")) lastNodeStatus_ = *st;
  announceLocalPathDir(current);
  postNodeStatus();
  renewLease();
  return {};
}

// The local-path provisioner puts this node's volumes where the Node's annotation says.
void Agent::announceLocalPathDir(const json::object& node) {
  const auto* meta = obj(node, "metadata");
  const auto* ann = meta ? obj(*meta, "annotations") : nullptr;
  if (ann && str(*ann, core::localpath::kAnnLocalPathDir) == o_.localPathDir) return;
  json::object patch{
      {"metadata", {{"annotations", {{core::localpath::kAnnLocalPathDir, o_.localPathDir}}}}}};
  auto r =
      rest_->patch(kNodes, "", o_.nodeName, client::PatchType::kMerge, json::serialize(patch), {});
  if (!r.ok())
    std::cerr << "berth agent: cannot announce the local-path directory: " << r.status().message()
              << std::endl;
}

void Agent::postNodeStatus() {
  // The addresses detected at start stay the node's (joined: "v4,v6" on a dual-stack node).
  std::string pinned;
  for (const auto& ip : facts_.internalIPs) pinned += (pinned.empty() ? "" : ",") + ip;
  facts_ = probeHost(o_.dataDir, o_.nodeIP.empty() ? pinned : o_.nodeIP);
  facts_.hostname = o_.nodeName;
  std::string now = runtime::rfc3339Now();
  auto status = nodeStatus(facts_, o_.kubeletPort, lastNodeStatus_, now);
  if (shutdown_ && shutdown_->shuttingDown()) markNodeShuttingDown(status, now);
  client::PatchOptions opts;
  opts.subresource = "status";
  auto r = rest_->patch(kNodes, "", o_.nodeName, client::PatchType::kMerge,
                        json::serialize(json::object{{"status", status}}), opts);
  if (!r.ok()) {
    if (r.status().isNotFound()) (void)registerNode();  // deleted while we ran: register again
    return;
  }
  if (const auto* st = obj(r->as_object(), "status")) lastNodeStatus_ = *st;
  applyPodCidrs(r->as_object());
}

void Agent::applyPodCidrs(const json::object& node) {
  const auto* spec = obj(node, "spec");
  if (!spec) return;
  // spec.podCIDRs (one per family, primary first); podCIDR alone from older writers.
  std::vector<std::string> cidrs;
  if (const auto* list = arr(*spec, "podCIDRs"))
    for (const auto& c : *list)
      if (c.is_string() && !c.as_string().empty()) cidrs.emplace_back(c.as_string());
  if (cidrs.empty() && !str(*spec, "podCIDR").empty()) cidrs.push_back(str(*spec, "podCIDR"));
  if (cidrs.empty()) return;
  cni_->setPodCidrs(std::move(cidrs));
  // The node DNS serves on the bridge gateway of each family.
  if (dns_) dns_->updatePodCidr(cni_->ipv4PodCidr(), cni_->ipv6PodCidr());
}

void Agent::startNodeDns() {
  if (o_.disableDns) return;
  // Like the pod bridge, the DNS address belongs in the node's own network namespace.
  if (network::inHostNetworkNamespace() && !o_.allowHostNetworkNamespace) {
    std::cerr << "berth agent: cluster DNS not served: the agent runs in the host's network "
                 "namespace (see --allow-host-network-namespace)"
              << std::endl;
    return;
  }
  NodeDnsOptions o;
  o.rest = o_.rest;
  o.nodeName = o_.nodeName;
  if (!o_.clusterDns.empty()) o.clusterDns = o_.clusterDns;
  auto dns = std::make_unique<NodeDns>(o, *rest_);
  if (auto st = dns->start(cni_->ipv4PodCidr(), cni_->ipv6PodCidr()); !st.ok()) {
    // Pods still run; only their cluster-internal names do not resolve on this node.
    std::cerr << "berth agent: cluster DNS not served: " << st.message() << std::endl;
    return;
  }
  dns_ = std::move(dns);
}

void Agent::renewLease() {
  json::object spec{{"holderIdentity", o_.nodeName},
                    {"leaseDurationSeconds", 40},
                    {"renewTime", nowMicro()}};
  auto existing = rest_->get(kLeases, "kube-node-lease", o_.nodeName);
  if (existing.ok()) {
    auto lease = existing->as_object();
    lease["spec"] = spec;
    (void)rest_->update(kLeases, "kube-node-lease", lease);
    return;
  }
  json::object meta{{"name", o_.nodeName}, {"namespace", "kube-node-lease"}};
  if (auto node = rest_->get(kNodes, "", o_.nodeName); node.ok())
    if (const auto* m = obj(node->as_object(), "metadata"))
      meta["ownerReferences"] = json::array{json::object{
          {"apiVersion", "v1"}, {"kind", "Node"}, {"name", o_.nodeName}, {"uid", str(*m, "uid")}}};
  (void)rest_->create(kLeases, "kube-node-lease",
                      json::object{{"apiVersion", "coordination.k8s.io/v1"},
                                   {"kind", "Lease"},
                                   {"metadata", meta},
                                   {"spec", spec}});
}

void Agent::heartbeatLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, o_.heartbeat, [this] { return stopping_ || postStatusNow_; });
    if (stopping_) break;
    postStatusNow_ = false;
    lock.unlock();
    renewLease();
    postNodeStatus();
    lock.lock();
  }
}

// The Node list, watched: the node's own podCIDR reaches the CNI config as soon as the node IPAM
// controller sets it (not only at the next heartbeat), and the routes to the other nodes' pods
// follow every Node event (a few `ip` runs when something changed, none otherwise). No routes in
// the host's own network namespace unless the agent may plug pod networks there: its routes are
// not ours to change.
void Agent::startPodRoutes() {
  if (o_.allowHostNetworkNamespace || !network::inHostNetworkNamespace())
    routes_ = std::make_unique<network::PodRoutes>(o_.nodeName);
  nodeInformer_ = std::make_unique<client::SharedInformer>(*rest_, kNodes);
  auto sync = [this] {
    std::vector<json::value> nodes;
    for (const auto& n : nodeInformer_->lister().list("")) nodes.push_back(*n);
    if (auto self = nodeInformer_->lister().get("", o_.nodeName))
      applyPodCidrs(self->as_object());
    if (!routes_) return;
    if (auto st = routes_->sync(nodes); !st.ok())
      std::cerr << "berth agent: pod routes: " << st.message() << std::endl;
  };
  nodeInformer_->addEventHandler(
      {[sync](const client::ObjectPtr&) { sync(); },
       [sync](const client::ObjectPtr&, const client::ObjectPtr&) { sync(); },
       [sync](const client::DeletedObject&) { sync(); }});
  nodeInformer_->start();
}

void Agent::workerLoop() {
  while (auto key = queue_.get()) {
    auto slash = key->find('/');
    std::string ns = key->substr(0, slash), name = key->substr(slash + 1);
    auto pod = podInformer_->lister().get(ns, name);
    std::chrono::milliseconds mirrorAgain{0};
    pod = podToSync(*key, pod, &mirrorAgain);
    auto again = pods_->sync(ns, name, pod);
    if (mirrorAgain.count() > 0 && (again.count() == 0 || mirrorAgain < again)) again = mirrorAgain;
    queue_.done(*key);
    if (again.count() > 0 && !queue_.shuttingDown()) queue_.addAfter(*key, again);
  }
}

}  // namespace berth::kubelet
