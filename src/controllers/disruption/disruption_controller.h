#pragma once
// The disruption controller (upstream's pkg/controller/disruption): keeps every
// PodDisruptionBudget's status (currentHealthy, desiredHealthy, expectedPods,
// disruptionsAllowed, disruptedPods, observedGeneration, the DisruptionAllowed condition) from
// the pods its selector matches and the scale of their controllers (ReplicationController,
// ReplicaSet or its Deployment, StatefulSet, else any controller's /scale subresource). The
// API server's eviction subresource spends disruptionsAllowed and records the pod in
// disruptedPods; this controller drops entries whose pod did not go within two minutes.
//
// Thread-safety: run()/stop() from the manager's thread; syncs run on the worker threads.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client/event_recorder.h"
#include "controllers/framework/controller.h"
#include "controllers/framework/discovery.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers {

class DisruptionController : public Controller {
 public:
  explicit DisruptionController(ControllerContext& ctx);
  ~DisruptionController() override;
  void run() override;
  void stop() override;

 private:
  core::Status sync(const std::string& key);
  void enqueueBudgetsFor(const client::ObjectPtr& pod);
  // The summed scale of the controllers of `pods` (each controller counted once).
  // Pods without a controller are skipped and named in `unmanaged`.
  core::Result<int> expectedScale(const std::string& ns, const std::vector<client::ObjectPtr>& pods,
                                  std::vector<std::string>& unmanaged);
  core::Result<int> controllerScale(const std::string& ns, const std::string& apiVersion,
                                    const std::string& kind, const std::string& name,
                                    const std::string& uid);

  ControllerContext ctx_;  // a copy: the manager's context is a temporary
  client::SharedInformer& pdbs_;
  client::SharedInformer& pods_;
  client::SharedInformer& replicaSets_;
  client::SharedInformer& replicationControllers_;
  client::SharedInformer& deployments_;
  client::SharedInformer& statefulSets_;
  client::EventRecorder recorder_;  // source "controllermanager", as upstream's
  QueueWorkers workers_;
  std::vector<std::pair<client::SharedInformer*, int>> handlers_;

  std::mutex mu_;  // guards discovery_ (read lazily for the /scale of other controllers)
  std::shared_ptr<const DiscoveryResult> discovery_;
};

}  // namespace berth::controllers
