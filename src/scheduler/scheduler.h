#pragma once
// Scheduler: Berth's kube-scheduler. Watches pods (all) and nodes through the API, keeps the
// pending ones in a SchedulingQueue and the bound/assumed ones in a Cache, and for each pending
// pod runs one cycle of the default profile against a fresh Snapshot: the chosen node is
// assumed in the cache at once and bound asynchronously (POST pods/{name}/binding), so the next
// cycle does not wait for the round trip. A pod that fits nowhere gets PodScheduled=False
// (reason Unschedulable, upstream's "0/N nodes are available: ..." message) and a Warning
// FailedScheduling event; preemption (DefaultPreemption) may evict lower-priority pods and
// nominate a node for it.
//
// Only pods with spec.schedulerName "default-scheduler" (or the configured name), not yet bound
// and not terminating are scheduled. With leader election (default) only the holder of the
// kube-system/kube-scheduler Lease schedules.
//
// Runs inside `berth server` (its own client identity) and alone as `berth scheduler
// --kubeconfig FILE`. Metrics (upstream names): scheduler_schedule_attempts_total{result,
// profile}, scheduler_scheduling_attempt_duration_seconds{result,profile},
// scheduler_pod_scheduling_sli_duration_seconds{attempts}, scheduler_pending_pods{queue},
// scheduler_preemption_attempts_total, scheduler_preemption_victims.
//
// Thread-safety: start()/stop() from the owning thread; leading() from any.
#include <memory>
#include <string>

#include "client/rest_client.h"
#include "core/status.h"
#include "metrics/metrics.h"

namespace berth::scheduler {

struct SchedulerOptions {
  client::RestConfig rest;
  bool leaderElect = true;
  std::string identity;  // Lease holder identity; empty = hostname + random suffix
  std::string schedulerName = "default-scheduler";
  // 0 = upstream's adaptive percentage of nodes to find feasible before scoring.
  int percentageOfNodesToScore = 0;
  int bindWorkers = 16;  // concurrent binding calls
  metrics::Registry* metrics = nullptr;  // null = a private registry
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options);
  ~Scheduler();
  core::Status start();
  void stop();
  bool leading() const;
  // Pods bound since start (for tests and benchmarks).
  long long boundCount() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::scheduler
