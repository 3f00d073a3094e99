#pragma once
// Node-to-node pod routes, host-gw style (flannel's host-gw backend, kube-router's routes): for
// every other Node with a spec.podCIDR and an InternalIP, a route "<podCIDR> via <InternalIP>" in
// the node's network namespace, so pods on different nodes reach each other by pod IP without an
// overlay. It only works when the nodes share a layer-2 segment, which is what the test cluster
// (and any flat node network) gives. Routes carry their own protocol number, so a restarted
// agent finds the ones it installed before and removes those whose Node went away meanwhile.
//
// Thread-safety: PodRoutes::sync serializes itself; call it from any thread.
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::kubelet::network {

// "proto 98": routes this agent owns (rtnetlink protocol numbers 0-4 and a few named ones are
// taken; 98 is unassigned in /etc/iproute2/rt_protos).
inline constexpr int kPodRouteProtocol = 98;

// podCIDR -> next hop, for every Node but `selfName` that has both a podCIDR and an InternalIP
// (dual-stack: each of its podCIDRs via its InternalIP of the same family).
// A Node that is being deleted (deletionTimestamp set) still routes until it is gone.
std::map<std::string, std::string> desiredPodRoutes(const std::vector<boost::json::value>& nodes,
                                                    const std::string& selfName);

// The `ip` argument lists that turn `installed` into `desired`: replace for new or moved routes,
// del for routes no longer wanted.
std::vector<std::vector<std::string>> routeCommands(
    const std::map<std::string, std::string>& installed,
    const std::map<std::string, std::string>& desired);

// Parses `ip [-6] -j route show proto 98` output into podCIDR -> next hop.
std::map<std::string, std::string> parseIpRoutes(const std::string& json);

class PodRoutes {
 public:
  // Runs one `ip` command (argv without "ip"); returns its stdout or an error.
  using IpRunner = std::function<core::Result<std::string>(const std::vector<std::string>&)>;

  explicit PodRoutes(std::string selfName, IpRunner run = {});
  // Brings the namespace's routes in line with `nodes` (the whole Node list). Errors are
  // reported and retried on the next sync; a failed route does not stop the others.
  core::Status sync(const std::vector<boost::json::value>& nodes);
  std::map<std::string, std::string> installed() const;

 private:
  std::string self_;
  IpRunner run_;
  mutable std::mutex mu_;
  bool loaded_ = false;  // installed_ read from the kernel once
  std::map<std::string, std::string> installed_;
};

}  // namespace berth::kubelet::network
