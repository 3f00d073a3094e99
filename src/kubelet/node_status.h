#pragma once
// The node's own description, as the kubelet registers and reports it: capacity and allocatable
// (cpu, memory, pods, ephemeral-storage) from the host, addresses (InternalIP, Hostname),
// nodeInfo, the conditions Ready/MemoryPressure/DiskPressure/PIDPressure, and the kubelet's
// endpoint port.
//
// Thread-safety: pure functions, except probeHost which reads /proc and the file system.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace berth::kubelet {

struct HostFacts {
  long long milliCpu = 0, memoryBytes = 0, ephemeralBytes = 0;
  std::string hostname, internalIP;     // internalIP: the primary one, internalIPs[0]
  std::vector<std::string> internalIPs;  // one per family the node has, primary first
  std::string kernelVersion, osImage, architecture = "amd64", machineID, bootID;
  // Free memory, disk and process IDs as fractions, for the pressure conditions. Memory is the
  // kubelet's memory.available signal: capacity minus the root cgroup's working set.
  double memoryAvailableFraction = 1, diskAvailableFraction = 1, pidAvailableFraction = 1;
};

// The node's InternalIPs: `nodeIP` ("a" or a dual-stack "a,b", as the kubelet's --node-ip) when
// given; otherwise detected, the first global IPv4 address that is not on a pod bridge
// (127.0.0.1 when there is none), then the first such global IPv6 address if there is one.
std::vector<std::string> internalIPs(const std::string& nodeIP);
// Reads the host; InternalIPs as internalIPs(nodeIP).
HostFacts probeHost(const std::string& dataDir, const std::string& nodeIP);

// Why `name` cannot be this node's name ("" when it can): it must be a DNS subdomain (the
// Node's name) and a label value (its kubernetes.io/hostname label, at most 63 characters).
// Upstream's kubelet registers the same label and its registration fails on the API server's
// validation, retried forever; the agent says why at start instead.
std::string nodeNameProblem(const std::string& name);

// The Node object to create for `name`.
boost::json::object nodeObject(const std::string& name, const HostFacts& facts, int kubeletPort,
                               const boost::json::object& oldStatus, const std::string& now);
// Its status; transition times of unchanged conditions are kept from `oldStatus`.
boost::json::object nodeStatus(const HostFacts& facts, int kubeletPort,
                               const boost::json::object& oldStatus, const std::string& now);

}  // namespace berth::kubelet
