#pragma once
// StatsProvider: the node's, its pods' and their containers' CPU and memory usage (cgroup_stats.h)
// plus the node's file system and process counts, and per pod its network counters, volumes and
// ephemeral storage (fs_net_stats.h), as the kubelet's summary API reports them
// (summary_format.h renders them). The pods come from a PodSource (the pod manager), so this
// code knows nothing of pod workers; the metrics-server/HPA path reads Summary through here.
//
// usageNanoCores is a rate: the provider keeps the last sample of every cgroup and divides the
// CPU time between it and the new one by the time between them. Samples closer than
// `minRateWindow` to the kept one reuse its last rate instead, so frequent scrapes do not turn
// into noise; the first sample of a cgroup has no rate yet. Cgroups not seen in a round are
// forgotten.
//
// Housekeeping (start()): as cadvisor does, a background thread samples every `housekeeping`
// and summary() returns the last sample (its `time` fields say when it was taken) instead of
// walking cgroups and file systems per request. The directory walks (du of container writable
// layers, logs and volumes) are the expensive part; each directory's figures are kept and
// walked again only every `fsPeriod` (upstream's volume stats period, 1 minute by default).
// Without start(), summary() collects on every call, walking everything (the old behaviour).
//
// Thread-safety: summary() may be called from any thread; rounds are serialized.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kubelet/stats/cgroup_stats.h"
#include "kubelet/stats/fs_net_stats.h"

namespace berth::kubelet::stats {

struct ContainerRef {
  std::string name;
  std::string cgroup;  // absolute within each v1 hierarchy
  int64_t startNanos = 0;
  std::string rootfsDir;  // the writable layer (overlay upper and work dirs); empty = unknown
  std::string logDir;     // the container's log files
};

// A pod volume with a directory on the node (emptyDir, configMap, secret, downwardAPI,
// projected, persistentVolumeClaim; hostPath volumes have no stats, as upstream's MetricsNil).
struct VolumeRef {
  std::string name, path;
  std::string pvcName;     // for a persistentVolumeClaim: its claim (in the pod's namespace)
  bool ephemeral = false;  // counted in the pod's ephemeral-storage (not a claim)
};

struct PodRef {
  std::string name, ns, uid;
  std::string cgroup;
  int64_t startNanos = 0;
  std::vector<ContainerRef> containers;  // running ones only
  std::string netDevPath;  // /proc/<pid>/net/dev of a process in the pod's network namespace
  std::vector<VolumeRef> volumes;
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

struct FsStats {
  int64_t timeNanos = 0;
  uint64_t capacityBytes = 0, availableBytes = 0, usedBytes = 0;
  uint64_t inodes = 0, inodesFree = 0, inodesUsed = 0;
};

struct ContainerStats {
  std::string name;
  int64_t startNanos = 0;
  Usage usage;
  std::optional<FsStats> rootfs, logs;
};

struct NetworkStats {
  int64_t timeNanos = 0;
  std::vector<InterfaceStats> interfaces;  // eth0 (upstream's default interface) is also inline
};

struct VolumeStats {
  std::string name, pvcName, pvcNamespace;
  FsStats fs;
};

struct PodStats {
  std::string name, ns, uid;
  int64_t startNanos = 0;
  Usage usage;
  std::vector<ContainerStats> containers;
  std::optional<NetworkStats> network;
  std::vector<VolumeStats> volumes;
  // Upstream's calcEphemeralStorage: the node file system's capacity and free space, used =
  // the containers' writable layers and logs plus the pod's ephemeral volumes.
  std::optional<FsStats> ephemeralStorage;
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
  // Background sampling (start()): cgroups, network, node file system every `housekeeping`;
  // directory usage every `fsPeriod`.
  std::chrono::milliseconds housekeeping{10000};
  std::chrono::milliseconds fsPeriod{60000};
};

class StatsProvider {
 public:
  // `pods` may be null (node figures only); it must outlive the provider.
  StatsProvider(StatsProviderOptions options, PodSource* pods);
  ~StatsProvider();
  // The last housekeeping sample once start() has taken one; else a fresh collect().
  Summary summary();
  // One sampling round now: cgroups, network, node file system; directories walked again when
  // their figures are older than fsPeriod (when housekeeping runs) or always (when it does not).
  Summary collect();
  // Background housekeeping; the first sample is taken before start() returns.
  void start();
  void stop();
  // Wakes the housekeeping for a sample now (directories still on their own period); returns at
  // once. Without housekeeping, does nothing.
  void refreshSoon();

 private:
  Usage rate(const std::string& key, const Sample& sample, std::map<std::string, bool>& seen);
  void addDiskAndNetwork(const PodRef& ref, PodStats& p, int64_t nowNanos,
                         std::map<std::string, bool>& seenDirs);
  std::optional<FsStats> dirFs(const std::string& dir, int64_t nowNanos,
                               std::map<std::string, bool>& seenDirs);
  void housekeepingLoop();

  const StatsProviderOptions o_;
  PodSource* pods_;
  // Housekeeping state: the cached sample and the thread that refreshes it.
  std::mutex cacheMu_;
  std::condition_variable cacheCv_;
  std::shared_ptr<const Summary> cached_;  // guarded by cacheMu_
  bool stopping_ = false, wake_ = false;   // guarded by cacheMu_
  bool housekeeping_ = false;              // set by start() before the thread runs
  std::thread thread_;
  // Rounds are serialized under mu_, which guards kept_ and dirs_.
  std::mutex mu_;
  struct Walked {
    int64_t atNanos = 0;
    std::optional<FsStats> fs;
  };
  std::map<std::string, Walked> dirs_;  // walked directories' last figures, by path
  struct Kept {
    Sample sample;
    std::optional<uint64_t> lastRate;
  };
  std::map<std::string, Kept> kept_;  // by cgroup ("" = the node)
};

// Filesystem figures of the file system holding `path`; nullopt when it cannot be read.
std::optional<FsStats> readFs(const std::string& path, int64_t nowNanos);
// A directory's figures as upstream's MetricsDu: used bytes and inodes of the tree (diskUsage),
// capacity, available and inodes of its file system; nullopt when it cannot be read.
std::optional<FsStats> readDirFs(const std::string& dir, int64_t nowNanos);
// The process limit (/proc/sys/kernel/pid_max) and the processes running (/proc/loadavg).
void readProcessCounts(const std::string& proc, uint64_t* maxPid, uint64_t* curProc);

}  // namespace berth::kubelet::stats
