// The cost of one /stats/summary request on the node (src/kubelet/stats), with and without
// the housekeeping cache, in the same run: a fake cgroup v1 tree and /proc (as the unit tests
// use) for PODS pods of two containers each, and per pod a writable layer, a log directory and
// an emptyDir of FILES small files each, the directories the summary walks with du.
//   uncached: StatsProvider::collect() + rendering (what every request did before: every cgroup
//             read and every directory walked per request);
//   cached:   summary() of a started provider (the last background sample) + rendering.
// Reports the median and p99 per request of each and their ratio, over REQUESTS requests.
//   stats_summary [pods=50] [files=200] [requests=50]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kubelet/stats/stats_provider.h"
#include "kubelet/stats/summary_format.h"

using namespace berth::kubelet::stats;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

void cgroup(const std::string& root, const std::string& path) {
  write(root + "/cpuacct" + path + "/cpuacct.usage", "123456789\n");
  write(root + "/memory" + path + "/memory.usage_in_bytes", "52428800\n");
  write(root + "/memory" + path + "/memory.limit_in_bytes", "9223372036854771712\n");
  write(root + "/memory" + path + "/memory.stat",
        "cache 100\nrss 7\ntotal_cache 200\ntotal_rss 4096\ntotal_inactive_file 1024\n"
        "total_pgfault 11\ntotal_pgmajfault 2\n");
}

class Pods : public PodSource {
 public:
  std::vector<PodRef> statsPods() override { return pods; }
  std::vector<PodRef> pods;
};

struct Figures {
  double p50us, p99us;
};

template <typename Fn>
Figures measure(int requests, Fn&& request) {
  std::vector<double> us;
  size_t bytes = 0;
  for (int i = 0; i < requests; ++i) {
    auto t = Clock::now();
    bytes += request().size();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(us.begin(), us.end());
  if (bytes == 0) std::fprintf(stderr, "empty responses\n");
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  int pods = argc > 1 ? std::atoi(argv[1]) : 50;
  int files = argc > 2 ? std::atoi(argv[2]) : 200;
  int requests = argc > 3 ? std::atoi(argv[3]) : 50;
  char tmpl[] = "/tmp/berth-stats-bench-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  CgroupPaths paths{dir + "/cgroup", dir + "/proc"};
  write(dir + "/proc/meminfo", "MemTotal: 4194304 kB\n");
  write(dir + "/proc/loadavg", "0.10 0.20 0.30 2/345 999\n");
  cgroup(paths.root, "");
  Pods source;
  for (int p = 0; p < pods; ++p) {
    std::string uid = "u" + std::to_string(p), pod = dir + "/pods/" + uid;
    cgroup(paths.root, "/berth/pod" + uid);
    PodRef ref{"pod-" + std::to_string(p), "default", uid, "/berth/pod" + uid, 1, {}};
    for (const char* c : {"app", "sidecar"}) {
      cgroup(paths.root, "/berth/pod" + uid + "/" + c);
      std::string rootfs = pod + "/" + c + "/upper", logs = pod + "/" + c + "/logs";
      for (int f = 0; f < files; ++f) write(rootfs + "/f" + std::to_string(f), "x");
      write(logs + "/0.log", std::string(4096, 'l'));
      ref.containers.push_back({c, "/berth/pod" + uid + "/" + c, 2, rootfs, logs});
    }
    for (int f = 0; f < files; ++f) write(pod + "/scratch/f" + std::to_string(f), "y");
    ref.volumes.push_back({"scratch", pod + "/scratch", "", true});
    source.pods.push_back(std::move(ref));
  }

  StatsProviderOptions o{"bench-node", dir, paths, std::chrono::milliseconds(1000)};
  StatsProvider uncached(o, &source);
  StatsProvider cached(o, &source);
  cached.start();  // housekeeping every 10 s, directories every minute: none during the run
  // Alternate the two in rounds so both see the same machine load.
  std::vector<double> u50, u99, c50, c99;
  for (int round = 0; round < 5; ++round) {
    Figures u = measure(requests / 5, [&] { return summaryJson(uncached.collect()); });
    Figures c = measure(requests / 5, [&] { return summaryJson(cached.summary()); });
    u50.push_back(u.p50us), u99.push_back(u.p99us), c50.push_back(c.p50us), c99.push_back(c.p99us);
  }
  cached.stop();
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("stats_summary: %d pods x 2 containers, %d files per walked directory, %d requests\n",
              pods, files, requests);
  std::printf("| path | p50 per request | p99 |\n|---|---|---|\n");
  std::printf("| uncached (collect per request) | %.0f us | %.0f us |\n", med(u50), med(u99));
  std::printf("| cached (housekeeping sample) | %.0f us | %.0f us |\n", med(c50), med(c99));
  std::printf("| ratio cached / uncached | %.3f | %.3f |\n", med(c50) / med(u50),
              med(c99) / med(u99));
  fs::remove_all(dir);
  return 0;
}
