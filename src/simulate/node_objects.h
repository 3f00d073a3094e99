#pragma once
// What a simulated kubelet writes, as pure functions of its inputs (testable without a server):
// the Node it registers, its Lease, the Ready/pressure conditions of its status heartbeats, and
// the status of a pod it "runs". Shapes follow upstream's kubelet (pkg/kubelet/nodestatus,
// pkg/kubelet/status, pkg/kubelet/nodelease) so clients reading them see a real node.
//
// Thread-safety: stateless functions; PodIpAllocator is a value type used by one node's strand.
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_cidr.h"
#include "core/ipv4_cidr.h"

namespace berth::simulate {

struct NodeShape {
  std::string name;
  std::string internalIp;
  std::string cpu = "4";
  std::string memory = "16Gi";
  std::string pods = "110";
  std::string ephemeralStorage = "100Gi";
  std::string arch = "amd64";
};

// metav1.MicroTime ("2026-01-02T03:04:05.123456Z") of now, as Lease renewTime is written.
std::string nowMicroTime();

// The Node as the kubelet's registerWithAPIServer creates it, status included (nodes allow it).
boost::json::object makeNode(const NodeShape& shape, const std::string& now);

// The node's four conditions as kubelet's setters write them, healthy, heartbeat `now`; a
// condition whose status is unchanged against `previous` (the server's node) keeps its
// lastTransitionTime.
boost::json::array nodeConditions(const boost::json::object* previous, const std::string& now);

// Whether the server's node shows conditions other than the healthy ones this kubelet writes
// (e.g. the node lifecycle controller's Ready=Unknown): then the kubelet posts status at once.
bool conditionsDiffer(const boost::json::object& node);

// The node's Lease in kube-node-lease, owned by the Node (so it goes with it).
boost::json::object makeLease(const std::string& node, const std::string& nodeUid,
                              const std::string& renewTime);

// The strategic-merge patch of pods/status that makes `pod` Running and Ready on this node:
// conditions, container statuses (init containers Completed), IPs (podIP the first of `podIps`,
// podIPs all of them: one per family of a dual-stack node), startTime, with the UID as
// precondition the way kubelet's status manager patches.
boost::json::object runningPodStatusPatch(const boost::json::object& pod,
                                          const std::vector<std::string>& podIps,
                                          const std::string& hostIp, const std::string& now);

// Whether the server's pod already shows what runningPodStatusPatch would write (idempotence:
// a kubelet writes status only when it changed).
bool podShowsRunning(const boost::json::object& pod, const std::vector<std::string>& podIps);

// Pod IPs of one node's podCIDR (either family) as CNI's host-local IPAM hands them out: the
// network address, the gateway (.1, the bridge) and the IPv4 broadcast address are never given;
// lowest free first; at most the first 65536 addresses of a larger block (an IPv6 /64).
class PodIpAllocator {
 public:
  PodIpAllocator() = default;
  explicit PodIpAllocator(core::IpCidr cidr);
  explicit PodIpAllocator(core::Ipv4Cidr cidr);
  bool configured() const { return !used_.empty(); }
  std::optional<std::string> allocate();
  // Marks an IP (a pod already running when the node restarts) as taken; false if outside.
  bool reserve(const std::string& ip);
  void release(const std::string& ip);
  size_t inUse() const { return count_; }

 private:
  std::optional<size_t> indexOf(const std::string& ip) const;
  // Whether the block's last address is its IPv4 broadcast address (never handed out).
  bool lastIsBroadcast() const;
  core::IpCidr cidr_;
  std::vector<bool> used_;
  size_t count_ = 0;
};

}  // namespace berth::simulate
