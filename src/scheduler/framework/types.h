#pragma once
// The scheduler's parsed view of pods and nodes: PodInfo (what scheduling needs from a Pod,
// parsed once per pod version) and NodeInfo (a node plus the pods on it and their summed
// requests), as upstream's framework.PodInfo / framework.NodeInfo.
//
// Ownership: a PodInfo is immutable once parsed and shared (PodInfoPtr) by the queue, the cache
// and every snapshot. A NodeInfo is mutable only inside the cache; snapshots hold clones
// (Snapshot.h), which filters and scores read without locks.
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/result.h"

namespace berth::scheduler {

using ObjectPtr = std::shared_ptr<const boost::json::value>;

// Resource amounts: CPU in millicores, memory and storage in bytes, extended resources in
// their integer units.
struct Resources {
  int64_t milliCpu = 0;
  int64_t memory = 0;
  int64_t ephemeralStorage = 0;
  int64_t pods = 0;  // allocatable pod slots (node side only)
  std::map<std::string, int64_t, std::less<>> scalar;

  void add(const Resources& o);
  void sub(const Resources& o);
  // Per-resource maximum (init containers run one at a time, before the app containers).
  void setMax(const Resources& o);
  // Reads a ResourceList ({"cpu":"100m","memory":"1Gi",...}); malformed quantities count 0.
  static Resources fromList(const boost::json::object* list);
};

// A Kubernetes quantity in the given unit: `scale` 1000 gives milli-units ("100m" -> 100,
// "1" -> 1000), scale 1 gives whole units rounded up ("1Ki" -> 1024). nullopt when malformed.
std::optional<int64_t> parseQuantity(std::string_view s, int64_t scale);

struct Toleration {
  std::string key, op, value, effect;  // op "Equal" (default) or "Exists"; effect "" = any
};
struct Taint {
  std::string key, value, effect;
};
bool tolerates(const Toleration& t, const Taint& taint);
// Whether some toleration tolerates `taint`.
bool tolerated(const std::vector<Toleration>& tolerations, const Taint& taint);

struct HostPort {
  std::string protocol;  // TCP, UDP, SCTP
  std::string ip;        // "" or "0.0.0.0" = every address
  int port = 0;
  // Two host ports conflict when protocol and port agree and the IPs overlap.
  bool conflicts(const HostPort& o) const;
};

// v1.NodeSelectorRequirement and NodeSelectorTerm (terms are ORed, requirements ANDed).
struct NodeSelectorRequirement {
  std::string key, op;  // In, NotIn, Exists, DoesNotExist, Gt, Lt
  std::vector<std::string> values;
};
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> matchExpressions;
  std::vector<NodeSelectorRequirement> matchFields;  // only metadata.name is supported upstream
};
struct PreferredSchedulingTerm {
  int weight = 0;
  NodeSelectorTerm term;
};

// v1.PodAffinityTerm.
struct AffinityTerm {
  core::LabelSelector selector;
  bool selectorSet = false;  // a null labelSelector matches no pod
  std::vector<std::string> namespaces;  // empty and no namespaceSelector = the pod's namespace
  bool namespaceSelectorSet = false;
  core::LabelSelector namespaceSelector;  // matched against Namespace labels; empty = all
  std::string topologyKey;
  // Whether `pod` is matched by this term (namespace and labels). `nsLabels` are the labels of
  // the pod's namespace (only consulted with a namespaceSelector).
  bool matches(const struct PodInfo& pod, const core::Labels* nsLabels) const;
};
struct WeightedAffinityTerm {
  int weight = 0;
  AffinityTerm term;
};

struct SpreadConstraint {
  int maxSkew = 1;
  std::string topologyKey;
  bool doNotSchedule = true;  // whenUnsatisfiable DoNotSchedule; false = ScheduleAnyway
  core::LabelSelector selector;
  int minDomains = 1;
  bool honorNodeAffinity = true;  // nodeAffinityPolicy Honor (default)
  bool honorTaints = false;       // nodeTaintsPolicy Ignore (default)
};

struct PodInfo {
  ObjectPtr object;  // the Pod as received (immutable)
  std::string ns, name, uid, nodeName, schedulerName, nominatedNodeName, resourceVersion;
  std::string creationTimestamp;  // RFC 3339; sorts chronologically as text
  int32_t priority = 0;
  bool priorityUnset = false;      // spec.priority absent (not resolved by admission)
  std::string priorityClassName;
  bool preemptNever = false;  // preemptionPolicy Never
  bool terminating = false;   // metadata.deletionTimestamp set
  bool finished = false;      // phase Succeeded or Failed
  core::Labels labels;
  Resources requests;         // what the pod occupies: max(sum(containers), max(init)) + overhead
  Resources nonZeroRequests;  // for scoring: unset CPU/memory count 100m / 200Mi, as upstream
  std::map<std::string, std::string> nodeSelector;
  std::vector<NodeSelectorTerm> requiredNodeAffinity;  // empty = none
  std::vector<PreferredSchedulingTerm> preferredNodeAffinity;
  std::vector<Toleration> tolerations;
  std::vector<HostPort> hostPorts;
  std::vector<AffinityTerm> requiredAffinity, requiredAntiAffinity;
  std::vector<WeightedAffinityTerm> preferredAffinity, preferredAntiAffinity;
  std::vector<SpreadConstraint> spreadConstraints;

  std::string key() const { return ns + "/" + name; }
  bool hasAffinity() const {
    return !requiredAffinity.empty() || !requiredAntiAffinity.empty() ||
           !preferredAffinity.empty() || !preferredAntiAffinity.empty();
  }
};
using PodInfoPtr = std::shared_ptr<const PodInfo>;

// Parses a Pod. A malformed selector is a BadRequest (the pod cannot be scheduled as written).
core::Result<PodInfoPtr> parsePod(ObjectPtr pod);

struct NodeInfo {
  ObjectPtr object;  // the Node; null while only assumed/bound pods reference the name
  std::string name;
  core::Labels labels;
  std::vector<Taint> taints;
  bool unschedulable = false;
  Resources allocatable;
  std::vector<PodInfoPtr> pods;
  int podsWithAffinity = 0;               // pods here with any inter-pod (anti-)affinity
  int podsWithRequiredAntiAffinity = 0;
  Resources requested;         // sum of the pods' requests
  Resources nonZeroRequested;  // the same with scoring defaults
  std::vector<HostPort> usedPorts;
  int64_t generation = 0;  // the cache's counter when this info last changed

  void setNode(ObjectPtr node);
  void addPod(PodInfoPtr pod);
  // Removes the pod with this uid; false when it is not here.
  bool removePod(const std::string& uid);
};
using NodeInfoPtr = std::shared_ptr<const NodeInfo>;

// Whether `labels`/`name` satisfy a node selector term.
bool nodeSelectorTermMatches(const NodeSelectorTerm& term, const core::Labels& labels,
                             const std::string& nodeName);
// Whether the node meets the pod's nodeSelector and required node affinity.
bool podMatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node);

}  // namespace berth::scheduler
