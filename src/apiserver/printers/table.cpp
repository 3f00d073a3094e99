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
