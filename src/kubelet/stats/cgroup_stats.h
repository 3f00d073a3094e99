#pragma once
// Raw CPU and memory readings of one cgroup (v1: cpuacct and memory controllers) or of the whole
// node, as cAdvisor takes them for the kubelet: cumulative CPU time from cpuacct.usage, memory
// usage from memory.usage_in_bytes and the working set as usage minus total_inactive_file
// (never below 0), RSS and page faults from memory.stat's hierarchical totals. The node's
// figures come from the root cgroup, or from /proc/stat and /proc/meminfo when the root cgroup
// cannot be read.
//
// Thread-safety: plain functions over the file system.
#include <cstdint>
#include <optional>
#include <string>

namespace berth::kubelet::stats {

struct MemorySample {
  uint64_t usageBytes = 0, workingSetBytes = 0, rssBytes = 0;
  uint64_t pageFaults = 0, majorPageFaults = 0;
  std::optional<uint64_t> availableBytes;  // limit (or node capacity) minus working set
};

struct Sample {
  int64_t timeNanos = 0;                  // when it was read, Unix nanoseconds
  std::optional<uint64_t> cpuUsageNanos;  // cumulative CPU time
  std::optional<MemorySample> memory;
};

// Where the cgroup v1 controllers are mounted (<root>/cpuacct, <root>/memory) and the proc
// file system; tests point them at fake trees.
struct CgroupPaths {
  std::string root = "/sys/fs/cgroup";
  std::string proc = "/proc";
};

// The cgroup `path` (absolute within each hierarchy, e.g. "/berth/pod<uid>/<id>"); nullopt when
// neither controller has it (the container has gone).
std::optional<Sample> readCgroup(const CgroupPaths& paths, const std::string& path,
                                 int64_t nowNanos);
// The whole node: the root cgroups, else /proc.
Sample readNode(const CgroupPaths& paths, int64_t nowNanos);

// memory.stat's working set: usage minus inactive file pages, floored at 0.
uint64_t workingSet(uint64_t usage, uint64_t inactiveFile);

int64_t unixNanosNow();

}  // namespace berth::kubelet::stats
