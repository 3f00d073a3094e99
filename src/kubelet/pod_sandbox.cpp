// PodManager's sandbox half: namespaces, CNI, the pod's /etc files, volumes and cgroup.
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "kubelet/pod_manager.h"
#include "kubelet/runtime/sandbox.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace berth::kubelet {

namespace {

network::PodAttachment attachmentOf(const PodManager::PodRecord& rec) {
  network::PodAttachment a;
  a.containerId = rec.uid;
  a.netnsPath = runtime::podNamespacePaths(rec.dir).net;
  a.podNamespace = rec.ns;
  a.podName = rec.name;
  if (const auto* spec = obj(rec.pod, "spec"))
    if (const auto* cs = arr(*spec, "containers"))
      for (const auto& c : *cs)
        if (c.is_object())
          if (const auto* ports = arr(c.as_object(), "ports"))
            for (const auto& p : *ports) {
              if (!p.is_object()) continue;
              long long host = intField(p.as_object(), "hostPort", 0);
              if (host <= 0) continue;
              network::HostPort hp;
              hp.hostPort = static_cast<int>(host);
              hp.containerPort = static_cast<int>(intField(p.as_object(), "containerPort", 0));
              std::string proto = str(p.as_object(), "protocol");
              for (auto& ch : proto) ch = static_cast<char>(::tolower(ch));
              hp.protocol = proto.empty() ? "tcp" : proto;
              hp.hostIP = str(p.as_object(), "hostIP");
              a.hostPorts.push_back(hp);
            }
  return a;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << text;
  out.close();
  fs::rename(path + ".tmp", path);
}

// Whether a downwardAPI item (of a downwardAPI volume or a projected source) reads the pod's
// status (its IP), which is known only once the sandbox's network is up.
bool volumesReadStatus(const json::object& pod) {
  auto readsStatus = [](const json::object* downward) {
    const auto* items = downward ? arr(*downward, "items") : nullptr;
    if (items)
      for (const auto& i : *items)
        if (const auto* ref = i.is_object() ? obj(i.as_object(), "fieldRef") : nullptr)
          if (str(*ref, "fieldPath").rfind("status.", 0) == 0) return true;
    return false;
  };
  const auto* spec = obj(pod, "spec");
  const auto* volumes = spec ? arr(*spec, "volumes") : nullptr;
  if (!volumes) return false;
  for (const auto& v : *volumes) {
    if (!v.is_object()) continue;
    if (readsStatus(obj(v.as_object(), "downwardAPI"))) return true;
    const auto* projected = obj(v.as_object(), "projected");
    if (const auto* sources = projected ? arr(*projected, "sources") : nullptr)
      for (const auto& src : *sources)
        if (src.is_object() && readsStatus(obj(src.as_object(), "downwardAPI"))) return true;
  }
  return false;
}

}  // namespace

// A new pod's volumes (API reads for ConfigMaps, Secrets and tokens, then files) are set up on
// a thread of their own while its sandbox's network comes up (namespaces, CNI plugins): the two
// are independent unless a volume reads the pod's status. The thread reads only what it is
// given; ensureVolumes() joins it and stores the result.
PodManager::EarlyVolumes PodManager::startVolumesEarly(PodRecord& rec) {
  if (rec.sandboxReady || !rec.volumes.empty() || volumesReadStatus(rec.pod)) return {};
  std::error_code ec;
  fs::create_directories(rec.dir, ec);
  PodRuntimeFacts facts{"", o_.hostIP, o_.nodeName, o_.nodeMilliCpu, o_.nodeMemoryBytes};
  return std::async(std::launch::async, [this, pod = rec.pod, dir = rec.dir, facts] {
    return setupVolumes(pod, dir, objects_, tokens_, facts);
  });
}

void PodManager::savePodRecord(const PodRecord& rec) {
  json::object meta{{"uid", rec.uid},         {"namespace", rec.ns}, {"name", rec.name},
                    {"ip", rec.ip},           {"startTime", rec.startTime},
                    {"hostNetwork", rec.hostNetwork}};
  if (!rec.ips.empty()) meta["ips"] = json::array(rec.ips.begin(), rec.ips.end());
  writeText(rec.dir + "/pod.json", json::serialize(meta));
}

namespace {

// The pod's /etc/hosts, as upstream's ensureHostsFile: a hostNetwork pod gets the node's own
// file, any other the managed one with its IPs; both end with spec.hostAliases.
std::string podHostsFileOf(const PodManager::PodRecord& rec, const std::string& hostname,
                           const std::string& domain) {
  std::vector<network::HostAlias> aliases;
  if (const auto* spec = obj(rec.pod, "spec")) aliases = network::hostAliasesOf(*spec);
  if (rec.hostNetwork) {
    std::ifstream in("/etc/hosts");
    std::stringstream nodeHosts;
    nodeHosts << in.rdbuf();
    return network::hostNetworkHostsFile(nodeHosts.str(), aliases);
  }
  return network::podHostsFile(rec.ips.empty() ? std::vector<std::string>{rec.ip} : rec.ips,
                               hostname, domain, aliases);
}

}  // namespace

