#pragma once
// The Deployment controller's class, shared by its .cpp files (deployment_controller.cpp: events,
// adoption, the sync entry; rollout.cpp: rolling/recreate/scale; replica_sets.cpp: the new
// ReplicaSet, scaling writes, cleanup and status writes). Not for use outside this folder.
#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <vector>

#include "client/event_recorder.h"
#include "client/informer.h"
#include "controllers/deployment/deployment_util.h"
#include "controllers/framework/controller.h"
#include "controllers/framework/queue_workers.h"

namespace berth::controllers::deployment {

inline const client::Resource kDeployments{"apps", "v1", "deployments", true};
inline const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};
inline const client::Resource kPods{"", "v1", "pods", true};

// Pods of the Deployment grouped by the uid of the ReplicaSet controlling them.
using PodMap = std::map<std::string, std::vector<client::ObjectPtr>>;

class DeploymentController : public Controller {
 public:
  explicit DeploymentController(ControllerContext& ctx);
  ~DeploymentController() override;
  void run() override { workers_.start(workerCount_); }
  void stop() override { workers_.stop(); }

 private:
  // deployment_controller.cpp
  void onReplicaSetAdd(const boost::json::value& rs);
  void onReplicaSetUpdate(const boost::json::value& oldRS, const boost::json::value& rs);
  void onReplicaSetDelete(const boost::json::value& rs);
  void onPodDelete(const boost::json::value& pod);
  client::ObjectPtr resolveDeployment(const std::string& ns, const ControllerRef& ref) const;
  void enqueueSelecting(const boost::json::value& rs);
  core::Status sync(const std::string& key);
  core::Result<RSList> claimReplicaSets(const boost::json::value& d,
                                        const core::LabelSelector& selector);
  PodMap podMap(const boost::json::value& d, const core::LabelSelector& selector,
                const RSList& rsList) const;
  core::Status checkPausedConditions(boost::json::value& d);
  core::Result<bool> isScalingEvent(boost::json::value& d, const RSList& rsList);

  // rollout.cpp
  core::Status syncScale(boost::json::value& d, const RSList& rsList);
  core::Status syncStatusOnly(boost::json::value& d, const RSList& rsList);
  core::Status rolloutRolling(boost::json::value& d, const RSList& rsList);
  core::Status rolloutRecreate(boost::json::value& d, const RSList& rsList, const PodMap& pods);
  core::Result<bool> reconcileNewReplicaSet(const RSList& allRSs, client::ObjectPtr& newRS,
                                            const boost::json::value& d);
  core::Result<bool> reconcileOldReplicaSets(const RSList& allRSs, RSList oldRSs,
                                             const client::ObjectPtr& newRS,
                                             const boost::json::value& d);
  core::Status scale(const boost::json::value& d, const client::ObjectPtr& newRS,
                     const RSList& oldRSs);
  core::Status syncRolloutStatus(const RSList& allRSs, const client::ObjectPtr& newRS,
                                 boost::json::value& d);
  void requeueStuckDeployment(const boost::json::value& d, const boost::json::object& status);

  // replica_sets.cpp
  struct NewAndOld {
    client::ObjectPtr newRS;  // null when it does not exist (and was not to be created)
    RSList oldRSs;
  };
  core::Result<NewAndOld> getAllReplicaSetsAndSyncRevision(boost::json::value& d,
                                                           const RSList& rsList, bool create);
  core::Result<client::ObjectPtr> getNewReplicaSet(boost::json::value& d, const RSList& rsList,
                                                   const RSList& oldRSs, bool create);
  // Sets spec.replicas and the replicas annotations; `scaled` tells whether the size changed.
  core::Result<client::ObjectPtr> scaleReplicaSet(const client::ObjectPtr& rs, long long size,
                                                  const boost::json::value& d,
                                                  std::string_view operation, bool* scaled);
  core::Result<client::ObjectPtr> scaleReplicaSetAndRecordEvent(const client::ObjectPtr& rs,
                                                                long long size,
                                                                const boost::json::value& d,
                                                                bool* scaled);
  core::Status cleanupDeployment(const RSList& oldRSs, const boost::json::value& d);
  core::Status syncDeploymentStatus(const RSList& allRSs, const client::ObjectPtr& newRS,
                                    boost::json::value& d);
  // PUT the status in `d`; on success `d` becomes the stored object.
  core::Status writeStatus(boost::json::value& d);
  // The deployment's revision annotation (by metadata PATCH); `d` becomes the stored object.
  core::Status setRevision(boost::json::value& d, const std::string& revision);

  client::RestClient& client_;
  client::SharedInformer& dInformer_;
  client::SharedInformer& rsInformer_;
  client::SharedInformer& podInformer_;
  client::EventRecorder recorder_;
  QueueWorkers workers_;
  const int workerCount_;
  int dHandler_ = 0, rsHandler_ = 0, podHandler_ = 0;
};

}  // namespace berth::controllers::deployment
