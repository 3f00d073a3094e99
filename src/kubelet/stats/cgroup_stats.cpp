#include "kubelet/stats/cgroup_stats.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

namespace berth::kubelet::stats {
namespace {

std::optional<uint64_t> readNumber(const std::string& file) {
  std::ifstream in(file);
  uint64_t v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

// "key value" lines (memory.stat; /proc/meminfo with its "kB" units multiplied in).
std::map<std::string, uint64_t> readKeyValues(const std::string& file) {
  std::map<std::string, uint64_t> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key, unit;
    uint64_t v = 0;
    if (!(ls >> key >> v)) continue;
    if (!key.empty() && key.back() == ':') key.pop_back();
    if (ls >> unit && unit == "kB") v *= 1024;
    out[key] = v;
  }
  return out;
}

uint64_t valueOr(const std::map<std::string, uint64_t>& m, const char* key, uint64_t fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

std::optional<MemorySample> readMemoryCgroup(const std::string& dir) {
  auto usage = readNumber(dir + "/memory.usage_in_bytes");
  if (!usage) return std::nullopt;
  auto stat = readKeyValues(dir + "/memory.stat");
  MemorySample m;
  m.usageBytes = *usage;
  // Hierarchical totals (total_*) include child cgroups, as a pod's figures must; the plain keys
  // are the fallback for a kernel without them.
  m.workingSetBytes =
      workingSet(*usage, valueOr(stat, "total_inactive_file", valueOr(stat, "inactive_file", 0)));
  m.rssBytes = valueOr(stat, "total_rss", valueOr(stat, "rss", 0));
  m.pageFaults = valueOr(stat, "total_pgfault", valueOr(stat, "pgfault", 0));
  m.majorPageFaults = valueOr(stat, "total_pgmajfault", valueOr(stat, "pgmajfault", 0));
  // An unlimited cgroup reports a page-rounded maximum; only a real limit gives availableBytes.
  if (auto limit = readNumber(dir + "/memory.limit_in_bytes"); limit && *limit < (1ULL << 62))
    m.availableBytes = *limit > m.workingSetBytes ? *limit - m.workingSetBytes : 0;
  return m;
}

// /proc/stat's first line: busy jiffies (everything but idle and iowait) in nanoseconds.
std::optional<uint64_t> procCpuNanos(const std::string& proc) {
  std::ifstream in(proc + "/stat");
  std::string cpu;
  uint64_t user, nice, system, idle, iowait, irq, softirq, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq) || cpu != "cpu")
    return std::nullopt;
  in >> steal;
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  uint64_t busy = user + nice + system + irq + softirq + steal;
  return busy * (1000000000ULL / static_cast<uint64_t>(hz));
}

}  // namespace

uint64_t workingSet(uint64_t usage, uint64_t inactiveFile) {
  return usage > inactiveFile ? usage - inactiveFile : 0;
}

int64_t unixNanosNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<Sample> readCgroup(const CgroupPaths& paths, const std::string& path,
                                 int64_t nowNanos) {
  Sample s;
  s.timeNanos = nowNanos;
  s.cpuUsageNanos = readNumber(paths.root + "/cpuacct" + path + "/cpuacct.usage");
  s.memory = readMemoryCgroup(paths.root + "/memory" + path);
  if (!s.cpuUsageNanos && !s.memory) return std::nullopt;
  return s;
}

Sample readNode(const CgroupPaths& paths, int64_t nowNanos) {
  Sample s;
  s.timeNanos = nowNanos;
  auto meminfo = readKeyValues(paths.proc + "/meminfo");
  uint64_t total = valueOr(meminfo, "MemTotal", 0);
  s.cpuUsageNanos = readNumber(paths.root + "/cpuacct/cpuacct.usage");
  if (!s.cpuUsageNanos) s.cpuUsageNanos = procCpuNanos(paths.proc);
  s.memory = readMemoryCgroup(paths.root + "/memory");
  if (!s.memory && total > 0) {
    MemorySample m;
    m.usageBytes = total - valueOr(meminfo, "MemFree", 0);
    m.workingSetBytes = workingSet(m.usageBytes, valueOr(meminfo, "Inactive(file)", 0));
    m.rssBytes = valueOr(meminfo, "AnonPages", 0);
    s.memory = m;
  }
  // The node's available memory is its capacity minus the working set (the kubelet's
  // memory.available eviction signal), whatever the root cgroup's own limit says.
  if (s.memory) {
    s.memory->availableBytes.reset();
    if (total > 0)
      s.memory->availableBytes =
          total > s.memory->workingSetBytes ? total - s.memory->workingSetBytes : 0;
  }
  return s;
}

}  // namespace berth::kubelet::stats
