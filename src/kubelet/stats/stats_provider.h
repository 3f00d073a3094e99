#pragma once
// StatsProvider: the node's, its pods' and their containers' CPU and memory usage (cgroup_stats.h)
// plus the node's file system and process counts, as the kubelet's summary API reports them
// (summary_format.h renders them). The pods come from a PodSource (the pod manager), so this
// code knows nothing of pod workers; the metrics-server/HPA path reads Summary through here.
//
// usageNanoCores is a rate: the provider keeps the last sample of every cgroup and divides the
// CPU time between it and the new one by the time between them. Samples closer than
// `minRateWindow` to the kept one reuse its last rate instead, so frequent scrapes do not turn
// into noise; the first sample of a cgroup has no rate yet. Cgroups not seen in a round are
// forgotten.
//
// Thread-safety: summary() may be called from any thread; rounds are serialized.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kubelet/stats/cgroup_stats.h"

namespace berth::kubelet::stats {

struct ContainerRef {
  std::string name;
  std::string cgroup;  // absolute within each v1 hierarchy
  int64_t startNanos = 0;
};

struct PodRef {
  std::string name, ns, uid;
  std::string cgroup;
  int64_t startNanos = 0;
  std::vector<ContainerRef> containers;  // running ones only
};

class PodSource {
 public:
  virtual ~PodSource() = default;
  virtual std::vector<PodRef> statsPods() = 0;
};

// One cgroup's figures at one time: the raw sample and the CPU rate, when known.
struct Usage {
  Sample sample;
  std::optional<uint64_t> usageNanoCores;
};

struct ContainerStats {
  std::string name;
  int64_t startNanos = 0;
  Usage usage;
};

struct PodStats {
  std::string name, ns, uid;
  int64_t startNanos = 0;
  Usage usage;
  std::vector<ContainerStats> containers;
};

struct FsStats {
  int64_t timeNanos = 0;
  uint64_t capacityBytes = 0, availableBytes = 0, usedBytes = 0;
  uint64_t inodes = 0, inodesFree = 0, inodesUsed = 0;
};

struct NodeStats {
  std::string nodeName;
  int64_t startNanos = 0;  // boot time
  Usage usage;
  std::optional<FsStats> fs;  // the file system of the data dir (nodefs)
  // rlimit: the kernel's process limit and the processes now running (the PID pressure signal).
  uint64_t maxPid = 0, curProc = 0;
};

struct Summary {
  NodeStats node;
  std::vector<PodStats> pods;
};

struct StatsProviderOptions {
  std::string nodeName;
  std::string dataDir;  // nodefs
  CgroupPaths paths;
  std::chrono::milliseconds minRateWindow{1000};
};

class StatsProvider {
 public:
  // `pods` may be null (node figures only); it must outlive the provider.
  StatsProvider(StatsProviderOptions options, PodSource* pods);
  Summary summary();

 private:
  Usage rate(const std::string& key, const Sample& sample, std::map<std::string, bool>& seen);

  const StatsProviderOptions o_;
  PodSource* pods_;
  std::mutex mu_;
  struct Kept {
    Sample sample;
    std::optional<uint64_t> lastRate;
  };
  std::map<std::string, Kept> kept_;  // by cgroup ("" = the node)
};

// Filesystem figures of the file system holding `path`; nullopt when it cannot be read.
std::optional<FsStats> readFs(const std::string& path, int64_t nowNanos);
// The process limit (/proc/sys/kernel/pid_max) and the processes running (/proc/loadavg).
void readProcessCounts(const std::string& proc, uint64_t* maxPid, uint64_t* curProc);

}  // namespace berth::kubelet::stats
