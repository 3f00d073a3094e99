#include "kubelet/stats/stats_provider.h"

#include <sys/statvfs.h>

#include <charconv>
#include <fstream>

namespace berth::kubelet::stats {

StatsProvider::StatsProvider(StatsProviderOptions options, PodSource* pods)
    : o_(std::move(options)), pods_(pods) {}

StatsProvider::~StatsProvider() { stop(); }

void StatsProvider::start() {
  if (thread_.joinable()) return;
  housekeeping_ = true;
  auto first = std::make_shared<const Summary>(collect());
  {
    std::lock_guard lock(cacheMu_);
    cached_ = std::move(first);
    stopping_ = false;
  }
  thread_ = std::thread([this] { housekeepingLoop(); });
}

void StatsProvider::stop() {
  {
    std::lock_guard lock(cacheMu_);
    stopping_ = true;
  }
  cacheCv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatsProvider::refreshSoon() {
  {
    std::lock_guard lock(cacheMu_);
    wake_ = true;
  }
  cacheCv_.notify_all();
}

void StatsProvider::housekeepingLoop() {
  std::unique_lock lock(cacheMu_);
  while (!stopping_) {
    cacheCv_.wait_for(lock, o_.housekeeping, [this] { return stopping_ || wake_; });
    if (stopping_) break;
    wake_ = false;
    lock.unlock();
    auto next = std::make_shared<const Summary>(collect());
    lock.lock();
    cached_ = std::move(next);
  }
}

Summary StatsProvider::summary() {
  {
    std::lock_guard lock(cacheMu_);
    if (cached_) return *cached_;
  }
  return collect();
}

Usage StatsProvider::rate(const std::string& key, const Sample& sample,
                          std::map<std::string, bool>& seen) {
  seen[key] = true;
  Usage u{sample, std::nullopt};
  auto it = kept_.find(key);
  if (it == kept_.end()) {
    kept_[key] = {sample, std::nullopt};
    return u;
  }
  Kept& k = it->second;
  int64_t dt = sample.timeNanos - k.sample.timeNanos;
  if (dt < std::chrono::nanoseconds(o_.minRateWindow).count() || !sample.cpuUsageNanos ||
      !k.sample.cpuUsageNanos) {
    u.usageNanoCores = k.lastRate;
    return u;
  }
  // A counter that went backwards is a new cgroup under the same path: start over.
  if (*sample.cpuUsageNanos >= *k.sample.cpuUsageNanos && dt > 0) {
    long double cores = static_cast<long double>(*sample.cpuUsageNanos - *k.sample.cpuUsageNanos) /
                        static_cast<long double>(dt);
    k.lastRate = static_cast<uint64_t>(cores * 1e9L);
  } else {
    k.lastRate.reset();
  }
  k.sample = sample;
  u.usageNanoCores = k.lastRate;
  return u;
}

Summary StatsProvider::collect() {
  std::vector<PodRef> refs;
  if (pods_ != nullptr) refs = pods_->statsPods();
  std::lock_guard lock(mu_);
  std::map<std::string, bool> seen, seenDirs;
  Summary s;
  int64_t now = unixNanosNow();
  s.node.nodeName = o_.nodeName;
  s.node.usage = rate("", readNode(o_.paths, now), seen);
  if (!o_.dataDir.empty()) s.node.fs = readFs(o_.dataDir, now);
  readProcessCounts(o_.paths.proc, &s.node.maxPid, &s.node.curProc);
  {
    std::ifstream in(o_.paths.proc + "/uptime");
    double up = 0;
    if (in >> up) s.node.startNanos = now - static_cast<int64_t>(up * 1e9);
  }
  for (const auto& ref : refs) {
    auto podSample = readCgroup(o_.paths, ref.cgroup, now);
    if (!podSample) continue;  // torn down since the pod source listed it
    PodStats p{ref.name, ref.ns, ref.uid, ref.startNanos, rate(ref.cgroup, *podSample, seen), {}};
    for (const auto& c : ref.containers) {
      auto cs = readCgroup(o_.paths, c.cgroup, now);
      if (!cs) continue;
      p.containers.push_back({c.name, c.startNanos, rate(c.cgroup, *cs, seen), {}, {}});
    }
    addDiskAndNetwork(ref, p, now, seenDirs);
    s.pods.push_back(std::move(p));
  }
  for (auto it = kept_.begin(); it != kept_.end();)
    it = seen.count(it->first) ? std::next(it) : kept_.erase(it);
  for (auto it = dirs_.begin(); it != dirs_.end();)
    it = seenDirs.count(it->first) ? std::next(it) : dirs_.erase(it);
  return s;
}

// A directory's figures: walked when housekeeping does not run, when not walked yet, or when
// the last walk is older than fsPeriod; else the last walk's (with its time).
std::optional<FsStats> StatsProvider::dirFs(const std::string& dir, int64_t now,
                                            std::map<std::string, bool>& seenDirs) {
  seenDirs[dir] = true;
  auto it = dirs_.find(dir);
  if (housekeeping_ && it != dirs_.end() &&
      now - it->second.atNanos < std::chrono::nanoseconds(o_.fsPeriod).count())
    return it->second.fs;
  auto fs = readDirFs(dir, now);
  dirs_[dir] = {now, fs};
  return fs;
}

void StatsProvider::addDiskAndNetwork(const PodRef& ref, PodStats& p, int64_t now,
                                      std::map<std::string, bool>& seenDirs) {
  if (!ref.netDevPath.empty())
    if (auto ifaces = readNetDev(ref.netDevPath)) p.network = NetworkStats{now, std::move(*ifaces)};
  std::optional<FsStats> eph = o_.dataDir.empty() ? std::nullopt : readFs(o_.dataDir, now);
  if (eph) eph->usedBytes = eph->inodesUsed = 0;
  auto add = [&](const std::optional<FsStats>& f) {
    if (eph && f) eph->usedBytes += f->usedBytes, eph->inodesUsed += f->inodesUsed;
  };
  for (auto& c : p.containers) {
    for (const auto& cref : ref.containers) {
      if (cref.name != c.name) continue;
      if (!cref.rootfsDir.empty()) c.rootfs = dirFs(cref.rootfsDir, now, seenDirs);
      if (!cref.logDir.empty()) c.logs = dirFs(cref.logDir, now, seenDirs);
    }
    add(c.rootfs);
    add(c.logs);
  }
  for (const auto& v : ref.volumes) {
    auto fs = dirFs(v.path, now, seenDirs);
    if (!fs) continue;
    p.volumes.push_back({v.name, v.pvcName, v.pvcName.empty() ? "" : ref.ns, *fs});
    if (v.ephemeral) add(fs);
  }
  p.ephemeralStorage = eph;
}

std::optional<FsStats> readDirFs(const std::string& dir, int64_t nowNanos) {
  auto fs = readFs(dir, nowNanos);
  auto du = fs ? diskUsage(dir) : std::nullopt;
  if (!du) return std::nullopt;
  fs->usedBytes = du->bytes;
  fs->inodesUsed = du->inodes;
  return fs;
}

std::optional<FsStats> readFs(const std::string& path, int64_t nowNanos) {
  struct statvfs v {};
  if (::statvfs(path.c_str(), &v) != 0) return std::nullopt;
  FsStats f;
  f.timeNanos = nowNanos;
  f.capacityBytes = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
  f.availableBytes = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  f.usedBytes = static_cast<uint64_t>(v.f_blocks - v.f_bfree) * v.f_frsize;
  f.inodes = v.f_files;
  f.inodesFree = v.f_ffree;
  f.inodesUsed = v.f_files - v.f_ffree;
  return f;
}

void readProcessCounts(const std::string& proc, uint64_t* maxPid, uint64_t* curProc) {
  std::ifstream pidMax(proc + "/sys/kernel/pid_max");
  pidMax >> *maxPid;
  // /proc/loadavg: "0.00 0.01 0.05 running/total lastpid".
  std::ifstream loadavg(proc + "/loadavg");
  std::string a, b, c, tasks;
  if (loadavg >> a >> b >> c >> tasks) {
    size_t slash = tasks.find('/');
    if (slash != std::string::npos)
      std::from_chars(tasks.data() + slash + 1, tasks.data() + tasks.size(), *curProc);
  }
}

}  // namespace berth::kubelet::stats
