#include "kubelet/runtime/shim_args.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sys/process.h"

namespace berth::kubelet::runtime {
namespace {

TEST(ShimArgs, RoundTripsEveryOption) {
  ShimOptions o;
  o.id = "c1";
  o.runcRoot = "/var/lib/berth/runc";
  o.runcBinary = "/usr/bin/crun";
  o.bundle = "/b";
  o.logPath = "/l/0.log";
  o.cgroup = "/berth/podx/c1";
  o.logMaxSize = 4096;
  o.logMaxFiles = 3;
  o.stdinOpen = true;
  o.tty = true;
  auto parsed = parseShimArguments(shimArguments(o));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->id, "c1");
  EXPECT_EQ(parsed->runcRoot, "/var/lib/berth/runc");
  EXPECT_EQ(parsed->runcBinary, "/usr/bin/crun");
  EXPECT_EQ(parsed->bundle, "/b");
  EXPECT_EQ(parsed->logPath, "/l/0.log");
  EXPECT_EQ(parsed->cgroup, "/berth/podx/c1");
  EXPECT_EQ(parsed->logMaxSize, 4096);
  EXPECT_EQ(parsed->logMaxFiles, 3);
  EXPECT_TRUE(parsed->stdinOpen);
  EXPECT_FALSE(parsed->stdinOnce);
  EXPECT_TRUE(parsed->tty);
}

TEST(ShimArgs, AcceptsInlineValues) {
  auto parsed = parseShimArguments(
      {"--id=a", "--root=/r", "--bundle=/b", "--log=/l", "--stdin-once", "--log-max-files=7"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->id, "a");
  EXPECT_EQ(parsed->runcBinary, "runc");  // the default
  EXPECT_TRUE(parsed->stdinOnce);
  EXPECT_EQ(parsed->logMaxFiles, 7);
}

TEST(ShimArgs, RejectsBadArguments) {
  std::vector<std::string> base = {"--id", "a", "--root", "/r", "--bundle", "/b", "--log", "/l"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return parseShimArguments(args);
  };
  ASSERT_TRUE(with({}).ok());
  auto unknown = with({"--bogus", "1"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), 400);
  EXPECT_NE(unknown.status().message().find("--bogus"), std::string::npos);
  EXPECT_FALSE(with({"--cgroup"}).ok());                // value missing
  EXPECT_FALSE(with({"--log-max-size", "10Mi"}).ok());  // bytes only
  EXPECT_FALSE(with({"--log-max-files", "-1"}).ok());
  EXPECT_FALSE(with({"--tty=yes"}).ok());
  EXPECT_FALSE(with({"--runc", ""}).ok());
  auto missing = parseShimArguments({"--id", "a", "--root", "/r", "--bundle", "/b"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--log"), std::string::npos);
}

TEST(ShimArgs, CommandPrefersTheShimBesideBerth) {
  auto dir = std::filesystem::temp_directory_path() / ("shim-cmd-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string berth = (dir / "berth").string();
  EXPECT_EQ(shimCommand(berth), (std::vector<std::string>{berth, "shim"}));
  std::string shim = (dir / "berth-shim").string();
  std::ofstream(shim) << "#!/bin/sh\n";
  // Not executable: not usable, so still the subcommand.
  EXPECT_EQ(shimCommand(berth), (std::vector<std::string>{berth, "shim"}));
  ::chmod(shim.c_str(), 0755);
  EXPECT_EQ(shimCommand(berth), (std::vector<std::string>{shim}));
  std::filesystem::remove_all(dir);
}

#ifdef BERTH_BINARY
TEST(ShimArgs, TheBuiltShimIsBesideTheBuiltBerth) {
  // `berth` depends on `berth-shim` in CMake, so every build that has one has both.
  EXPECT_EQ(shimCommand(BERTH_BINARY).size(), 1u);
}

// Both frontends: usage on --help, exit 2 and the reason on bad arguments.
TEST(ShimArgs, BothExecutablesShareTheParser) {
  std::vector<std::vector<std::string>> frontends = {shimCommand(BERTH_BINARY),
                                                     {BERTH_BINARY, "shim"}};
  for (const auto& cmd : frontends) {
    auto help = cmd;
    help.push_back("--help");
    auto r = sys::runProcess(help);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exitCode, 0) << help[0];
    EXPECT_NE(r->out.find("usage: berth"), std::string::npos) << r->out;
    auto bad = cmd;
    bad.insert(bad.end(), {"--id", "x", "--nope"});
    r = sys::runProcess(bad);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exitCode, 2) << bad[0];
    EXPECT_NE(r->err.find("unknown flag --nope"), std::string::npos) << r->err;
  }
}
#endif

}  // namespace
}  // namespace berth::kubelet::runtime
