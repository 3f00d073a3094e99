#pragma once
// SimNode: one simulated kubelet. It registers its Node, renews its Lease, checks its Node
// status every update period and posts a heartbeat when something changed or the report period
// passed, and watches its own pods (fieldSelector spec.nodeName=<node>): bound pods get an IP
// from the node's podCIDR and go Running/Ready; pods marked for deletion are deleted with grace
// period 0, as kubelet's status manager does once their containers are gone.
//
// Internal to `berth simulate`. Thread-safety: every member function except start(),
// setPaused() and the counters runs on the node's strand (one at a time, any pool thread).
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/rest_client.h"
#include "simulate/node_objects.h"
#include "simulate/task_pool.h"
#include "simulate/watch_mux.h"

namespace berth::simulate {

struct SimTiming {
  std::chrono::milliseconds leaseRenewInterval{10000};  // kubelet: 1/4 of the 40 s lease
  std::chrono::milliseconds nodeStatusUpdateFrequency{10000};
  std::chrono::milliseconds nodeStatusReportFrequency{60000};
};

// What every node of one simulate process shares.
struct SimContext {
  client::RestClient& client;
  TaskPool& pool;
  WatchMux& mux;
  SimTiming timing;
  std::atomic<long long> registered{0};
  std::atomic<long long> leaseRenewals{0};
  std::atomic<long long> statusPosts{0};
  std::atomic<long long> podsStarted{0};
  std::atomic<long long> podsDeleted{0};
  std::atomic<long long> errors{0};
};

class SimNode {
 public:
  SimNode(SimContext& ctx, NodeShape shape);
  SimNode(const SimNode&) = delete;
  SimNode& operator=(const SimNode&) = delete;

  const std::string& name() const { return shape_.name; }
  // Posts the registration; everything else follows from it. `then` runs once the first
  // registration attempt is over (Simulator chains registrations through it, a few at a time,
  // so Lease renewals of registered nodes are not queued behind thousands of registrations).
  void start(TaskPool::Task then = nullptr);
  // A paused node stops renewing its Lease and posting status, pod status included (a kubelet
  // cut off from the API server for those); it still deletes pods marked for deletion.
  void setPaused(bool paused);

 private:
  struct PodRecord {
    std::string ns, name;
    std::vector<std::string> ips;  // one per podCIDR (family), the primary first
    bool deleting = false;
    bool waitingForIp = false;  // no podCIDR yet: retried when the node gets one
  };

  void post(TaskPool::Task task) { strand_.post(std::move(task)); }
  void after(std::chrono::milliseconds delay, void (SimNode::*step)());
  void registerNode();
  void renewLease();
  void updateNodeStatus();
  void learnNode(const boost::json::object& node);
  void listPods();
  void watchPods();
  void onPodEvent(client::WatchEvent& ev);
  void syncPod(const boost::json::object& pod);
  void forgetPod(const std::string& uid);
  void retryWaitingPods();
  void checkPodCidr();
  bool ipsConfigured() const { return !ips_.empty(); }
  // Takes `ips` (a pod's status.podIPs from before this process) in the node's allocators;
  // false (nothing taken) unless each lies in one and they cover every podCIDR.
  bool reserveIps(const std::vector<std::string>& ips);
  // One IP from each podCIDR; nullopt (nothing taken) when one is exhausted.
  std::optional<std::vector<std::string>> allocateIps();
  void releaseIps(const std::vector<std::string>& ips);

  SimContext& ctx_;
  Strand strand_;
  const NodeShape shape_;
  std::atomic<bool> paused_{false};

  // Strand-owned state.
  bool registered_ = false;
  TaskPool::Task afterFirstAttempt_;
  std::string uid_;
  boost::json::object lease_;  // last Lease the server returned (empty: get or create first)
  // spec.podCIDRs (podCIDR alone from older writers): one allocator per family, primary first.
  std::vector<PodIpAllocator> ips_;
  std::unordered_map<std::string, PodRecord> pods_;  // by pod UID
  std::string podsResourceVersion_;
  bool watchActive_ = false;  // a pod watch is open or about to be re-opened
  bool cidrCheckScheduled_ = false;
  int watchFailures_ = 0;
  std::chrono::steady_clock::time_point lastReport_{};
};

}  // namespace berth::simulate
