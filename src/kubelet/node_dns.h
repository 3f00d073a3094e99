#pragma once
// NodeDns: the cluster DNS server (dns::ClusterDns) that every node agent runs in-process, as
// k3s runs its embedded components, instead of CoreDNS pods. It listens on the node's pod
// bridge gateway (the first address of the podCIDR, which the CNI bridge plugin gives berth0)
// on 53/UDP, 53/TCP and 9153/TCP (metrics), bound with IP_FREEBIND so it can start before the
// bridge exists, and publishes kube-system/kube-dns-<node>, an EndpointSlice of the selector-
// less kube-dns Service with that address and its nodeName, so the proxy sends each pod's
// queries for the cluster DNS address (--cluster-dns, 10.96.0.10 by default) to its own node
// (internalTrafficPolicy Local). stop() deletes the slice again.
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

  // Serves on the gateway of `podCidr` and publishes the slice.
  core::Status start(const std::string& podCidr);
  // Moves to the new gateway when the node's podCIDR changed (e.g. assigned after start).
  void updatePodCidr(const std::string& podCidr);
  void stop();
  std::string address() const;

 private:
  core::Status startLocked(const std::string& podCidr);
  void stopLocked();
  core::Status publishSlice();

  const NodeDnsOptions o_;
  client::RestClient& rest_;
  mutable std::mutex mu_;
  std::string podCidr_, gateway_;  // guarded by mu_
  std::unique_ptr<dns::ClusterDns> dns_;
};

// The gateway the CNI bridge plugin gives a podCIDR's bridge: its first host address.
core::Result<std::string> podCidrGateway(const std::string& podCidr);

}  // namespace berth::kubelet
