#include "kubelet/runtime/sandbox.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace berth::kubelet::runtime {
namespace {

ino_t inodeOf(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

void killChildren() {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) ::kill(std::stoi(name), SIGKILL);
  }
}

// Pods start in parallel on the agent's workers. Each sandbox forks a child that holds the new
// namespaces until they are pinned; those children must not wait on one another (they once did,
// through inherited pipe ends, and every pod of a Deployment stayed ContainerCreating).
TEST(Sandbox, ConcurrentSandboxesEachGetTheirOwnNamespaces) {
  if (::geteuid() != 0) GTEST_FAIL() << "needs root (mount, unshare)";
  std::string base = fs::temp_directory_path() / ("berth-sandbox-test-" + std::to_string(::getpid()));
  constexpr int kThreads = 6, kRounds = 8;
  std::vector<std::vector<std::string>> errors(kThreads);
  std::vector<std::set<ino_t>> netInodes(kThreads);
  std::promise<void> done;
  std::thread runner([&] {
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        for (int r = 0; r < kRounds; ++r) {
          std::string dir = base + "/pod" + std::to_string(t) + "-" + std::to_string(r);
          fs::create_directories(dir);
          auto st = createPodNamespaces(dir, "pod-" + std::to_string(t));
          if (!st.ok()) {
            errors[t].push_back(st.message());
            continue;
          }
          if (!namespacesPinned(dir)) errors[t].push_back(dir + ": not pinned");
          netInodes[t].insert(inodeOf(podNamespacePaths(dir).net));
        }
      });
    }
    for (auto& w : workers) w.join();
    done.set_value();
  });
  if (done.get_future().wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
    std::cerr << "createPodNamespaces did not return: concurrent sandboxes deadlocked\n";
    killChildren();  // the stuck namespace holders would outlive the test
    std::_Exit(1);
  }
  runner.join();
  std::set<ino_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(errors[t].empty()) << errors[t].front();
    all.insert(netInodes[t].begin(), netInodes[t].end());
  }
  // Every sandbox has a network namespace of its own, and none is the test's.
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kRounds));
  EXPECT_EQ(all.count(inodeOf("/proc/self/ns/net")), 0u);
  for (int t = 0; t < kThreads; ++t)
    for (int r = 0; r < kRounds; ++r) {
      std::string dir = base + "/pod" + std::to_string(t) + "-" + std::to_string(r);
      removePodNamespaces(dir);
      EXPECT_FALSE(namespacesPinned(dir));
    }
  fs::remove_all(base);
}

// The loopback CNI plugin is no longer run: the namespace comes with `lo` up, so a pod can
// reach its own 127.0.0.1 (a TCP connect to a port nobody listens on is refused at once; with
// `lo` down it fails with ENETUNREACH).
TEST(Sandbox, PodNetworkNamespaceHasLoopbackUp) {
  if (::geteuid() != 0) GTEST_FAIL() << "needs root (mount, unshare)";
  std::string dir = fs::temp_directory_path() / ("berth-sandbox-lo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ASSERT_TRUE(createPodNamespaces(dir, "lo-test").ok());
  short flags = 0;
  int connectErrno = 0;
  std::string failure;
  // setns moves only the calling thread: a thread of its own keeps the test's namespace intact.
  std::thread([&] {
    int ns = ::open(podNamespacePaths(dir).net.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
      failure = "setns failed";
      return;
    }
    ::close(ns);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) flags = ifr.ifr_flags;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(9);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) connectErrno = errno;
    ::close(fd);
  }).join();
  removePodNamespaces(dir);
  fs::remove_all(dir);
  ASSERT_TRUE(failure.empty()) << failure;
  EXPECT_TRUE(flags & IFF_UP) << "lo is down in the pod's network namespace";
  EXPECT_EQ(connectErrno, ECONNREFUSED) << std::strerror(connectErrno);
}

}  // namespace
}  // namespace berth::kubelet::runtime
