#pragma once
// The per-container shim (like conmon or containerd-shim): the `berth-shim` executable, or
// `berth shim` (runtime/shim_args.h). A small process that starts one container with
// `runc create` + `runc start`, holds its stdio, writes its output to the CRI-format log file,
// serves the attach socket (framing in streaming/container_locator.h) and records how the
// container ended. Containers therefore outlive an agent restart: the agent finds them again
// from the files the shim keeps in the container's directory:
//   started     {"pid":N,"startedAt":"RFC3339"}            once `runc start` succeeded
//   exit        {"exitCode":N,"oomKilled":b,"finishedAt":..,"reason":..,"message":..}
//   attach.sock the attach socket, while the container runs
//   console.sock where `runc create` sends a TTY container's terminal (only while it starts)
// The shim is a subreaper, so the container's init becomes its child and its exit status is
// exact; it deletes the runc container (and with it the container's cgroup) after recording it.
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace berth::kubelet::runtime {

struct ShimOptions {
  std::string id;          // runc container id
  std::string runcRoot;    // runc --root
  std::string runcBinary = "runc";
  std::string bundle;      // the container's directory: config.json, rootfs, state files
  std::string logPath;     // CRI log file
  // Rotation of the log file (logs/log_files.h): --container-log-max-size / -max-files.
  int64_t logMaxSize = 10 << 20;
  int logMaxFiles = 5;
  std::string cgroup;      // the container's absolute cgroup (to read the OOM kill count)
  bool stdinOpen = false;  // keep a stdin pipe for attach
  // The first attach client whose stdin ends closes the container's stdin (not with a TTY:
  // a terminal stays open for the next attach, as Docker and the CRI runtimes do).
  bool stdinOnce = false;
  // process.terminal in config.json: runc hands the shim the pseudo-terminal's master over a
  // console socket; output, input and window size all go through it.
  bool tty = false;
};

struct ContainerStarted {
  int pid = 0;
  std::string startedAt;
};

struct ContainerExit {
  int exitCode = 0;
  bool oomKilled = false;
  std::string startedAt, finishedAt;
  std::string reason;   // "StartError" when runc could not start it; else empty
  std::string message;  // runc's error for a StartError
};

// The body of `berth shim`: daemonizes, runs the container, returns when it has ended.
int runShim(const ShimOptions& options);

// Starts a shim (shimCommand(berthBinary): `berth-shim` beside `berth`, else `berth shim`) and
// waits until the container started or failed to (then its `exit` file says why). An error only
// when no shim could be started.
core::Status launchShim(const std::string& berthBinary, const ShimOptions& options);

std::optional<ContainerStarted> readStarted(const std::string& bundle);
std::optional<ContainerExit> readExit(const std::string& bundle);
// A JSON object file (nullopt when missing or not an object).
std::optional<boost::json::object> readJsonFile(const std::string& path);
// The attach socket of a container (whether or not it exists now).
std::string attachSocketPath(const std::string& bundle);

// Now as RFC 3339 with nanoseconds ("2024-01-02T03:04:05.123456789Z"), and with seconds only.
std::string rfc3339NanoNow();
std::string rfc3339Now();

}  // namespace berth::kubelet::runtime
