#include "kubelet/stats/cgroup_stats.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "kubelet/stats/stats_provider.h"

namespace berth::kubelet::stats {
namespace {

namespace fs = std::filesystem;

// A fake cgroup v1 tree and /proc under a temp dir.
class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-stats-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    paths_.root = dir_ + "/cgroup";
    paths_.proc = dir_ + "/proc";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& content) {
    fs::path p = dir_ + "/" + rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  void cgroup(const std::string& path, uint64_t cpu, uint64_t usage, uint64_t inactiveFile,
              uint64_t limit = 9223372036854771712ULL) {
    write("cgroup/cpuacct" + path + "/cpuacct.usage", std::to_string(cpu) + "\n");
    write("cgroup/memory" + path + "/memory.usage_in_bytes", std::to_string(usage) + "\n");
    write("cgroup/memory" + path + "/memory.limit_in_bytes", std::to_string(limit) + "\n");
    write("cgroup/memory" + path + "/memory.stat",
          "cache 100\nrss 7\ninactive_file 1\npgfault 3\ntotal_cache 200\ntotal_rss 4096\n"
          "total_inactive_file " +
              std::to_string(inactiveFile) + "\ntotal_pgfault 11\ntotal_pgmajfault 2\n");
  }

  std::string dir_;
  CgroupPaths paths_;
};

TEST_F(FakeTree, ReadsCpuAndWorkingSetFromHierarchicalTotals) {
  cgroup("/berth/podA/c1", 123456789, 50 << 20, 10 << 20);
  auto s = readCgroup(paths_, "/berth/podA/c1", 42);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->timeNanos, 42);
  EXPECT_EQ(s->cpuUsageNanos, 123456789u);
  ASSERT_TRUE(s->memory.has_value());
  EXPECT_EQ(s->memory->usageBytes, 50u << 20);
  EXPECT_EQ(s->memory->workingSetBytes, 40u << 20);
  EXPECT_EQ(s->memory->rssBytes, 4096u);
  EXPECT_EQ(s->memory->pageFaults, 11u);
  EXPECT_EQ(s->memory->majorPageFaults, 2u);
  EXPECT_FALSE(s->memory->availableBytes.has_value()) << "no limit, no availableBytes";
}

TEST_F(FakeTree, LimitGivesAvailableBytesAndWorkingSetNeverNegative) {
  cgroup("/c", 1, 100, 500, 1000);
  auto s = readCgroup(paths_, "/c", 1);
  ASSERT_TRUE(s && s->memory);
  EXPECT_EQ(s->memory->workingSetBytes, 0u);
  EXPECT_EQ(s->memory->availableBytes, 1000u);
  EXPECT_EQ(workingSet(10, 3), 7u);
}

TEST_F(FakeTree, MissingCgroupIsNullopt) {
  EXPECT_FALSE(readCgroup(paths_, "/gone", 1).has_value());
}

TEST_F(FakeTree, NodeFromRootCgroupWithAvailableFromMeminfo) {
  cgroup("", 5000000000, 3ULL << 30, 1ULL << 30);
  write("proc/meminfo", "MemTotal:        4194304 kB\nMemFree:  1024 kB\nInactive(file): 8 kB\n");
  Sample n = readNode(paths_, 7);
  EXPECT_EQ(n.cpuUsageNanos, 5000000000u);
  ASSERT_TRUE(n.memory);
  EXPECT_EQ(n.memory->workingSetBytes, 2ULL << 30);
  EXPECT_EQ(n.memory->availableBytes, (4ULL << 30) - (2ULL << 30));
}

TEST_F(FakeTree, NodeFallsBackToProcStatAndMeminfo) {
  write("proc/stat", "cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  write("proc/meminfo",
        "MemTotal:        1000 kB\nMemFree:          200 kB\nInactive(file):   300 kB\n"
        "AnonPages:        100 kB\n");
  Sample n = readNode(paths_, 7);
  long hz = ::sysconf(_SC_CLK_TCK);
  // user+nice+system+irq+softirq+steal = 170 jiffies.
  EXPECT_EQ(n.cpuUsageNanos, 170u * (1000000000u / hz));
  ASSERT_TRUE(n.memory);
  EXPECT_EQ(n.memory->usageBytes, 800u * 1024);
  EXPECT_EQ(n.memory->workingSetBytes, 500u * 1024);
  EXPECT_EQ(n.memory->rssBytes, 100u * 1024);
  EXPECT_EQ(n.memory->availableBytes, 500u * 1024);
}

class FakePods : public PodSource {
 public:
  std::vector<PodRef> statsPods() override { return pods; }
  std::vector<PodRef> pods;
};

