#include "kubelet/stats/fs_net_stats.h"

#include <ftw.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

namespace berth::kubelet::stats {

namespace {

// nftw has no user pointer: one walk at a time, its state here.
std::mutex walkMu;
DiskUsage* walkTotal = nullptr;
std::set<std::pair<dev_t, ino_t>>* walkLinks = nullptr;

int visit(const char*, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return 0;
  ++walkTotal->inodes;
  // du counts a file with several links once.
  if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) &&
      !walkLinks->insert({st->st_dev, st->st_ino}).second)
    return 0;
  walkTotal->bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

std::optional<DiskUsage> diskUsage(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return std::nullopt;
  std::lock_guard lock(walkMu);
  DiskUsage total;
  std::set<std::pair<dev_t, ino_t>> links;
  walkTotal = &total;
  walkLinks = &links;
  // FTW_PHYS: symlinks are not followed; FTW_MOUNT: one file system, as du -x.
  int rc = ::nftw(dir.c_str(), visit, 32, FTW_PHYS | FTW_MOUNT);
  walkTotal = nullptr;
  walkLinks = nullptr;
  if (rc != 0) return std::nullopt;
  return total;
}

std::optional<std::vector<InterfaceStats>> readNetDev(const std::string& procNetDev) {
  std::ifstream in(procNetDev);
  if (!in) return std::nullopt;
  std::vector<InterfaceStats> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name.rfind("lo", 0) == 0 || name.rfind("veth", 0) == 0 || name.rfind("docker", 0) == 0)
      continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t v[11] = {};
    for (auto& x : v) fields >> x;
    if (!fields) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit.
    out.push_back({name, v[0], v[2], v[8], v[10]});
  }
  return out;
}

}  // namespace berth::kubelet::stats
