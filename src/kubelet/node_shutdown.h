#pragma once
// Graceful node shutdown, as upstream's kubelet nodeshutdown manager
// (pkg/kubelet/nodeshutdown, --shutdown-grace-period and --shutdown-grace-period-critical-pods):
// when the node is going down, the kubelet reports the node NotReady ("node is shutting down"),
// then kills its active pods in two groups, regular pods first with (grace period - critical
// grace period), critical pods (priority >= 2000000000: system-cluster-critical,
// system-node-critical) last with the critical grace period; each pod gets the smaller of its
// group's period and its own terminationGracePeriodSeconds, and its final status is phase Failed
// (Succeeded stays), reason Terminated, message "Pod was terminated in response to imminent node
// shutdown." and a DisruptionTarget condition (reason TerminationByKubelet). A group's pods are
// killed in parallel; the next group starts when they all are done or the group's period is
// over, whichever is first. An empty group is skipped without waiting.
//
// Upstream learns of the shutdown from systemd-logind (PrepareForShutdown, with an inhibitor
// lock); Berth's agent has no systemd dependency, so the trigger is the agent's own SIGTERM or
// SIGINT (docs/decisions.md). A grace period of 0 (the default) disables all of this: the agent
// stops and its containers keep running under their shims, as before.
//
// Thread-safety: NodeShutdownManager::shuttingDown() from any thread; run() from one thread,
// once. The free functions are pure.
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::kubelet {

inline constexpr const char* kNodeShutdownReason = "Terminated";
inline constexpr const char* kNodeShutdownMessage =
    "Pod was terminated in response to imminent node shutdown.";
inline constexpr const char* kNodeShuttingDownMessage = "node is shutting down";
// scheduling.SystemCriticalPriority: the bottom of system-cluster-critical (2000000000) and
// system-node-critical (2000001000).
inline constexpr int64_t kSystemCriticalPriority = 2000000000;

// One band of upstream's shutdownGracePeriodByPodPriority.
struct ShutdownPriorityBand {
  int64_t priority = 0;
  int64_t gracePeriodSeconds = 0;
};

struct ShutdownConfig {
  std::chrono::milliseconds gracePeriod{0};          // --shutdown-grace-period
  std::chrono::milliseconds criticalGracePeriod{0};  // --shutdown-grace-period-critical-pods
  // --shutdown-grace-period-by-pod-priority: when set, the bands replace the two periods above
  // (which must then be 0, as upstream's validation says).
  std::vector<ShutdownPriorityBand> byPodPriority;
};

// Parses "PRIORITY=SECONDS[,PRIORITY=SECONDS...]" (e.g. "2000000000=10,10000=20,0=30"); an
// error names the bad entry. Duplicated priorities and negative periods are refused.
core::Result<std::vector<ShutdownPriorityBand>> parseShutdownPriorityBands(const std::string& v);
// Upstream's validation of the whole configuration; an error message when it is invalid.
std::string validateShutdownConfig(const ShutdownConfig& config);

// A priority band and how long its pods get (upstream ShutdownGracePeriodByPodPriority).
struct ShutdownGroup {
  int64_t priority = 0;  // the band's lowest priority
  std::chrono::milliseconds period{0};
  std::vector<boost::json::object> pods;
};

// The bands, lowest priority first: the configured byPodPriority bands, else the two from the
// grace periods (upstream's migrateConfig): regular (priority 0) then critical. Empty when
// graceful shutdown is off: no bands and a grace period of 0, or a critical period longer
// than the whole.
std::vector<ShutdownGroup> shutdownGroups(const ShutdownConfig& config);
// Puts each pod in its band by spec.priority (priorityClassName when the priority is unset):
// the highest band whose priority it reaches, the lowest band for anything below.
void assignToGroups(std::vector<ShutdownGroup>& groups, std::vector<boost::json::object> pods);
// The grace period (seconds) the kill of `pod` in `group` gets.
int64_t podShutdownGracePeriod(const boost::json::object& pod, const ShutdownGroup& group);

// The pod's final status after the shutdown kill (`status` is what the kubelet computed from
// its containers): phase Failed unless Succeeded, reason, message, and DisruptionTarget True.
void applyNodeShutdownStatus(boost::json::object& status, const std::string& now);
// The node's status while shutting down: Ready False, KubeletNotReady, "node is shutting down"
// (upstream's ReadyCondition setter with ShutdownStatus's error).
void markNodeShuttingDown(boost::json::object& nodeStatus, const std::string& now);

class NodeShutdownManager {
 public:
  // Kills one pod with the given grace period and writes its final status; returns when done.
  // Must itself be bounded in time (the kill escalates to SIGKILL at the grace period).
  using KillPod = std::function<void(const boost::json::object& pod, int64_t graceSeconds)>;

  explicit NodeShutdownManager(ShutdownConfig config) : config_(config) {}
  bool enabled() const { return !shutdownGroups(config_).empty(); }
  bool shuttingDown() const { return shuttingDown_.load(); }

  // Marks the node as shutting down, calls `nodeStatusChanged` (to post NotReady), then kills
  // `activePods` group by group. Returns when every kill has returned.
  void run(std::vector<boost::json::object> activePods, const KillPod& kill,
           const std::function<void()>& nodeStatusChanged);

 private:
  const ShutdownConfig config_;
  std::atomic<bool> shuttingDown_{false};
};

}  // namespace berth::kubelet
