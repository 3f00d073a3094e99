#pragma once
// The taint eviction controller (upstream's pkg/controller/tainteviction, the "taint manager"):
// a pod on a node with NoExecute taints is deleted at once when it does not tolerate one of
// them, and after the smallest tolerationSeconds of the tolerations it uses otherwise (pods get
// 300 s tolerations of not-ready and unreachable by default, DefaultTolerationSeconds
// admission). Before deleting, the pod gets the DisruptionTarget condition (reason
// DeletionByTaintManager). The countdown starts when the controller first sees the pod needing
// eviction and is cancelled when the taint goes or a toleration covers it.
//
// Thread-safety: handlers enqueue pod keys; sync runs on the workers; the countdown map is
// behind mu_.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers::nodelifecycle {

class TaintEvictionController : public Controller {
 public:
  explicit TaintEvictionController(ControllerContext& ctx);
  void run() override;
  void stop() override;

  core::Status sync(const std::string& podKey);

 private:
  void enqueuePodsOn(const std::string& node);
  core::Status evict(const boost::json::object& pod, const std::string& key);

  client::RestClient& client_;
  const int workerCount_;
  client::SharedInformer& nodes_;
  client::SharedInformer& pods_;
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> countdownStart_;  // by pod key
  QueueWorkers workers_;
};

}  // namespace berth::controllers::nodelifecycle
