#pragma once
// LeaderElector: one active instance among several (schedulers, controller managers) by holding
// a coordination.k8s.io/v1 Lease, as client-go's `tools/leaderelection` with a LeaseLock.
//
// Protocol (the same fields and rules as upstream, so Berth and upstream components can share a
// Lease): spec.holderIdentity, leaseDurationSeconds, acquireTime, renewTime (MicroTime),
// leaseTransitions. Every retryPeriod a candidate reads the Lease; it may take it when it is
// free (no holder) or expired, where "expired" is judged by the local clock: the record has not
// changed for leaseDuration since this candidate last saw it change (remote clocks are not
// trusted). Writes are PUTs carrying the read resourceVersion, so two candidates racing for one
// Lease cannot both win (the loser gets 409 Conflict). The leader renews every retryPeriod; if
// it cannot renew for renewDeadline it stops leading (onStoppedLeading) and becomes a candidate
// again. `stop()` releases a held Lease (holder cleared) so a successor need not wait out the
// lease duration.
//
// Guarantee, as upstream's: at most one holder at a time provided clocks advance at similar
// rates and renewDeadline < leaseDuration; callbacks are not a fencing token.
//
// Thread-safety: callbacks run on the elector's own thread and must return promptly (start
// work on other threads). isLeader()/leader() may be called from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "client/rest_client.h"

namespace berth::client {

struct LeaderElectionConfig {
  std::string leaseNamespace = "kube-system";
  std::string leaseName;
  std::string identity;
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
  std::function<void()> onStartedLeading;
  std::function<void()> onStoppedLeading;
  std::function<void(const std::string& identity)> onNewLeader;  // holder changed (maybe us)
};

class LeaderElector {
 public:
  LeaderElector(RestClient& client, LeaderElectionConfig config);
  ~LeaderElector();

  void start();
  // Stops campaigning; a leader releases the Lease and gets onStoppedLeading.
  void stop();
  bool isLeader() const { return leading_.load(); }
  std::string leader() const;

  static const Resource& leaseResource();

 private:
  void run();
  // One read-modify-write of the Lease; true when this instance holds it afterwards.
  bool tryAcquireOrRenew();
  void release();
  bool waitStop(std::chrono::milliseconds d);

  RestClient& client_;
  const LeaderElectionConfig config_;
  std::atomic<bool> leading_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string observedHolder_;
  std::string observedRecord_;  // the spec as last read, to notice changes
  std::chrono::steady_clock::time_point observedTime_{};
  std::thread thread_;
};

// The current time as a metav1.MicroTime ("2006-01-02T15:04:05.000000Z") or metav1.Time
// ("2006-01-02T15:04:05Z").
std::string nowMicroTime();
std::string nowTime();

}  // namespace berth::client
