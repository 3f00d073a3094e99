#pragma once
// The node lifecycle controller (upstream's pkg/controller/nodelifecycle, monitorNodeHealth):
// every --node-monitor-period it checks each Node's Lease (kube-node-lease) and Ready
// heartbeat; a node silent for --node-monitor-grace-period gets Ready/MemoryPressure/
// DiskPressure/PIDPressure = Unknown ("Kubelet stopped posting node status."), the taints that
// follow from its conditions (unreachable or not-ready, NoSchedule and NoExecute; removed when
// it is back), and its pods' Ready condition set to False. Evicting the pods is the taint
// eviction controller's work (taint_eviction_controller.h).
//
// Thread-safety: one monitor thread owns the health map; informer handlers are not used (the
// pass is level-triggered over the listers).
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controllers/framework/controller.h"
#include "controllers/nodelifecycle/node_health.h"

namespace berth::controllers::nodelifecycle {

struct LifecycleOptions {
  HealthOptions health;
  std::chrono::milliseconds monitorPeriod{5000};  // --node-monitor-period
};

// Options from the context's flags (node-monitor-grace-period, node-startup-grace-period,
// node-monitor-period), upstream's defaults otherwise.
LifecycleOptions lifecycleOptionsFrom(const ControllerContext& ctx);

inline const client::Resource kNodes{"", "v1", "nodes", false};
inline const client::Resource kPods{"", "v1", "pods", true};

// The pods informer index of pods by spec.nodeName, shared by this folder's controllers.
inline constexpr const char* kPodsByNodeIndex = "spec.nodeName";
void ensurePodsByNodeIndex(client::SharedInformer& pods);

class NodeLifecycleController : public Controller {
 public:
  NodeLifecycleController(ControllerContext& ctx, LifecycleOptions options);
  ~NodeLifecycleController() override;
  void run() override;
  void stop() override;

  // One pass over every node (public for tests).
  void monitorNodeHealth();

 private:
  void monitorNode(const client::ObjectPtr& node, SteadyTime now, const std::string& nowText);
  void markPodsNotReady(const std::string& node, const std::string& nowText);

  client::RestClient& client_;
  client::SharedInformer& nodes_;
  client::SharedInformer& leases_;
  client::SharedInformer& pods_;
  const LifecycleOptions options_;
  std::map<std::string, NodeHealth> health_;  // by node name; monitor thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::controllers::nodelifecycle
