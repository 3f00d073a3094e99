#include "kubelet/stats/fs_net_stats.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kubelet/stats/stats_provider.h"

namespace berth::kubelet::stats {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("berth-fsnet-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(DiskUsage, CountsAllocatedBlocksAndInodesOnce) {
  TempDir dir;
  auto empty = diskUsage(dir.path());
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->inodes, 1u);  // the directory itself, as `find` counts it
  fs::create_directories(dir.path() / "sub");
  {
    std::ofstream f(dir.path() / "sub" / "blob", std::ios::binary);
    std::string block(256 * 1024, 'x');
    f << block;
  }
  fs::create_hard_link(dir.path() / "sub" / "blob", dir.path() / "link");
  auto full = diskUsage(dir.path());
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->inodes, 4u);  // dir, sub, blob, link (find counts names)
  // 256 KiB of data once (the hard link is not counted twice), plus the directories' blocks.
  EXPECT_GE(full->bytes, empty->bytes + 256 * 1024);
  EXPECT_LT(full->bytes, empty->bytes + 2 * 256 * 1024);
  EXPECT_FALSE(diskUsage((dir.path() / "missing").string()).has_value());

  auto figures = readDirFs(dir.path(), 42);
  ASSERT_TRUE(figures.has_value());
  EXPECT_EQ(figures->usedBytes, full->bytes);
  EXPECT_EQ(figures->inodesUsed, 4u);
  EXPECT_GE(figures->capacityBytes, figures->availableBytes);
  EXPECT_GT(figures->capacityBytes, 0u);
  EXPECT_EQ(figures->timeNanos, 42);
}

TEST(NetDev, ReadsCountersAndSkipsCadvisorsIgnoredDevices) {
  TempDir dir;
  auto file = dir.path() / "dev";
  std::ofstream(file)
      << R"(Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:  123456     100    3    0    0     0          0         0    65432      90    4    0    0     0       0          0
vethab12:     10       1    0    0    0     0          0         0       20       2    0    0    0     0       0          0
  net1:       7       1    0    0    0     0          0         0        8       1    0    0    0     0       0          0
)";
  auto ifaces = readNetDev(file.string());
  ASSERT_TRUE(ifaces.has_value());
  ASSERT_EQ(ifaces->size(), 2u);
  EXPECT_EQ((*ifaces)[0].name, "eth0");
  EXPECT_EQ((*ifaces)[0].rxBytes, 123456u);
  EXPECT_EQ((*ifaces)[0].rxErrors, 3u);
  EXPECT_EQ((*ifaces)[0].txBytes, 65432u);
  EXPECT_EQ((*ifaces)[0].txErrors, 4u);
  EXPECT_EQ((*ifaces)[1].name, "net1");
  EXPECT_FALSE(readNetDev((dir.path() / "none").string()).has_value());
  // This process's own namespace reads too.
  EXPECT_TRUE(readNetDev("/proc/self/net/dev").has_value());
}

}  // namespace
}  // namespace berth::kubelet::stats
