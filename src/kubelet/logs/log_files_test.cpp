#include "kubelet/logs/log_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace berth::kubelet::logs {
namespace {

namespace fs = std::filesystem;

class LogFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-logs-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

std::string line(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-11-29T15:04:05.000000000Z stdout F line %04d\n", i);
  return buf;  // 50 bytes
}

TEST_F(LogFiles, RotatesKeepsMaxFilesCompressesAllButNewestRotated) {
  std::string path = dir_ + "/0.log";
  CriLogWriter w(path, {200, 3, true});
  ASSERT_TRUE(w.open());
  for (int i = 0; i < 20; ++i) w.write(line(i));
  auto rotated = rotatedLogFiles(path);
  ASSERT_EQ(rotated.size(), 2u) << "maxFiles 3 = the current file and two rotated ones";
  EXPECT_TRUE(rotated[0].ends_with(".gz")) << rotated[0];
  EXPECT_FALSE(rotated[1].ends_with(".gz")) << "the newest rotated file stays plain";
  EXPECT_LE(fs::file_size(path), 200u);
  // Names: 0.log.YYYYMMDD-hhmmss, in order.
  std::string name = fs::path(rotated[1]).filename().string();
  ASSERT_EQ(name.size(), std::string("0.log.20261129-150405").size()) << name;
  EXPECT_GE(parseRotationStamp(name.substr(6)), 0);
  // Together they hold the newest lines in order, with nothing lost between them.
  std::string all;
  for (const auto& f : logFileSet(path)) all += readLogFile(f);
  EXPECT_TRUE(all.ends_with(line(19))) << all;
  size_t count = 0;
  for (char c : all) count += c == '\n';
  EXPECT_EQ(count, 12u);  // 3 files of 4 lines (200 bytes)
  EXPECT_EQ(all.find(line(8)), 0u);
}

TEST_F(LogFiles, NoCompressionAndReopenAppends) {
  std::string path = dir_ + "/1.log";
  {
    CriLogWriter w(path, {120, 5, false});
    ASSERT_TRUE(w.open());
    w.write(line(0));
  }
  CriLogWriter w(path, {120, 5, false});
  ASSERT_TRUE(w.open());
  w.write(line(1));  // fits: 100 bytes
  EXPECT_TRUE(rotatedLogFiles(path).empty());
  w.write(line(2));  // would exceed 120: rotates first
  auto rotated = rotatedLogFiles(path);
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_EQ(readLogFile(rotated[0]), line(0) + line(1));
  EXPECT_EQ(readLogFile(path), line(2));
}

TEST_F(LogFiles, OtherFilesAreNotRotatedOnes) {
  std::string path = dir_ + "/0.log";
  for (const char* n : {"0.log.tmp", "0.log.2026", "1.log.20261129-150405", "0.logx"})
    std::ofstream(dir_ + "/" + n) << "x";
  std::ofstream(dir_ + "/0.log.20261129-150406") << "b";
  std::ofstream(dir_ + "/0.log.20261129-150405") << "a";
  auto files = logFileSet(path);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_TRUE(files[0].ends_with("150405"));
  EXPECT_TRUE(files[1].ends_with("150406"));
  EXPECT_EQ(files[2], path);
}

TEST(RotationStamp, RoundTrip) {
  EXPECT_EQ(rotationStamp(1764428645), "20251129-150405");
  EXPECT_EQ(parseRotationStamp("20251129-150405"), 1764428645);
  EXPECT_EQ(parseRotationStamp("20251129150405"), -1);
  EXPECT_EQ(parseRotationStamp("2025112x-150405"), -1);
}

TEST(QuantityBytes, KubeletSizes) {
  EXPECT_EQ(parseQuantityBytes("10Mi"), 10 << 20);
  EXPECT_EQ(parseQuantityBytes("512Ki"), 512 << 10);
  EXPECT_EQ(parseQuantityBytes("1G"), 1000000000);
  EXPECT_EQ(parseQuantityBytes("4096"), 4096);
  EXPECT_EQ(parseQuantityBytes("10Mb"), -1);
  EXPECT_EQ(parseQuantityBytes("-1"), -1);
  EXPECT_EQ(parseQuantityBytes(""), -1);
}

}  // namespace
}  // namespace berth::kubelet::logs
