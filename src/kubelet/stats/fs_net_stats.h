#pragma once
// The summary API's disk and network figures that do not come from cgroups:
//   - diskUsage: a directory tree's usage as upstream's MetricsDu measures volumes (`du -x -s
//     -B 1`: allocated blocks, one file system, hard links once; `find -xdev` for inodes);
//   - readNetDev: a network namespace's interface counters from /proc/<pid>/net/dev of a process
//     in it (cadvisor's view of a pod: every interface but lo, veth*, docker*).
//
// Thread-safety: pure functions over the file system.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::kubelet::stats {

struct DiskUsage {
  uint64_t bytes = 0, inodes = 0;
};
// nullopt when `dir` cannot be read.
std::optional<DiskUsage> diskUsage(const std::string& dir);

struct InterfaceStats {
  std::string name;
  uint64_t rxBytes = 0, rxErrors = 0, txBytes = 0, txErrors = 0;
};
// The interfaces of /proc/<pid>/net/dev (`procNetDev` is that file's path), cadvisor's ignored
// devices left out; nullopt when it cannot be read.
std::optional<std::vector<InterfaceStats>> readNetDev(const std::string& procNetDev);

}  // namespace berth::kubelet::stats
