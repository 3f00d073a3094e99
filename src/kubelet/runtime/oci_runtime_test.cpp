#include "kubelet/runtime/oci_runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sys/process.h"

namespace fs = std::filesystem;

namespace berth::kubelet::runtime {
namespace {

class OciRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("oci-runtime-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A `berth` in a directory of its own, with the given executables beside it.
  std::string fakeBerth(std::initializer_list<const char*> beside) {
    for (const char* name : beside) {
      std::string p = (dir_ / "bin" / name).string();
      std::ofstream(p) << "#!/bin/sh\nexit 1\n";
      fs::permissions(p, fs::perms::owner_all);
    }
    return (dir_ / "bin" / "berth").string();
  }
  std::string data() const { return (dir_ / "data").string(); }
  fs::path dir_;
};

TEST_F(OciRuntimeTest, RuncIsTakenAsIs) {
  auto r = selectOciRuntime({"runc", "/opt/runc", fakeBerth({}), data()});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "runc");
  EXPECT_EQ(r->binary, "/opt/runc");
  // A bare name is looked up in PATH once, so no call has to search it.
  r = selectOciRuntime({"runc", "sh", fakeBerth({}), data()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->binary.front(), '/') << r->binary;
  EXPECT_TRUE(r->binary.ends_with("/sh")) << r->binary;
}

TEST_F(OciRuntimeTest, UnknownChoiceIsBadRequest) {
  auto r = selectOciRuntime({"kata", "runc", fakeBerth({}), data()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 400);
  EXPECT_NE(r.status().message().find("kata"), std::string::npos);
}

TEST_F(OciRuntimeTest, CrunWithoutTheWrapperIsAnErrorAndAutoFallsBack) {
  std::string berth = fakeBerth({"berth-shim"});
  auto crun = selectOciRuntime({"crun", "runc", berth, data()});
  ASSERT_FALSE(crun.ok());
  EXPECT_NE(crun.status().message().find("berth-crun"), std::string::npos);
  auto automatic = selectOciRuntime({"auto", "runc", berth, data()});
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->name, "runc");
  EXPECT_NE(automatic->reason.find("berth-crun"), std::string::npos);
}

TEST_F(OciRuntimeTest, AutoFallsBackWhenTheProbeFails) {
  // The fake wrapper exits 1, as crun does on a host it refuses.
  auto r = selectOciRuntime({"auto", "runc", fakeBerth({"berth-shim", "berth-crun"}), data()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "runc");
  EXPECT_NE(r->reason.find("create"), std::string::npos) << r->reason;
  // An explicit choice is not probed (as runc is not): the node starts at once.
  auto explicitCrun = selectOciRuntime({"crun", "runc", fakeBerth({}), data()});
  ASSERT_TRUE(explicitCrun.ok());
  EXPECT_EQ(explicitCrun->name, "crun");
  // The probe left nothing behind.
  EXPECT_TRUE(fs::is_empty(data()));
}

TEST_F(OciRuntimeTest, AutoStaysWithTheRuntimeThatHasContainers) {
  std::string berth = fakeBerth({"berth-shim", "berth-crun"});
  fs::create_directories(data() + "/crun/some-container");
  auto r = selectOciRuntime({"auto", "runc", berth, data()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "crun");  // no probe: the fake wrapper would have failed it
  EXPECT_EQ(r->binary, (dir_ / "bin" / "berth-crun").string());
  fs::create_directories(data() + "/runc/other");
  r = selectOciRuntime({"auto", "runc", berth, data()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "runc");
}

TEST(OomScoreAdj, RaisedToTheAgentsOwnWithoutCapSysResource) {
  EXPECT_EQ(settableOomScoreAdj(-997, true, 0), -997);
  EXPECT_EQ(settableOomScoreAdj(-997, false, 0), 0);
  EXPECT_EQ(settableOomScoreAdj(-997, false, -500), -500);
  EXPECT_EQ(settableOomScoreAdj(1000, false, 0), 1000);  // raising needs no capability
  EXPECT_EQ(settableOomScoreAdj(500, false, 600), 600);
}

#ifdef BERTH_BINARY
std::string besideBuiltBerth(const char* name) {
  std::string berth = BERTH_BINARY;
  return berth.substr(0, berth.rfind('/') + 1) + name;
}

// berth-crun runs its runtime (BERTH_CRUN, here a shell) in a mount namespace of its own
// without the cgroup2 mount, and leaves the host's mounts alone.
TEST(CrunWrapper, HidesTheUnifiedMountFromCrunOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (unshare)";
  auto hostMounts = [] {
    std::ifstream in("/proc/self/mountinfo");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  bool hybrid = hostMounts().find(" /sys/fs/cgroup/unified ") != std::string::npos;
  std::vector<std::string> env = {"BERTH_CRUN=/bin/sh", "PATH=/usr/bin:/bin"};
  auto r = sys::runProcess({besideBuiltBerth("berth-crun"), "-c",
                            "grep -c ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; readlink "
                            "/proc/self/ns/mnt"},
                           {.env = env});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out.substr(0, 2), "0\n") << r->out << r->err;
  char own[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", own, sizeof own - 1), 0);
  EXPECT_EQ(r->out.find(own), std::string::npos) << "not a mount namespace of its own";
  EXPECT_EQ(hostMounts().find(" /sys/fs/cgroup/unified ") != std::string::npos, hybrid);
  // Its runtime's exit code is its own (exec, same process).
  auto exitCode = sys::runProcess({besideBuiltBerth("berth-crun"), "-c", "exit 7"}, {.env = env});
  ASSERT_TRUE(exitCode.ok());
  EXPECT_EQ(exitCode->exitCode, 7);
}

// The real probe with the built wrapper: needs root and crun (as the e2e tests need runc).
TEST_F(OciRuntimeTest, ProbeStartsAContainerWithTheBuiltCrunWrapper) {
  if (::geteuid() != 0 || !sys::runProcess({"crun", "--version"}).ok())
    GTEST_SKIP() << "needs root and crun";
  auto st = probeOciRuntime(besideBuiltBerth("berth-crun"), data(), besideBuiltBerth("berth-shim"));
  EXPECT_TRUE(st.ok()) << st.message();
  auto r = selectOciRuntime({"auto", "runc", BERTH_BINARY, data()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "crun") << r->reason;
  // A runtime that cannot start the probe fails it, and the probe cleans up after itself.
  EXPECT_FALSE(probeOciRuntime("false", data(), besideBuiltBerth("berth-shim")).ok());
  EXPECT_TRUE(fs::is_empty(data()));
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup/memory"))
    EXPECT_EQ(e.path().filename().string().rfind("berth-probe-", 0), std::string::npos) << e.path();
}
#endif

}  // namespace
}  // namespace berth::kubelet::runtime
