#include "controllers/manager/controller_list.h"

#include "controllers/certificates/certificates_controllers.h"
#include "controllers/deployment/deployment_controller.h"
#include "controllers/disruption/disruption_controller.h"
#include "controllers/endpoints/endpoints_controller.h"
#include "controllers/endpointslice/endpointslice_controller.h"
#include "controllers/endpointslicemirroring/mirroring_controller.h"
#include "controllers/garbagecollector/garbage_collector.h"
#include "controllers/namespace/namespace_controller.h"
#include "controllers/nodeipam/nodeipam_controller.h"
#include "controllers/nodelifecycle/nodelifecycle_controller.h"
#include "controllers/nodelifecycle/taint_eviction_controller.h"
#include "controllers/replicaset/replica_set_controller.h"
#include "controllers/rootcacertpublisher/root_ca_cert_publisher.h"
#include "controllers/serviceaccount/serviceaccounts_controller.h"
#include "controllers/resourcequota/resource_quota_controller.h"
#include "controllers/servicelb/servicelb_controller.h"

// One include and one entry per controller (keep both lists sorted by name).
// One include and one entry per controller (keep both lists sorted by name).
#include "controllers/cronjob/cronjob_controller.h"
#include "controllers/daemonset/daemonset_controller.h"
#include "controllers/job/job_controller.h"
#include "controllers/nodeipam/nodeipam_controller.h"
#include "controllers/nodelifecycle/nodelifecycle_controller.h"
#include "controllers/nodelifecycle/taint_eviction_controller.h"
#include "controllers/persistentvolume/pv_controllers.h"
#include "controllers/pvcprotection/pvc_protection_controller.h"
#include "controllers/pvprotection/pv_protection_controller.h"
#include "controllers/statefulset/statefulset_controller.h"
#include "controllers/ttlafterfinished/ttl_after_finished_controller.h"

namespace berth::controllers {

const std::vector<ControllerEntry>& controllerList() {
  static const std::vector<ControllerEntry> list = {
      {"csrapproving", true, newCsrApprovingController},
      {"csrsigning", true, newCsrSigningController},
      {"deployment", true, newDeploymentController},
      {"disruption", true,
       [](ControllerContext& ctx) { return std::make_unique<DisruptionController>(ctx); }},
      {"endpoint", true,
       [](ControllerContext& ctx) { return std::make_unique<endpoints::EndpointsController>(ctx); }},
      {"endpointslice", true,
       [](ControllerContext& ctx) {
         return std::make_unique<endpointslice::EndpointSliceController>(ctx);
       }},
      {"endpointslicemirroring", true,
       [](ControllerContext& ctx) {
         return std::make_unique<endpointslicemirroring::MirroringController>(ctx);
       }},
      {"garbagecollector", true,
       [](ControllerContext& ctx) { return std::make_unique<GarbageCollector>(ctx); }},
      {"namespace", true,
       [](ControllerContext& ctx) { return std::make_unique<NamespaceController>(ctx); }},
      {"cronjob", true, newCronJobController},
      {"daemonset", true, newDaemonSetController},
      {"job", true, newJobController},
      {"nodeipam", true,
       [](ControllerContext& ctx) -> std::unique_ptr<Controller> {
         return nodeipam::NodeIpamController::createOrDie(ctx);
       }},
      {"nodelifecycle", true,
       [](ControllerContext& ctx) -> std::unique_ptr<Controller> {
         return std::make_unique<nodelifecycle::NodeLifecycleController>(
             ctx, nodelifecycle::lifecycleOptionsFrom(ctx));
       }},
      {"local-path-provisioner", true, newLocalPathProvisioner},
      {"persistentvolume-binder", true, newPersistentVolumeBinder},
      {"pv-protection", true, newPvProtectionController},
      {"pvc-protection", true, newPvcProtectionController},
      {"replicaset", true, newReplicaSetController},
      {"replicationcontroller", true, newReplicationControllerController},
      {"root-ca-cert-publisher", true, newRootCaCertPublisher},
      {"serviceaccount", true, newServiceAccountsController},
      {"resourcequota", true, newResourceQuotaController},
      {"servicelb", true,
       [](ControllerContext& ctx) { return std::make_unique<servicelb::ServiceLbController>(ctx); }},
      {"statefulset", true, newStatefulSetController},
      {"taint-eviction-controller", true,
       [](ControllerContext& ctx) -> std::unique_ptr<Controller> {
         return std::make_unique<nodelifecycle::TaintEvictionController>(ctx);
       }},
      {"ttl-after-finished", true, newTtlAfterFinishedController},
  };
  return list;
}

}  // namespace berth::controllers
