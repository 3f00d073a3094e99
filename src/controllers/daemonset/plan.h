#pragma once
// The DaemonSet controller's decisions as pure functions of what its informers hold, so they
// can be tested without a server (upstream: manage/podsShouldBeOnNode, rollingUpdate and
// updateDaemonSetStatus in pkg/controller/daemon). The controller does the I/O.
//
// Thread-safety: stateless free functions over immutable JSON.
#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "client/indexer.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers::daemonset {

inline constexpr const char* kRevisionHashLabel = "controller-revision-hash";
inline constexpr const char* kTemplateGenerationLabel = "pod-template-generation";
inline constexpr const char* kTemplateGenerationAnnotation =
    "deprecated.daemonset.template.generation";

// Daemon pods by target node (spec.nodeName, else the pinned affinity). Terminal pods already
// being deleted are left out: nothing is left to do with them.
using NodePods = std::map<std::string, std::vector<client::ObjectPtr>>;
NodePods podsByNode(const std::vector<client::ObjectPtr>& pods);

struct ManagePlan {
  std::vector<std::string> nodesNeedingPods;
  std::vector<client::ObjectPtr> podsToDelete;
  std::vector<client::ObjectPtr> failedPods;  // among podsToDelete: to report as events
};

// Which nodes lack a daemon pod and which pods must go: pods on nodes the DaemonSet no longer
// fits (labels, affinity, untolerated NoExecute taints), failed and succeeded pods, surplus pods
// (all but the oldest without surge; with surge the oldest updated and oldest old are kept), and
// unscheduled pods whose target node is gone.
ManagePlan planManage(const boost::json::value& ds, const std::vector<client::ObjectPtr>& nodes,
                      const NodePods& nodePods, const std::string& hash);

struct RolloutPlan {
  std::vector<std::string> nodesNeedingPods;  // surge: new pods next to old ones
  std::vector<client::ObjectPtr> podsToDelete;
};

// One RollingUpdate step (maxUnavailable / maxSurge scaled against the desired count), as
// upstream's rollingUpdate. `desired` is desiredNumberScheduled.
RolloutPlan planRollingUpdate(const boost::json::value& ds,
                              const std::vector<client::ObjectPtr>& nodes, const NodePods& nodePods,
                              const std::string& hash, long long desired, SystemTime now);

bool isPodUpdated(const boost::json::value& pod, const boost::json::value& ds,
                  const std::string& hash);

// status fields (desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
// numberReady, updatedNumberScheduled, numberAvailable, numberUnavailable) as upstream counts
// them: per node, the oldest daemon pod decides.
boost::json::object computeStatus(const boost::json::value& ds,
                                  const std::vector<client::ObjectPtr>& nodes,
                                  const NodePods& nodePods, const std::string& hash,
                                  SystemTime now);

// The pod template for new pods: default tolerations and the revision-hash label (and
// pod-template-generation when the DaemonSet carries the deprecated generation annotation).
boost::json::object podTemplateFor(const boost::json::value& ds, const std::string& hash);

}  // namespace berth::controllers::daemonset
