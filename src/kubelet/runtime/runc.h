#pragma once
// Runc: the calls the pod worker makes on containers that a shim started (kill, exec, delete,
// list), all against one state root (`runc --root`).
//
// Thread-safety: stateless beyond its configuration; safe from any thread.
#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "sys/process.h"

namespace berth::kubelet::runtime {

class Runc {
 public:
  explicit Runc(std::string root, std::string binary = "runc")
      : root_(std::move(root)), binary_(std::move(binary)) {}

  const std::string& root() const { return root_; }
  const std::string& binary() const { return binary_; }

  // Signals the container's init (all = every process in it).
  core::Status kill(const std::string& id, int signal, bool all = false) const;
  // Removes the container, killing it first if it still runs. A missing container is fine.
  core::Status remove(const std::string& id) const;
  // Runs `args` inside the running container with its env, cwd and user; `cancelled` (when
  // set) ends the run early (sys::ProcessOptions).
  core::Result<sys::ProcessResult> exec(const std::string& id, const std::vector<std::string>& args,
                                        std::chrono::milliseconds timeout,
                                        std::function<bool()> cancelled = {}) const;
  // Ids of the containers under this root.
  std::vector<std::string> list() const;

 private:
  std::vector<std::string> base() const { return {binary_, "--root", root_}; }
  std::string root_, binary_;
};

}  // namespace berth::kubelet::runtime
