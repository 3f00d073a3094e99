// Column definitions per kind (names, types, formats and priorities as upstream 1.32's
// pkg/printers/internalversion/printers.go declares them) and dispatch to the row printers.
#include "apiserver/printers/table.h"

#include <string_view>
#include <vector>

#include "apiserver/printers/custom_columns.h"
#include "apiserver/printers/rows.h"

namespace berth::apiserver::printers {
namespace {
namespace json = boost::json;
using internal::RowPrinter;

struct Column {
  std::string_view name;
  std::string_view type;
  std::string_view description;
  int priority = 0;
  std::string_view format = {};
};

constexpr std::string_view kNameDoc =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
constexpr std::string_view kAgeDoc =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
constexpr std::string_view kContainersDoc = "Names of each container in the template.";
constexpr std::string_view kImagesDoc = "Images referenced by each container in the template.";

const Column kName{"Name", "string", kNameDoc, 0, "name"};
const Column kAge{"Age", "string", kAgeDoc};
const Column kContainers{"Containers", "string", kContainersDoc, 1};
const Column kImages{"Images", "string", kImagesDoc, 1};

// Both Event APIs print the same columns.
const std::vector<Column> kEventColumns = {
    {"Last Seen", "string",
     "The time at which the most recent occurrence of this event was recorded."},
    {"Type", "string", "Type of this event (Normal, Warning)."},
    {"Reason", "string", "A short, machine understandable reason for the event."},
    {"Object", "string", "The object that this event is about."},
    {"Subobject", "string", "The field of the object the event is about.", 1},
    {"Source", "string", "The component reporting this event.", 1},
    {"Message", "string", "A human-readable description of the status of this operation."},
    {"First Seen", "string", "The time at which the event was first recorded.", 1},
    {"Count", "string", "The number of times this event has occurred.", 1},
    {"Name", "string", kNameDoc, 1, "name"}};

constexpr std::string_view kPvCapacityDoc =
    "capacity is the description of the persistent volume's resources and capacity. More info: "
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity";
constexpr std::string_view kAccessModesDoc =
    "accessModes contains all ways the volume can be mounted. More info: "
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes";
const std::vector<Column> kWebhookColumns = {
    kName,
    {"Webhooks", "integer",
     "Webhooks indicates the number of webhooks registered in this configuration"},
    kAge};

struct Printer {
  std::string_view group;
  std::string_view kind;
  std::vector<Column> columns;
  RowPrinter row;
};

const std::vector<Printer>& printers() {
  static const std::vector<Printer> all = {
      {"",
       "Pod",
       {kName,
        {"Ready", "string", "The aggregate readiness state of this pod for accepting traffic."},
        {"Status", "string", "The aggregate status of the containers in this pod."},
        {"Restarts", "string",
         "The number of times the containers in this pod have been restarted and when the last "
         "container in this pod has restarted."},
        kAge,
        {"IP", "string", "IP address allocated to the pod.", 1},
        {"Node", "string", "NodeName is the node the pod is scheduled onto.", 1},
        {"Nominated Node", "string", "The node the scheduler nominated for this pod.", 1},
        {"Readiness Gates", "string", "Readiness gates of the pod that are true, of all.", 1}},
       internal::podRow},
      {"",
       "Service",
       {kName,
        {"Type", "string", "How the Service is exposed."},
        {"Cluster-IP", "string", "The IP address of the service, usually assigned randomly."},
        {"External-IP", "string", "Addresses by which the service is reachable externally."},
        {"Port(s)", "string", "The list of ports that are exposed by this service."},
        kAge,
        {"Selector", "string",
         "Route service traffic to pods with label keys and values "
         "matching this selector.",
         1}},
       internal::serviceRow},
      {"",
       "Node",
       {kName,
        {"Status", "string", "The status of the node"},
        {"Roles", "string", "The roles of the node"},
        kAge,
        {"Version", "string", "Kubelet Version reported by the node."},
        {"Internal-IP", "string", "List of addresses reachable to the node.", 1},
        {"External-IP", "string", "List of addresses reachable to the node.", 1},
        {"OS-Image", "string", "OS Image reported by the node.", 1},
        {"Kernel-Version", "string", "Kernel Version reported by the node.", 1},
        {"Container-Runtime", "string", "ContainerRuntime Version reported by the node.", 1}},
       internal::nodeRow},
      {"",
       "Namespace",
       {kName, {"Status", "string", "The status of the namespace"}, kAge},
       internal::namespaceRow},
      {"", "Event", kEventColumns, internal::eventRow},
      {"events.k8s.io", "Event", kEventColumns, internal::eventsV1EventRow},
      {"",
       "Endpoints",
       {kName,
        {"Endpoints", "string", "The set of all endpoints is the union of all subsets."},
        kAge},
       internal::endpointsRow},
      {"",
       "ConfigMap",
       {kName, {"Data", "string", "Data contains the configuration data."}, kAge},
       internal::configMapRow},
      {"",
       "Secret",
       {kName,
        {"Type", "string", "Used to facilitate programmatic handling of secret data."},
        {"Data", "string", "Data contains the secret data."},
        kAge},
       internal::secretRow},
      {"",
       "ServiceAccount",
       {kName,
        {"Secrets", "string", "Secrets is a list of the secrets in the same namespace."},
        kAge},
       internal::serviceAccountRow},
      {"",
       "ReplicationController",
       {kName,
        {"Desired", "integer", "Replicas is the number of desired replicas."},
        {"Current", "integer", "Replicas is the most recently observed number of replicas."},
        {"Ready", "integer", "The number of ready replicas for this replication controller."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string",
         "Selector is a label query over pods that should match the "
         "Replicas count.",
         1}},
       internal::replicationControllerRow},
      {"",
       "ResourceQuota",
       {kName,
        {"Request", "string",
         "Request represents a minimum amount of cpu/memory that a "
         "container may consume."},
        {"Limit", "string",
         "Limits control the maximum amount of cpu/memory that a container "
         "may use independent of contention on the node."},
        kAge},
       internal::resourceQuotaRow},
      {"apps",
       "Deployment",
       {kName,
        {"Ready", "string", "Number of the pod with ready state"},
        {"Up-to-date", "string",
         "Total number of non-terminated pods targeted by this "
         "deployment that have the desired template spec."},
        {"Available", "string",
         "Total number of available pods (ready for at least "
         "minReadySeconds) targeted by this deployment."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string", "Label selector for pods.", 1}},
       internal::deploymentRow},
      {"apps",
       "ReplicaSet",
       {kName,
        {"Desired", "integer", "Replicas is the number of desired replicas."},
        {"Current", "integer", "Replicas is the most recently observed number of replicas."},
        {"Ready", "integer", "The number of ready replicas for this replica set."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string",
         "Selector is a label query over pods that should match the "
         "replica count.",
         1}},
       internal::replicaSetRow},
      {"apps",
       "DaemonSet",
       {kName,
        {"Desired", "integer",
         "The total number of nodes that should be running the daemon "
         "pod."},
        {"Current", "integer",
         "The number of nodes that are running at least 1 daemon pod and "
         "are supposed to run the daemon pod."},
        {"Ready", "integer",
         "The number of nodes that should be running the daemon pod and "
         "have one or more of the daemon pod running and ready."},
        {"Up-to-date", "integer",
         "The total number of nodes that are running updated daemon "
         "pod."},
        {"Available", "integer",
         "The number of nodes that should be running the daemon pod "
         "and have one or more of the daemon pod running and "
         "available."},
        {"Node Selector", "string",
         "NodeSelector is a selector which must be true for the pod "
         "to fit on a node."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string", "A label query over pods that are managed by the daemon set.", 1}},
       internal::daemonSetRow},
      {"apps",
       "StatefulSet",
       {kName,
        {"Ready", "string", "Number of the pod with ready state"},
        kAge,
        kContainers,
        kImages},
       internal::statefulSetRow},
      {"apps",
       "ControllerRevision",
       {kName,
        {"Controller", "string", "Controller of the object"},
        {"Revision", "string",
         "Revision indicates the revision of the state represented by "
         "Data."},
        kAge},
       internal::controllerRevisionRow},
      {"batch",
       "Job",
       {kName,
        {"Status", "string", "Status of the job."},
        {"Completions", "string", "The number of pods which reached phase Succeeded."},
        {"Duration", "string", "Time required to complete the job."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string", "A label query over pods that should match the pod count.", 1}},
       internal::jobRow},
      {"batch",
       "CronJob",
       {kName,
        {"Schedule", "string", "The schedule in Cron format."},
        {"Timezone", "string", "The time zone name for the given schedule."},
        {"Suspend", "boolean",
         "This flag tells the controller to suspend subsequent "
         "executions."},
        {"Active", "integer", "A list of pointers to currently running jobs."},
        {"Last Schedule", "string",
         "Information when was the last time the job was "
         "successfully scheduled."},
        kAge,
        kContainers,
        kImages,
        {"Selector", "string", "A label query over pods that should match the pod count.", 1}},
       internal::cronJobRow},
      {"autoscaling",
       "HorizontalPodAutoscaler",
       {kName,
        {"Reference", "string", "Reference to scaled resource."},
        {"Targets", "string",
         "Metrics contains the specifications for which to use to "
         "calculate the desired replica count."},
        {"MinPods", "string",
         "Lower limit for the number of pods that can be set by the "
         "autoscaler."},
        {"MaxPods", "string",
         "Upper limit for the number of pods that can be set by the "
         "autoscaler."},
        {"Replicas", "string",
         "Current number of replicas of pods managed by this "
         "autoscaler."},
        kAge},
       internal::hpaRow},
      {"networking.k8s.io",
       "Ingress",
       {kName,
        {"Class", "string",
         "The name of the IngressClass resource that should be used for "
         "additional configuration"},
        {"Hosts", "string",
         "Hosts that incoming requests are matched against before the "
         "ingress rule"},
        {"Address", "string",
         "Address is a list containing ingress points for the "
         "load-balancer"},
        {"Ports", "string", "Ports of TLS configurations that open"},
        kAge},
       internal::ingressRow},
      {"networking.k8s.io",
       "IngressClass",
       {kName,
        {"Controller", "string", "Controller that is responsible for handling this class"},
        {"Parameters", "string", "A reference to a resource with additional parameters"},
        kAge},
       internal::ingressClassRow},
      {"networking.k8s.io",
       "NetworkPolicy",
       {kName,
        {"Pod-Selector", "string",
         "Selects the pods to which this NetworkPolicy object applies."},
        kAge},
       internal::networkPolicyRow},
      {"discovery.k8s.io",
       "EndpointSlice",
       {kName,
        {"AddressType", "string",
         "addressType specifies the type of address carried "
         "by this EndpointSlice."},
        {"Ports", "string",
         "ports specifies the list of network ports exposed by each "
         "endpoint in this slice."},
        {"Endpoints", "string", "endpoints is a list of unique endpoints in this slice."},
        kAge},
       internal::endpointSliceRow},
      {"coordination.k8s.io",
       "Lease",
       {kName,
        {"Holder", "string",
         "holderIdentity contains the identity of the holder of a "
         "current lease."},
        kAge},
       internal::leaseRow},
      {"scheduling.k8s.io",
       "PriorityClass",
       {kName,
        {"Value", "integer", "The value of this priority class."},
        {"Global-Default", "boolean",
         "Whether this priority class is the default for pods "
         "that do not specify one."},
        kAge,
        {"PreemptionPolicy", "string", "The Policy for preempting pods with lower priority."}},
       internal::priorityClassRow},
      {"policy",
       "PodDisruptionBudget",
       {kName,
        {"Min Available", "string", "The minimum number of pods that must be available."},
        {"Max Unavailable", "string", "The maximum number of pods that may be unavailable."},
        {"Allowed Disruptions", "integer",
         "Calculated number of pods that may be disrupted at "
         "this time."},
        kAge},
       internal::podDisruptionBudgetRow},
      {"rbac.authorization.k8s.io",
       "RoleBinding",
       {kName,
        {"Role", "string",
         "RoleRef can reference a Role in the current namespace or a "
         "ClusterRole in the global namespace."},
        kAge,
        {"Users", "string", "Users in the roleBinding", 1},
        {"Groups", "string", "Groups in the roleBinding", 1},
        {"ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1}},
       internal::roleBindingRow},
      {"rbac.authorization.k8s.io",
       "ClusterRoleBinding",
       {kName,
        {"Role", "string",
         "RoleRef can only reference a ClusterRole in the global "
         "namespace."},
        kAge,
        {"Users", "string", "Users in the clusterRoleBinding", 1},
        {"Groups", "string", "Groups in the clusterRoleBinding", 1},
        {"ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding", 1}},
       internal::roleBindingRow},
      {"",
       "PersistentVolume",
       {kName,
        {"Capacity", "string", kPvCapacityDoc},
        {"Access Modes", "string", kAccessModesDoc},
        {"Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"},
        {"Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"},
        {"Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"},
        {"StorageClass", "string", "StorageClass of the pv"},
        {"VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"},
        {"Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."},
        kAge,
        {"VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.", 1}},
       internal::persistentVolumeRow},
      {"",
       "PersistentVolumeClaim",
       {kName,
        {"Status", "string", "phase represents the current phase of PersistentVolumeClaim."},
        {"Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."},
        {"Capacity", "string", "capacity represents the actual resources of the underlying volume."},
        {"Access Modes", "string", kAccessModesDoc},
        {"StorageClass", "string", "StorageClass of the pvc"},
        {"VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"},
        kAge,
        {"VolumeMode", "string", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.", 1}},
       internal::persistentVolumeClaimRow},
      {"storage.k8s.io",
       "StorageClass",
       {kName,
        {"Provisioner", "string", "provisioner indicates the type of the provisioner."},
        {"ReclaimPolicy", "string", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."},
        {"VolumeBindingMode", "string", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."},
        {"AllowVolumeExpansion", "string", "allowVolumeExpansion shows whether the storage class allow volume expand."},
        kAge},
       internal::storageClassRow},
      {"storage.k8s.io",
       "CSIDriver",
       {kName,
        {"AttachRequired", "boolean", "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting."},
        {"PodInfoOnMount", "boolean", "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true."},
        {"StorageCapacity", "boolean", "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true."},
        {"TokenRequests", "string", "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication."},
        {"RequiresRepublish", "boolean", "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume."},
        {"Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."},
        kAge},
       internal::csiDriverRow},
      {"storage.k8s.io",
       "CSINode",
       {kName,
        {"Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"},
        kAge},
       internal::csiNodeRow},
      {"storage.k8s.io",
       "VolumeAttachment",
       {kName,
        {"Attacher", "string", "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().", 0, "name"},
        {"PV", "string", "persistentVolumeName represents the name of the persistent volume to attach."},
        {"Node", "string", "nodeName represents the node that the volume should be attached to."},
        {"Attached", "boolean", "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher."},
        kAge},
       internal::volumeAttachmentRow},
      {"certificates.k8s.io",
       "CertificateSigningRequest",
       {kName,
        kAge,
        {"SignerName", "string", "Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`."},
        {"Requestor", "string", "Base64-encoded PKCS#10 CSR data"},
        {"RequestedDuration", "string", "expirationSeconds is the requested duration of validity of the issued certificate."},
        {"Condition", "string", "Conditions applied to the request, such as approval or denial."}},
       internal::certificateSigningRequestRow},
      {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", kWebhookColumns,
       internal::webhookConfigurationRow},
      {"admissionregistration.k8s.io", "MutatingWebhookConfiguration", kWebhookColumns,
       internal::webhookConfigurationRow},
      {"flowcontrol.apiserver.k8s.io",
       "FlowSchema",
       {kName,
        {"PriorityLevel", "string", "`name` is the name of the priority level configuration being referenced Required."},
        {"MatchingPrecedence", "string", "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default."},
        {"DistinguisherMethod", "string", "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string."},
        kAge,
        {"MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"}},
       internal::flowSchemaRow},
      {"flowcontrol.apiserver.k8s.io",
       "PriorityLevelConfiguration",
       {kName,
        {"Type", "string", "`type` indicates whether this priority level is subject to limitation on request execution.  A value of `\"Exempt\"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `\"Limited\"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server's limited capacity is made available exclusively to this priority level. Required."},
        {"NominalConcurrencyShares", "string", "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level."},
        {"Queues", "string", "`queues` is the number of queues for this priority level. The queues exist independently at each apiserver. The value must be positive.  Setting it to 1 effectively precludes shufflesharding and thus makes the distinguisher method of associated flow schemas irrelevant.  This field has a default value of 64."},
        {"HandSize", "string", "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.  When enqueuing a request at this priority level the request's flow identifier (a string pair) is hashed and the hash value is used to shuffle the list of queues and deal a hand of the size specified here.  The request is put into one of the shortest queues in that hand. `handSize` must be no larger than `queues`, and should be significantly smaller (so that a few heavy flows do not saturate most of the queues).  See the user-facing documentation for more extensive guidance on setting this field.  This field has a default value of 8."},
        {"QueueLengthLimit", "string", "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.  This value must be positive.  If not specified, it will be defaulted to 50."},
        kAge},
       internal::priorityLevelConfigurationRow},
      {"apiregistration.k8s.io",
       "APIService",
       {kName,
        {"Service", "string", "The reference to the service that hosts this API endpoint."},
        {"Available", "string", "Whether this service is available."},
        kAge},
       internal::apiServiceRow},
  };
  return all;
}

// Kinds without a printer upstream (Role, ClusterRole, ...) get the API server's default table.
const Printer& defaultPrinter() {
  static const Printer p{"", "", {kName, {"Created At", "date", kAgeDoc}}, internal::defaultRow};
  return p;
}

const Printer& printerFor(const core::ResourceType& rt) {
  for (const Printer& p : printers()) {
    if (p.group == rt.group && p.kind == rt.kind) return p;
  }
  return defaultPrinter();
}

}  // namespace

json::array columnDefinitions(const core::ResourceType& rt) {
  std::vector<Column> custom;
  if (const auto* cols = rt.behavior ? rt.behavior->printerColumns() : nullptr) {
    // A CRD version's additionalPrinterColumns, after the Name every table starts with.
    custom.push_back(kName);
    for (const auto& c : *cols)
      custom.push_back({c.name, c.type, c.description, c.priority, c.format});
  }
  json::array out;
  for (const Column& c : custom.empty() ? printerFor(rt).columns : custom) {
    out.push_back(json::object{{"name", c.name},
                               {"type", c.type},
                               {"format", c.format},
                               {"description", c.description},
                               {"priority", c.priority}});
  }
  return out;
}

json::array rowCells(const core::ResourceType& rt, const json::object& obj,
                     std::chrono::system_clock::time_point now) {
  if (const auto* custom = rt.behavior ? rt.behavior->printerColumns() : nullptr)
    return internal::customRowCells(*custom, obj, now);
  return printerFor(rt).row(obj, now);
}

}  // namespace berth::apiserver::printers
