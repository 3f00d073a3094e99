#pragma once
// Running helper programs (runc, CNI plugins, mount tools, nft, ip) from a multi-threaded process
// (the node agent, the service proxy, network policy): spawn, feed stdin, collect stdout/stderr,
// bound the run by a timeout. posix_spawn keeps the window between fork and exec free of anything
// that is not async-signal-safe. Lives below the kubelet so that every component may use it.
//
// Thread-safety: free functions, safe from any thread.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::sys {

struct ProcessResult {
  int exitCode = 0;  // 128 + signal when killed by one
  std::string out, err;
};

struct ProcessOptions {
  std::string stdinData;
  // Environment of the child; empty = the agent's own.
  std::vector<std::string> env;
  std::chrono::milliseconds timeout{30000};
  // Polled while the program runs (when set): true kills it and fails the run, as a context's
  // cancellation ends upstream's exec (a postStart hook of a pod being deleted).
  std::function<bool()> cancelled;
};

// Runs argv[0] (searched in PATH) to completion. An error only when it could not be started or
// ran past the timeout or was cancelled (then it is killed); a non-zero exit is a result, not an
// error.
core::Result<ProcessResult> runProcess(const std::vector<std::string>& argv,
                                       const ProcessOptions& options = {});

// "<argv...>: exit N: <stderr>", for error messages.
std::string describeFailure(const std::vector<std::string>& argv, const ProcessResult& r);

}  // namespace berth::sys
