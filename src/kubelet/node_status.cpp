#include "kubelet/node_status.h"

#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/validation.h"
#include "kubelet/container_config.h"
#include "kubelet/stats/cgroup_stats.h"
#include "kubelet/stats/stats_provider.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string osImage() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

// The first global address of `family` on an interface that is not loopback, a pod bridge or a
// pod's veth; "" when there is none.
std::string detectIP(int family) {
  ifaddrs* addrs = nullptr;
  if (::getifaddrs(&addrs) != 0) return "";
  std::string found;
  for (auto* a = addrs; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != family) continue;
    if (a->ifa_flags & IFF_LOOPBACK) continue;
    std::string name = a->ifa_name;
    if (name == "berth0" || name == "cni0" || name.rfind("veth", 0) == 0) continue;
    char buf[INET6_ADDRSTRLEN];
    if (family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf,
                  sizeof buf);
    } else {
      const auto& a6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_LOOPBACK(&a6)) continue;
      ::inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    }
    found = buf;
  }
  ::freeifaddrs(addrs);
  return found;
}

json::object condition(const std::string& type, bool status, const std::string& reason,
                       const std::string& message, const json::object& oldStatus,
                       const std::string& now) {
  std::string s = status ? "True" : "False";
  std::string since = now;
  if (const auto* old = arr(oldStatus, "conditions"))
    for (const auto& c : *old)
      if (c.is_object() && str(c.as_object(), "type") == type &&
          str(c.as_object(), "status") == s && !str(c.as_object(), "lastTransitionTime").empty())
        since = str(c.as_object(), "lastTransitionTime");
  return {{"type", type},         {"status", s},      {"lastHeartbeatTime", now},
          {"lastTransitionTime", since}, {"reason", reason}, {"message", message}};
}

}  // namespace

std::vector<std::string> internalIPs(const std::string& nodeIP) {
  std::vector<std::string> out;
  if (!nodeIP.empty()) {
    size_t start = 0;
    while (start <= nodeIP.size()) {
      size_t comma = std::min(nodeIP.find(',', start), nodeIP.size());
      if (comma > start) out.push_back(nodeIP.substr(start, comma - start));
      start = comma + 1;
    }
    if (!out.empty()) return out;
  }
  std::string v4 = detectIP(AF_INET), v6 = detectIP(AF_INET6);
  out.push_back(v4.empty() ? "127.0.0.1" : v4);
  if (!v6.empty()) out.push_back(v6);
  return out;
}

