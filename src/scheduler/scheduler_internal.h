#pragma once
// The scheduler's moving parts, shared by scheduler.cpp (lifecycle, informer handlers) and
// schedule_one.cpp (one scheduling cycle, binding, failure handling). Not a public header.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/leader_election.h"
#include "scheduler/cache.h"
#include "scheduler/profile.h"
#include "scheduler/queue.h"
#include "scheduler/scheduler.h"

namespace berth::scheduler {

inline const client::Resource kPods{"", "v1", "pods", true};
inline const client::Resource kNodes{"", "v1", "nodes", false};
inline const client::Resource kNamespaces{"", "v1", "namespaces", false};
inline const client::Resource kPriorityClasses{"scheduling.k8s.io", "v1", "priorityclasses", false};
inline const client::Resource kServices{"", "v1", "services", true};
inline const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};
inline const client::Resource kStatefulSets{"apps", "v1", "statefulsets", true};
inline const client::Resource kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", true};

// A fixed pool of threads running queued tasks (binding calls, victim deletions).
class TaskPool {
 public:
  void start(int threads);
  void post(std::function<void()> task);
  // Runs what is queued, then stops the threads.
  void stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct SchedulerMetrics {
  explicit SchedulerMetrics(metrics::Registry& r);
  metrics::CounterFamily& attempts;
  metrics::HistogramFamily& attemptDuration;
  metrics::HistogramFamily& sliDuration;
  metrics::CounterFamily& preemptionAttempts;
  metrics::HistogramFamily& preemptionVictims;
};

struct Scheduler::Impl {
  SchedulerOptions options;
  std::unique_ptr<client::RestClient> client;
  std::unique_ptr<metrics::Registry> ownMetrics;
  metrics::Registry* registry = nullptr;
  std::unique_ptr<SchedulerMetrics> metrics;
  std::unique_ptr<client::EventRecorder> recorder;
  std::unique_ptr<client::LeaderElector> elector;
  std::mutex starterMu;
  std::thread starter;

  // Valid while scheduling (between startScheduling and stopScheduling).
  std::mutex runMu;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<Cache> cache;
  std::unique_ptr<SchedulingQueue> queue;
  std::unique_ptr<Profile> profile;
  Snapshot snapshot;
  TaskPool binders;
  std::thread loop;
  std::atomic<bool> running{false};
  std::atomic<long long> bound{0};

  // Pods nominated to nodes by preemption, by node name (read when filtering).
  mutable std::mutex nominatedMu;
  std::map<std::string, std::map<std::string, PodInfoPtr>> nominated;  // node -> key -> pod

  void startScheduling();
  void stopScheduling();
  void addHandlers();
  // parsePod, with spec.priority taken from the PriorityClass when admission left it unset.
  core::Result<PodInfoPtr> podInfo(const client::ObjectPtr& obj) const;
  bool responsibleFor(const PodInfo& pod) const {
    return pod.schedulerName == options.schedulerName;
  }

  // schedule_one.cpp
  void runLoop();
  void scheduleOne(QueuedPod qp);
  void bind(QueuedPod qp, PodInfoPtr assumed, std::shared_ptr<CycleState> state,
            std::chrono::steady_clock::time_point cycleStart);
  void handleFailure(QueuedPod qp, const ScheduleOutcome& outcome, const std::string& message,
                     const std::string& nominatedNode, bool unschedulable);
  void setNominated(const PodInfoPtr& pod, const std::string& node);
  void clearNominated(const std::string& key);
  std::vector<PodInfoPtr> nominatedPods(const std::string& node) const;
  void evictVictim(const PodInfo& victim, const PodInfo& preemptor, const std::string& node);
};

// A minimal ObjectReference-bearing object for events about a pod.
boost::json::value podRef(const PodInfo& pod);

}  // namespace berth::scheduler