core::Status PodManager::ensureSandbox(PodRecord& rec) {
  if (rec.sandboxReady) return {};
  std::error_code ec;
  fs::create_directories(rec.dir, ec);
  if (rec.startTime.empty()) rec.startTime = runtime::rfc3339Now();
  savePodRecord(rec);  // before anything that needs undoing, so a restart finds it
  if (!rec.hostNetwork) {
    if (!o_.allowHostNetworkNamespace && network::inHostNetworkNamespace())
      return core::Status::forbidden(
          "refusing to attach pod networks in the host's network namespace; run the node in a "
          "network namespace of its own or pass --allow-host-network-namespace");
    if (auto st = runtime::createPodNamespaces(rec.dir, rec.name); !st.ok()) return st;
    rec.trace.mark("netns");
    // An attachment from before (the namespace was lost, e.g. an agent restart in a fresh mount
    // namespace) still holds its IP in host-local's store: release it first.
    if (!rec.ip.empty()) (void)cni_.del(attachmentOf(rec));
    auto ips = cni_.add(attachmentOf(rec));
    if (!ips.ok()) return ips.status();
    rec.ip = ips->front();
    rec.ips = std::move(*ips);
    rec.trace.mark("cni");
  } else {
    if (auto st = runtime::createPodNamespaces(rec.dir, rec.name); !st.ok()) return st;
    rec.ip = o_.hostIP;
    rec.ips.clear();
  }
  std::string hostname = rec.hostNetwork ? o_.nodeName : rec.name;
  if (const auto* spec = obj(rec.pod, "spec"); spec && !str(*spec, "hostname").empty())
    hostname = str(*spec, "hostname");
  std::string domain;  // upstream GeneratePodHostNameAndDomain
  if (const auto* spec = obj(rec.pod, "spec"); spec && !str(*spec, "subdomain").empty())
    domain = str(*spec, "subdomain") + "." + rec.ns + ".svc." + o_.clusterDomain;
  writeText(rec.dir + "/hosts", podHostsFileOf(rec, hostname, domain));
  writeText(rec.dir + "/hostname", hostname + "\n");
  std::string dnsPolicy;
  if (const auto* spec = obj(rec.pod, "spec")) dnsPolicy = str(*spec, "dnsPolicy");
  bool clusterFirst = dnsPolicy.empty() || dnsPolicy == "ClusterFirst" ||
                      (dnsPolicy == "ClusterFirstWithHostNet");
  if (rec.hostNetwork && dnsPolicy != "ClusterFirstWithHostNet") clusterFirst = false;
  if (clusterFirst) {
    writeText(rec.dir + "/resolv.conf",
              network::clusterResolvConf(rec.ns, o_.clusterDns, o_.clusterDomain,
                                         network::resolvConfSearch("/etc/resolv.conf")));
  } else {
    fs::copy_file("/etc/resolv.conf", rec.dir + "/resolv.conf",
                  fs::copy_options::overwrite_existing, ec);
  }
  savePodRecord(rec);
  rec.trace.mark("sandbox-files");
  rec.sandboxReady = true;
  rec.terminalTornDown = false;
  return {};
}

core::Status PodManager::ensureVolumes(PodRecord& rec, bool force, EarlyVolumes* early) {
  // configMap/secret contents are re-read every 10 s (upstream: the sync period plus the cache
  // TTL, about a minute) so that updates reach running pods.
  auto now = std::chrono::steady_clock::now();
  if (early && early->valid()) {
    auto volumes = early->get();
    if (!volumes.ok()) return volumes.status();
    rec.volumes = std::move(*volumes);
    rec.volumesRefreshed = now;
    return {};
  }
  if (!force && !rec.volumes.empty() && now - rec.volumesRefreshed < std::chrono::seconds(10))
    return {};
  PodRuntimeFacts facts{rec.ip, o_.hostIP, o_.nodeName, o_.nodeMilliCpu, o_.nodeMemoryBytes,
                        rec.ips};
  auto volumes = setupVolumes(rec.pod, rec.dir, objects_, tokens_, facts);
  if (!volumes.ok()) return volumes.status();
  rec.volumes = std::move(*volumes);
  rec.volumesRefreshed = now;
  return {};
}

void PodManager::teardownSandbox(PodRecord& rec) {
  if (!rec.hostNetwork && runtime::namespacesPinned(rec.dir)) {
    if (auto st = cni_.del(attachmentOf(rec)); !st.ok())
      event(rec, "Warning", "FailedKillPod", "CNI DEL: " + st.message());
  } else if (!rec.hostNetwork && !rec.ip.empty()) {
    // The namespace is gone (e.g. a reboot); still release the IP from host-local's store.
    (void)cni_.del(attachmentOf(rec));
  }
  runtime::removePodNamespaces(rec.dir);
  teardownVolumes(rec.dir);
  runtime::removeCgroup(runtime::podCgroup(rec.uid));
  rec.sandboxReady = false;
  rec.volumes.clear();
}

}  // namespace berth::kubelet
