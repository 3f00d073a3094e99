#pragma once
// ContainerLocator: how the kubelet's streaming server (logs, exec, attach, port-forward) finds
// a running pod's containers without knowing the pod workers. The kubelet's pod manager
// implements it; tests implement it over containers they started with runc themselves.
//
// Log files are in the CRI log format ("<RFC3339Nano> <stdout|stderr> <F|P> <text>\n"), one file
// per container start: <logsDir>/<namespace>_<pod>_<pod uid>/<container>/<restartCount>.log, as
// upstream's /var/log/pods layout.
#include <optional>
#include <string>

namespace berth::kubelet::streaming {

struct ContainerInfo {
  std::string runtimeRoot;      // runc --root
  std::string containerId;      // runc container id
  int pid = 0;                  // the container's init process on the host, 0 when not running
  std::string netnsPath;        // the pod's network namespace (/run/netns/... or /proc/PID/ns/net)
  std::string logPath;          // current log file
  std::string previousLogPath;  // the previous start's log file, empty if none
  bool tty = false;             // container spec tty
  bool stdinOpen = false;       // container spec stdin
  // Unix socket of the process that holds the container's stdio (the per-container shim), for
  // attach. Each connection sees output from the moment it connects and may send input, both
  // as frames: 1 byte stream id, 4 bytes big-endian payload length, payload. Stream ids:
  // 0 stdin (to the shim), 1 stdout, 2 stderr (from it; a TTY container's output is all 1),
  // 3 resize (to the shim; payload JSON {"Width":W,"Height":H}: TIOCSWINSZ on a TTY
  // container's terminal), 4 this client's stdin ended (to the shim, no payload; also sent on
  // detach: it closes a stdinOnce container's stdin unless it has a TTY), 5 exited (from it;
  // payload the exit code as decimal text, then it closes). runtime/shim_frames.h codes it.
  std::string attachSocket;
};

class ContainerLocator {
 public:
  virtual ~ContainerLocator() = default;
  // Empty `container` = the pod's only (or first) container. nullopt: no such pod/container
  // on this node.
  virtual std::optional<ContainerInfo> find(const std::string& ns, const std::string& pod,
                                            const std::string& container) = 0;
  // The pod's network namespace for port-forward; nullopt when the pod is not running here.
  virtual std::optional<std::string> podNetns(const std::string& ns, const std::string& pod) = 0;
};

}  // namespace berth::kubelet::streaming
