#pragma once
// For the client library's integration tests only (included by *_test.cpp): runs the real
// `berth server` binary on a free loopback port with a temporary data dir, and kills it by PID.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/rest_client.h"

#ifndef BERTH_BINARY
#error "BERTH_BINARY must name the berth binary (set by CMake)"
#endif

namespace berth::client::testing {

inline int freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Waits for `pred` up to `timeout`, polling every 10 ms.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

class TestServer {
 public:
  explicit TestServer(std::string datastore = "memory") : datastore_(std::move(datastore)) {
    char tmpl[] = "/tmp/berth-client-test-XXXXXX";
    dataDir_ = ::mkdtemp(tmpl);
    port_ = freeLoopbackPort();
  }
  ~TestServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dataDir_, ec);
  }

  // Starts (or restarts) the server, optionally with another datastore, and waits until it
  // answers. Returns false (with a gtest failure) when it does not come up.
  bool start(const std::string& datastore = "") {
    if (!datastore.empty()) datastore_ = datastore;
    std::string logPath = dataDir_ + "/server.log";
    std::string port = std::to_string(port_);
    // argv is built before fork: the child may only make async-signal-safe calls.
    std::vector<std::string> args = {BERTH_BINARY, "server", "--data-dir", dataDir_,
                                     "--datastore", datastore_, "--bind-address", "127.0.0.1",
                                     "--secure-port", port,
                                     // no node agent: containers and pod networking stay out
                                     // of the root network namespace
                                     "--disable-agent"};
    args.insert(args.end(), extraArgs_.begin(), extraArgs_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec (the test process has threads).
      // The server dies with the test process, even when a crash skips the destructor.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execv(BERTH_BINARY, argv.data());
      std::_Exit(127);
    }
    bool up = eventually(
        [&] {
          if (!std::filesystem::exists(kubeconfigPath())) return false;
          auto c = client("probe");
          return c && c->get({"", "v1", "namespaces", false}, "", "default").ok();
        },
        std::chrono::seconds(20));
    EXPECT_TRUE(up) << "berth server did not come up; see " << dataDir_ << "/server.log";
    if (up && !serviceAccountControllerOff()) {
      // Pods are admitted only once their namespace's default ServiceAccount exists (the
      // ServiceAccount admission plugin waits about a second for it, as upstream's does); on a
      // loaded machine the controller can take longer than that after start, so tests that
      // create pods straight away wait for it here.
      eventually(
          [&] {
            auto c = client("probe");
            return c && c->get({"", "v1", "serviceaccounts", true}, "default", "default").ok();
          },
          std::chrono::seconds(20));
    }
    return up;
  }

  // Whether the test turned the ServiceAccount controller off (`--controllers ...,-serviceaccount`):
  // then no default ServiceAccount will appear to wait for.
  bool serviceAccountControllerOff() const {
    for (const auto& a : extraArgs_) {
      if (a.find("-serviceaccount") != std::string::npos) return true;
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // More `berth server` flags for the next start() (e.g. controller flags).
  void setExtraArgs(std::vector<std::string> args) { extraArgs_ = std::move(args); }

  std::string kubeconfigPath() const { return dataDir_ + "/admin.kubeconfig"; }
  std::string dataDir() const { return dataDir_; }
  int port() const { return port_; }

  // A client with a generous rate limit (tests make hundreds of calls).
  std::unique_ptr<RestClient> client(const std::string& userAgent, double qps = 1000,
                                     int burst = 1000) const {
    auto cfg = loadKubeconfig(kubeconfigPath());
    if (!cfg.ok()) return nullptr;
    cfg->userAgent = userAgent;
    cfg->qps = qps;
    cfg->burst = burst;
    auto c = RestClient::create(*cfg);
    return c.ok() ? std::move(c).value() : nullptr;
  }

 private:
  std::string datastore_;
  std::vector<std::string> extraArgs_;
  std::string dataDir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

inline const Resource kConfigMaps{"", "v1", "configmaps", true};
inline const Resource kNamespaces{"", "v1", "namespaces", false};

inline boost::json::value configMap(const std::string& ns, const std::string& name,
                                    const std::string& value = "v") {
  return boost::json::object{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", name}, {"namespace", ns}}},
                             {"data", {{"k", value}}}};
}

inline void createNamespace(RestClient& c, const std::string& name) {
  auto r =
      c.create(kNamespaces, "",
               boost::json::object{
                   {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  ASSERT_TRUE(r.ok() || r.status().isAlreadyExists()) << r.status().message();
}

}  // namespace berth::client::testing
