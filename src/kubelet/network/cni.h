#pragma once
// Pod networking through the standard CNI plugins (containernetworking-plugins): loopback, then
// bridge ("berth0", the node's gateway on it) with host-local IPAM on the node's podCIDR and a
// default route, then portmap when the pod asks for hostPorts. Plugins run in the agent's
// network namespace, which is the node's; their state (host-local's allocations) lives under
// the agent's data directory so it is per node and survives restarts.
//
// Thread-safety: add/del may run concurrently for different pods (host-local locks its store).
#include <boost/json/object.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::kubelet::network {

struct CniOptions {
  std::string binDir = "/usr/lib/cni";
  std::string stateDir;  // host-local's dataDir and the plugins' results
  std::string bridge = "berth0";
  std::string podCidr;   // e.g. 10.244.0.0/24
};

struct HostPort {
  int hostPort = 0, containerPort = 0;
  std::string protocol = "tcp";  // lower case, as CNI's portMappings
  std::string hostIP;
};

struct PodAttachment {
  std::string containerId;  // the pod's uid: one attachment per pod
  std::string netnsPath;
  std::string podNamespace, podName;
  std::vector<HostPort> hostPorts;
};

// The plugin list (a CNI conflist "plugins" array) for a pod, in execution order of ADD.
std::vector<boost::json::object> pluginChain(const CniOptions& o, const PodAttachment& pod);

class Cni {
 public:
  explicit Cni(CniOptions options) : o_(std::move(options)) {}
  // The node's podCIDR may arrive after start (from the node IPAM controller); new pods use it.
  void setPodCidr(const std::string& cidr) {
    std::lock_guard lock(mu_);
    o_.podCidr = cidr;
  }
  std::string podCidr() const {
    std::lock_guard lock(mu_);
    return o_.podCidr;
  }
  // Attaches the pod's network namespace; returns its IPv4 address (without prefix length).
  core::Result<std::string> add(const PodAttachment& pod) const;
  // Detaches it and releases the IP (each plugin's DEL, in reverse order); missing is fine.
  core::Status del(const PodAttachment& pod) const;

 private:
  core::Result<boost::json::object> invoke(const std::string& command,
                                           const boost::json::object& conf,
                                           const PodAttachment& pod) const;
  CniOptions snapshot() const {
    std::lock_guard lock(mu_);
    return o_;
  }
  mutable std::mutex mu_;  // guards o_.podCidr
  CniOptions o_;
};

// Whether this process shares PID 1's network namespace (the host's, unless the node runs in a
// namespace of its own). The agent refuses to plug bridges into the host's namespace unless
// told to.
bool inHostNetworkNamespace();

// /etc/resolv.conf of a pod with dnsPolicy ClusterFirst, as the kubelet writes it: the cluster
// search list, then the node's own search domains (duplicates dropped, at most 32 domains and
// 2048 characters, as upstream's formDNSSearchFitsLimits), the cluster DNS and ndots:5.
std::string clusterResolvConf(const std::string& podNamespace, const std::string& dnsIp,
                              const std::string& clusterDomain,
                              const std::vector<std::string>& hostSearch = {});
// The search domains of a resolv.conf (its last "search" line, "." and trailing dots dropped).
std::vector<std::string> resolvConfSearch(const std::string& path);
// /etc/hosts of a pod: the kubelet's managed header plus "<ip>\t<hostname>".
std::string podHostsFile(const std::string& ip, const std::string& hostname);

}  // namespace berth::kubelet::network
