#pragma once
// NodeDns: the cluster DNS server (dns::ClusterDns) that every node agent runs in-process, as
// k3s runs its embedded components, instead of CoreDNS pods. It listens on the node's pod
// bridge gateway (the first address of the podCIDR, which the CNI bridge plugin gives berth0)
// on 53/UDP, 53/TCP and 9153/TCP (metrics), bound with IP_FREEBIND so it can start before the
// bridge exists, and publishes kube-system/kube-dns-<node>, an EndpointSlice of the selector-
// less kube-dns Service with that address and its nodeName, so the proxy sends each pod's
// queries for the cluster DNS address (--cluster-dns, 10.96.0.10 by default) to its own node
// (internalTrafficPolicy Local). A dual-stack node also serves on its IPv6 bridge gateway and
// publishes kube-dns-<node>-ipv6 (addressType IPv6), so an IPv6 kube-dns ClusterIP (an
// IPv6-primary cluster's) reaches it too. stop() deletes the slices again.
//
// Thread-safety: start()/updatePodCidr()/stop() from the agent's threads, serialized by a mutex.
#include <memory>
#include <mutex>
#include <string>

#include "client/rest_client.h"
#include "dns/cluster_dns.h"

namespace berth::kubelet {

struct NodeDnsOptions {
  client::RestConfig rest;
  std::string nodeName;
  std::string clusterDomain = "cluster.local";
  std::string clusterDns = "10.96.0.10";
};

class NodeDns {
 public:
  NodeDns(NodeDnsOptions options, client::RestClient& rest);
  ~NodeDns();

  // Serves on the gateways of the IPv4 `podCidr` and the IPv6 `podCidr6` (either may be empty,
  // not both) and publishes a slice per family.
  core::Status start(const std::string& podCidr, const std::string& podCidr6 = "");
  // Moves to the new gateways when the node's podCIDRs changed (e.g. assigned after start).
  void updatePodCidr(const std::string& podCidr, const std::string& podCidr6 = "");
  void stop();
  std::string address() const;

 private:
  core::Status startLocked(const std::string& podCidr, const std::string& podCidr6);
  void stopLocked();
  core::Status publishSlice(const std::string& name, const char* addressType,
                            const std::string& address);

  const NodeDnsOptions o_;
  client::RestClient& rest_;
  mutable std::mutex mu_;
  std::string podCidr_, gateway_, podCidr6_, gateway6_;  // guarded by mu_
  std::unique_ptr<dns::ClusterDns> dns_;
};

// The gateway the CNI bridge plugin gives a podCIDR's bridge: its first host address.
core::Result<std::string> podCidrGateway(const std::string& podCidr);

}  // namespace berth::kubelet
