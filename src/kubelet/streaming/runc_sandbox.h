#pragma once
// RuncSandbox: a ContainerLocator over pods it runs itself with runc from a busybox-static
// rootfs, for the streaming server's integration tests and the e2e harness
// (`berth streaming-harness`) until the kubelet's pod workers provide the real one. Each pod
// gets a network namespace of its own (ip netns add berth-test-<random>, loopback up); each
// container a bundle, CRI log files (<logsDir>/<ns>_<pod>_<uid>/<container>/<n>.log) written
// from its stdout/stderr pipes, and an attach socket speaking container_locator.h's framing.
// A container marked restartOnce is started a second time when it first exits, so the first
// run's log becomes the previous log.
//
// The destructor kills and deletes every container and removes the namespaces and work files,
// also after a failed test. Each container runs under a foreground `runc run` child.
//
// Thread-safety: find()/podNetns() may be called from any thread; addPod() from one.
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/streaming/container_locator.h"

namespace berth::kubelet::streaming {

struct SandboxContainer {
  std::string name;
  std::string shellCommand;  // run as sh -c
  bool restartOnce = false;
  bool stdinOpen = false;
};

class RuncSandbox : public ContainerLocator {
 public:
  static core::Result<std::unique_ptr<RuncSandbox>> create(const std::string& workDir,
                                                           const std::string& runc = "runc");
  ~RuncSandbox() override;

  core::Status addPod(const std::string& ns, const std::string& pod,
                      const std::vector<SandboxContainer>& containers);
  // Waits until the container has exited `runs` times (restartOnce tests).
  bool waitForExits(const std::string& ns, const std::string& pod, const std::string& container,
                    int runs, int timeoutMs);

  std::optional<ContainerInfo> find(const std::string& ns, const std::string& pod,
                                    const std::string& container) override;
  std::optional<std::string> podNetns(const std::string& ns, const std::string& pod) override;
  const std::string& runtimeRoot() const;

 private:
  struct Impl;
  explicit RuncSandbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::kubelet::streaming