TEST_F(FakeTree, ProviderComputesNanoCoresFromTwoSamples) {
  cgroup("", 1000, 1 << 20, 0);
  cgroup("/berth/podU", 0, 60 << 20, 0);
  cgroup("/berth/podU/c1", 0, 50 << 20, 0);
  write("proc/meminfo", "MemTotal: 4194304 kB\n");
  write("proc/sys/kernel/pid_max", "4194304\n");
  write("proc/loadavg", "0.10 0.20 0.30 2/345 999\n");
  FakePods pods;
  pods.pods = {{"web", "default", "U", "/berth/podU", 5, {{"app", "/berth/podU/c1", 6}}}};
  StatsProvider provider({"node1", dir_, paths_, std::chrono::milliseconds(50)}, &pods);
  Summary first = provider.summary();
  EXPECT_EQ(first.node.nodeName, "node1");
  EXPECT_EQ(first.node.maxPid, 4194304u);
  EXPECT_EQ(first.node.curProc, 345u);
  ASSERT_TRUE(first.node.fs.has_value());
  ASSERT_EQ(first.pods.size(), 1u);
  ASSERT_EQ(first.pods[0].containers.size(), 1u);
  EXPECT_FALSE(first.pods[0].containers[0].usage.usageNanoCores) << "one sample has no rate";

  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // The container burnt 1 s of CPU; over ~0.1 s that is far more than one core.
  cgroup("/berth/podU/c1", 1000000000, 50 << 20, 0);
  Summary second = provider.summary();
  auto rate = second.pods[0].containers[0].usage.usageNanoCores;
  ASSERT_TRUE(rate.has_value());
  int64_t dt = second.pods[0].containers[0].usage.sample.timeNanos -
               first.pods[0].containers[0].usage.sample.timeNanos;
  EXPECT_EQ(*rate, static_cast<uint64_t>(1e18 / dt));
  EXPECT_EQ(second.pods[0].usage.usageNanoCores, 0u) << "the pod cgroup's counter did not move";

  // Within the window the last rate is reused, not recomputed from a tiny interval.
  cgroup("/berth/podU/c1", 1000000001, 50 << 20, 0);
  EXPECT_EQ(provider.summary().pods[0].containers[0].usage.usageNanoCores, rate);

  // A pod whose cgroup is gone is left out.
  fs::remove_all(dir_ + "/cgroup/cpuacct/berth/podU");
  fs::remove_all(dir_ + "/cgroup/memory/berth/podU");
  EXPECT_TRUE(provider.summary().pods.empty());
}

// Housekeeping: requests read the last background sample (its time says when it was taken);
// directory walks are kept for fsPeriod. Waits are for a new sample, bounded, never timed.
TEST_F(FakeTree, HousekeepingServesTheLastSampleAndWalksDirectoriesOnTheirOwnPeriod) {
  cgroup("", 1000, 1 << 20, 0);
  cgroup("/berth/podU", 0, 60 << 20, 0);
  cgroup("/berth/podU/c1", 0, 50 << 20, 0);
  write("proc/meminfo", "MemTotal: 4194304 kB\n");
  write("volumes/scratch/a", std::string(4096, 'a'));
  FakePods pods;
  pods.pods = {{"web", "default", "U", "/berth/podU", 5, {{"app", "/berth/podU/c1", 6}}}};
  pods.pods[0].volumes = {{"scratch", dir_ + "/volumes/scratch", "", true}};
  StatsProviderOptions o{"node1", dir_, paths_, std::chrono::milliseconds(0)};
  o.housekeeping = std::chrono::milliseconds(20);
  o.fsPeriod = std::chrono::hours(1);
  StatsProvider provider(o, &pods);
  provider.start();
  Summary first = provider.summary();
  ASSERT_EQ(first.pods.size(), 1u);
  ASSERT_EQ(first.pods[0].volumes.size(), 1u);
  uint64_t used = first.pods[0].volumes[0].fs.usedBytes;
  int64_t walked = first.pods[0].volumes[0].fs.timeNanos;
  EXPECT_GE(used, 4096u);

  // Changes show in a later sample, with that sample's time; the volume keeps its last walk.
  cgroup("/berth/podU/c1", 777, 50 << 20, 0);
  write("volumes/scratch/b", std::string(1 << 20, 'b'));
  Summary later;
  for (int i = 0; i < 500; ++i) {
    later = provider.summary();
    if (later.pods[0].containers[0].usage.sample.cpuUsageNanos == 777u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(later.pods[0].containers[0].usage.sample.cpuUsageNanos, 777u);
  EXPECT_GT(later.pods[0].containers[0].usage.sample.timeNanos,
            first.pods[0].containers[0].usage.sample.timeNanos);
  EXPECT_EQ(later.pods[0].volumes[0].fs.usedBytes, used) << "walked again before fsPeriod";
  EXPECT_EQ(later.pods[0].volumes[0].fs.timeNanos, walked);
  // Two reads between samples are the same sample.
  provider.stop();
  EXPECT_EQ(provider.summary().node.usage.sample.timeNanos,
            provider.summary().node.usage.sample.timeNanos);

  // Without housekeeping every collect walks the directories.
  StatsProvider uncached({"node1", dir_, paths_, std::chrono::milliseconds(0)}, &pods);
  EXPECT_GE(uncached.summary().pods[0].volumes[0].fs.usedBytes, used + (1 << 20));
}

}  // namespace
}  // namespace berth::kubelet::stats
