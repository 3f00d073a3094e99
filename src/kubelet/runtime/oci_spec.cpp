#include "kubelet/runtime/oci_spec.h"

#include <algorithm>
#include <set>

namespace json = boost::json;

namespace berth::kubelet::runtime {

namespace {

const std::vector<std::string>& allCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return caps;
}

std::string capName(const std::string& k8s) {
  std::string up = k8s;
  std::transform(up.begin(), up.end(), up.begin(), ::toupper);
  return up.rfind("CAP_", 0) == 0 ? up : "CAP_" + up;
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object mountJson(const std::string& dest, const std::string& type, const std::string& src,
                       std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", src}, {"options", strings(options)}};
}

json::array defaultMounts(const ContainerConfig& c) {
  json::array m;
  m.push_back(mountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  m.push_back(
      mountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  m.push_back(mountJson("/dev/pts", "devpts", "devpts",
                        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  m.push_back(mountJson("/dev/shm", "tmpfs", "shm",
                        {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push_back(mountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  const char* sysMode = c.privileged ? "rw" : "ro";
  m.push_back(mountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sysMode}));
  m.push_back(mountJson("/sys/fs/cgroup", "cgroup", "cgroup",
                        {"nosuid", "noexec", "nodev", "relatime", sysMode}));
  return m;
}

json::object resourcesJson(const ContainerConfig& c) {
  json::object cpu{{"shares", c.resources.cpuShares}};
  if (c.resources.cpuQuotaMicros > 0) {
    cpu["quota"] = c.resources.cpuQuotaMicros;
    cpu["period"] = 100000;
  }
  json::object r{{"cpu", cpu}};
  if (c.resources.memoryLimitBytes > 0)
    r["memory"] = json::object{{"limit", c.resources.memoryLimitBytes},
                               {"swap", c.resources.memoryLimitBytes}};
  if (c.resources.pidsLimit > 0) r["pids"] = json::object{{"limit", c.resources.pidsLimit}};
  // Default device rules as runc's `spec` writes them; privileged containers get every device.
  json::array devices{json::object{{"allow", c.privileged}, {"access", "rwm"}}};
  r["devices"] = devices;
  return r;
}

}  // namespace

const std::vector<std::string>& defaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",     "CAP_FOWNER",
      "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",     "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",   "CAP_AUDIT_WRITE"};
  return caps;
}

std::vector<std::string> effectiveCapabilities(const ContainerConfig& c) {
  if (c.privileged) return allCapabilities();
  std::set<std::string> add, drop;
  for (const auto& a : c.capAdd) add.insert(capName(a));
  for (const auto& d : c.capDrop) drop.insert(capName(d));
  std::vector<std::string> out;
  // As containerd: add ALL = every capability; drop ALL = none but the added ones.
  const auto& base = add.count("CAP_ALL") ? allCapabilities() : defaultCapabilities();
  for (const auto& cap : base)
    if (!drop.count(cap) && !drop.count("CAP_ALL")) out.push_back(cap);
  for (const auto& cap : add) {
    if (cap == "CAP_ALL" || drop.count(cap)) continue;
    if (std::find(out.begin(), out.end(), cap) == out.end()) out.push_back(cap);
  }
  return out;
}

long long milliCpuToShares(long long milli) {
  if (milli <= 0) return 2;
  return std::max(2LL, milli * 1024 / 1000);
}

long long milliCpuToQuota(long long milli) {
  if (milli <= 0) return 0;
  return std::max(1000LL, milli * 100000 / 1000);
}

json::object buildOciSpec(const ContainerConfig& c) {
  auto caps = strings(effectiveCapabilities(c));
  json::object user{{"uid", c.uid}, {"gid", c.gid}};
  if (!c.additionalGids.empty()) {
    json::array gids;
    for (auto g : c.additionalGids) gids.emplace_back(g);
    user["additionalGids"] = gids;
  }
  json::object process{
      {"terminal", c.tty},
      {"user", user},
      {"args", strings(c.args)},
      {"env", strings(c.env)},
      {"cwd", c.cwd.empty() ? "/" : c.cwd},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", !c.privileged && !c.allowPrivilegeEscalation.value_or(true)},
      {"oomScoreAdj", c.oomScoreAdj}};

  json::array mounts = defaultMounts(c);
  for (const auto& m : c.mounts) {
    std::vector<std::string> options;
    if (m.type == "bind") options = {"rbind", "rprivate"};
    else options = {"nosuid", "nodev"};
    options.push_back(m.readOnly ? "ro" : "rw");
    for (const auto& o : m.extraOptions) options.push_back(o);
    mounts.push_back(mountJson(m.destination, m.type, m.source, options));
  }

  json::array namespaces{json::object{{"type", "pid"}}, json::object{{"type", "mount"}}};
  auto ns = [&](const char* type, const std::string& path) {
    json::object o{{"type", type}};
    if (!path.empty()) o["path"] = path;
    namespaces.push_back(o);
  };
  if (!c.hostNetwork) ns("network", c.netns);
  ns("ipc", c.ipcns);
  if (!c.hostNetwork) ns("uts", c.utsns);

  json::object linuxSection{{"cgroupsPath", c.cgroupsPath},
                     {"resources", resourcesJson(c)},
                     {"namespaces", namespaces}};
  if (!c.privileged) {
    linuxSection["maskedPaths"] = strings({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                    "/proc/latency_stats", "/proc/timer_list",
                                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                    "/proc/scsi"});
    linuxSection["readonlyPaths"] = strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"});
  }

  json::object spec{{"ociVersion", "1.0.2-dev"},
                    {"process", process},
                    {"root", {{"path", c.rootfs}, {"readonly", c.readOnlyRootfs}}},
                    {"mounts", mounts},
                    {"linux", linuxSection}};
  // A joined UTS namespace already carries the pod's hostname; runc sets it only in a new one.
  if (c.utsns.empty() && !c.hostNetwork && !c.hostname.empty()) spec["hostname"] = c.hostname;
  return spec;
}

}  // namespace berth::kubelet::runtime
