#pragma once
// Pod networking through the standard CNI plugins (containernetworking-plugins): the
// bridge ("berth0", the node's gateway on it) with host-local IPAM on the node's podCIDRs (one
// range per family on a dual-stack node, primary first) and a default route per family, then
// portmap when the pod asks for hostPorts. The pod's `lo` is not a plugin's: it comes up with
// the namespace (runtime/sandbox.h), which saves a plugin exec per pod start. Plugins run in
// the agent's network namespace, which is the node's; their state (host-local's allocations) lives under
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
  // The node's spec.podCIDRs, e.g. {"10.244.0.0/24"} or {"10.244.0.0/24", "fd00:10:244::/64"};
  // the first is the primary family.
  std::vector<std::string> podCidrs;
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
// The bridge's IPAM has ranges [[first podCIDR], [second]] and a default route for each family
// present (0.0.0.0/0, ::/0), as a dual-stack bridge conflist does.
std::vector<boost::json::object> pluginChain(const CniOptions& o, const PodAttachment& pod);

class Cni {
 public:
  explicit Cni(CniOptions options) : o_(std::move(options)) {}
  // The node's podCIDRs may arrive after start (from the node IPAM controller); new pods use
  // them.
  void setPodCidrs(std::vector<std::string> cidrs) {
    std::lock_guard lock(mu_);
    o_.podCidrs = std::move(cidrs);
  }
  // The IPv4 / IPv6 podCIDR ("" when the node has none): the node DNS serves on its gateway.
  std::string ipv4PodCidr() const;
  std::string ipv6PodCidr() const;
  // Attaches the pod's network namespace; returns its addresses (without prefix length), one
  // per podCIDR in their order: the first is the pod's status.podIP.
  core::Result<std::vector<std::string>> add(const PodAttachment& pod) const;
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
  mutable std::mutex mu_;  // guards o_.podCidrs
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
// One entry of a pod's spec.hostAliases: an IP and the names /etc/hosts gives it.
struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
};
// spec.hostAliases of a pod spec, in order (entries without an ip are skipped).
std::vector<HostAlias> hostAliasesOf(const boost::json::object& podSpec);
// /etc/hosts of a pod: the kubelet's managed header plus, for each pod IP (one per family),
// "<ip>\t<hostname>", or "<ip>\t<hostname>.<domain>\t<hostname>" when the pod has a domain
// (spec.subdomain: "<subdomain>.<namespace>.svc.<cluster domain>"), then the host aliases: a
// blank line, "# Entries added by HostAliases." and "<ip>\t<name>\t<name>..." per alias, as
// upstream's managedHostsFileContent.
std::string podHostsFile(const std::vector<std::string>& ips, const std::string& hostname,
                         const std::string& domain = "",
                         const std::vector<HostAlias>& aliases = {});
// /etc/hosts of a hostNetwork pod: the node's own hosts file (`nodeHosts`, its contents) under
// the "(host network)" header, then the host aliases, as upstream's nodeHostsFileContent.
std::string hostNetworkHostsFile(const std::string& nodeHosts,
                                 const std::vector<HostAlias>& aliases);

}  // namespace berth::kubelet::network