HostFacts probeHost(const std::string& dataDir, const std::string& nodeIP) {
  HostFacts f;
  f.milliCpu = 1000LL * std::max(1u, std::thread::hardware_concurrency());
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long value = 0, total = 0, available = 0;
  std::string unit;
  while (meminfo >> key >> value >> unit) {
    if (key == "MemTotal:") total = value * 1024;
    if (key == "MemAvailable:") available = value * 1024;
  }
  f.memoryBytes = total;
  stats::Sample node = stats::readNode({}, stats::unixNanosNow());
  if (node.memory && node.memory->availableBytes) available = *node.memory->availableBytes;
  if (total > 0) f.memoryAvailableFraction = static_cast<double>(available) / total;
  uint64_t maxPid = 0, curProc = 0;
  stats::readProcessCounts("/proc", &maxPid, &curProc);
  if (maxPid > 0)
    f.pidAvailableFraction = static_cast<double>(maxPid - std::min(maxPid, curProc)) / maxPid;
  struct statvfs vfs{};
  if (::statvfs(dataDir.c_str(), &vfs) == 0) {
    f.ephemeralBytes = static_cast<long long>(vfs.f_blocks) * vfs.f_frsize;
    if (vfs.f_blocks) f.diskAvailableFraction = static_cast<double>(vfs.f_bavail) / vfs.f_blocks;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  f.hostname = host;
  f.internalIPs = internalIPs(nodeIP);
  f.internalIP = f.internalIPs.front();
  utsname u{};
  if (::uname(&u) == 0) {
    f.kernelVersion = u.release;
    std::string m = u.machine;
    f.architecture = m == "x86_64" ? "amd64" : m == "aarch64" ? "arm64" : m;
  }
  f.osImage = osImage();
  f.machineID = firstLine("/etc/machine-id");
  f.bootID = firstLine("/proc/sys/kernel/random/boot_id");
  return f;
}

json::object nodeStatus(const HostFacts& f, int kubeletPort, const json::object& oldStatus,
                        const std::string& now) {
  json::object capacity{{"cpu", std::to_string(f.milliCpu / 1000)},
                        {"memory", std::to_string(f.memoryBytes / 1024) + "Ki"},
                        {"pods", "110"},
                        {"ephemeral-storage", std::to_string(f.ephemeralBytes / 1024) + "Ki"}};
  // Eviction thresholds as upstream's defaults: memory.available < 100Mi, nodefs.available < 10%.
  bool memoryPressure = f.memoryBytes > 0 &&
                        f.memoryAvailableFraction * static_cast<double>(f.memoryBytes) < 100 << 20;
  bool diskPressure = f.diskAvailableFraction < 0.10;
  // Upstream sets no default pid.available threshold; berth uses 10% of the kernel's pid_max.
  bool pidPressure = f.pidAvailableFraction < 0.10;
  json::array conditions{
      condition("MemoryPressure", memoryPressure,
                memoryPressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                memoryPressure ? "kubelet has insufficient memory available"
                               : "kubelet has sufficient memory available",
                oldStatus, now),
      condition("DiskPressure", diskPressure,
                diskPressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                diskPressure ? "kubelet has disk pressure" : "kubelet has no disk pressure",
                oldStatus, now),
      condition("PIDPressure", pidPressure,
                pidPressure ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                pidPressure ? "kubelet has insufficient PID available"
                            : "kubelet has sufficient PID available",
                oldStatus, now),
      condition("Ready", true, "KubeletReady", "kubelet is posting ready status", oldStatus, now)};
  // One InternalIP per family, the primary first (upstream's order for a dual-stack --node-ip).
  json::array addresses;
  for (const auto& ip : f.internalIPs.empty() ? std::vector<std::string>{f.internalIP}
                                              : f.internalIPs)
    addresses.push_back(json::object{{"type", "InternalIP"}, {"address", ip}});
  addresses.push_back(json::object{{"type", "Hostname"}, {"address", f.hostname}});
  // Allocatable as upstream's GetNodeAllocatableAbsolute with no kube/system reservations: the
  // capacity less the default hard eviction thresholds (memory.available 100Mi,
  // nodefs.available 10% of the file system, subtracted as bytes).
  long long memoryKi = f.memoryBytes / 1024, ephemeral = f.ephemeralBytes / 1024 * 1024;
  json::object allocatable = capacity;
  allocatable["memory"] = std::to_string(std::max(0LL, memoryKi - (100 << 10))) + "Ki";
  allocatable["ephemeral-storage"] =
      std::to_string(ephemeral - static_cast<long long>(static_cast<double>(ephemeral) * 0.1));
  return {{"capacity", capacity},
          {"allocatable", allocatable},
          {"conditions", conditions},
          {"addresses", addresses},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", kubeletPort}}}}},
          {"nodeInfo",
           {{"machineID", f.machineID},
            {"systemUUID", f.machineID},
            {"bootID", f.bootID},
            {"kernelVersion", f.kernelVersion},
            {"osImage", f.osImage},
            {"containerRuntimeVersion", "berth://0.1.0"},
            {"kubeletVersion", "v1.32.0-berth"},
            {"kubeProxyVersion", "v1.32.0-berth"},
            {"operatingSystem", "linux"},
            {"architecture", f.architecture}}}};
}

std::string nodeNameProblem(const std::string& name) {
  auto join = [](const std::vector<std::string>& errs) {
    std::string out;
    for (const auto& e : errs) out += (out.empty() ? "" : "; ") + e;
    return out;
  };
  if (auto errs = core::validation::isDns1123Subdomain(name); !errs.empty())
    return "node name \"" + name + "\" is not a valid Node name: " + join(errs) +
           " (set --node-name)";
  if (auto errs = core::validation::isValidLabelValue(name); !errs.empty())
    return "node name \"" + name + "\" cannot be the kubernetes.io/hostname label value: " +
           join(errs) + "; upstream's kubelet cannot register such a node either " +
           "(set --node-name to a name of at most 63 characters, e.g. the host name without " +
           "its domain)";
  return "";
}

json::object nodeObject(const std::string& name, const HostFacts& f, int kubeletPort,
                        const json::object& oldStatus, const std::string& now) {
  json::object labels{{"kubernetes.io/hostname", name},
                      {"kubernetes.io/os", "linux"},
                      {"kubernetes.io/arch", f.architecture},
                      {"beta.kubernetes.io/os", "linux"},
                      {"beta.kubernetes.io/arch", f.architecture}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", json::object{}},
          {"status", nodeStatus(f, kubeletPort, oldStatus, now)}};
}

}  // namespace berth::kubelet
