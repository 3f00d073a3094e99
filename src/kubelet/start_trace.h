#pragma once
// StartTrace: where one pod's first start spends its time, for bench/pod_start.sh. With
// BERTH_POD_START_TRACE set in the agent's environment, the sync that creates a pod's sandbox
// marks each step (namespaces, CNI, volumes, image and rootfs, config, shim = runc create +
// start, status write) and logs one line when its status is written:
//   berth agent: pod-start default/p-7 at=<unix ms> queue=3 netns=12 cni=85 ... total=412
// (`queue` is the time from the watch event that queued the pod to its worker picking it up,
// when known). Off by default: then begin() leaves it inactive and mark() costs one branch.
//
// Thread-safety: a trace belongs to one pod record, synced by one worker at a time.
#include <chrono>
#include <string>

namespace berth::kubelet {

class StartTrace {
 public:
  static bool enabled();
  // Starts a trace if enabled(); `queuedMs` is the work-queue wait (-1 = unknown).
  void begin(long long queuedMs);
  void mark(const char* step);
  // Logs the line and ends the trace (no-op when inactive).
  void finish(const std::string& pod);
  bool active() const { return active_; }

 private:
  using Clock = std::chrono::steady_clock;
  bool active_ = false;
  Clock::time_point start_, last_;
  long long startUnixMs_ = 0;
  std::string steps_;
};

}  // namespace berth::kubelet
