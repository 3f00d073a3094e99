#include "controllers/manager/controller_list.h"

#include "controllers/deployment/deployment_controller.h"
#include "controllers/replicaset/replica_set_controller.h"

// One include and one entry per controller (keep both lists sorted by name).

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
      {"deployment", true, newDeploymentController},
      {"replicaset", true, newReplicaSetController},
      {"replicationcontroller", true, newReplicationControllerController},
  };
  return list;
}

}  // namespace berth::controllers
