#pragma once
// Which nodes a DaemonSet's pod belongs on, as upstream's NodeShouldRunDaemonPod
// (pkg/controller/daemon/daemon_controller.go) and the helpers it uses: the pod template's
// nodeName, nodeSelector and required node affinity must match the node, and the node's
// NoSchedule/NoExecute taints must be tolerated by the template's tolerations plus the ones the
// DaemonSet controller always adds (not-ready/unreachable NoExecute; disk-, memory-, pid-pressure
// and unschedulable NoSchedule; network-unavailable NoSchedule for hostNetwork pods).
//
// Thread-safety: stateless free functions over immutable JSON.
#include <boost/json.hpp>

#include <string>

namespace berth::controllers::daemonset {

// Adds the default daemon tolerations to a pod spec (upstream AddOrUpdateDaemonPodTolerations):
// a toleration equal in key/operator/value/effect to an existing one replaces it in place.
void addDaemonTolerations(boost::json::object& podSpec);

// v1helper.TolerationsTolerateTaint for one toleration and one taint.
bool tolerates(const boost::json::object& toleration, const boost::json::object& taint);

// Whether the node satisfies nodeSelector and the required node affinity of a pod spec.
bool matchesNodeAffinity(const boost::json::object& podSpec, const boost::json::value& node);

// Whether one NodeSelectorTerms list (OR of terms; each term ANDs matchExpressions on labels
// and matchFields on metadata.name) selects the node. An empty term selects nothing.
bool matchesNodeSelectorTerms(const boost::json::array& terms, const boost::json::value& node);

struct Placement {
  bool shouldRun = false;              // a daemon pod should be created here
  bool shouldContinueRunning = false;  // an existing daemon pod may stay
};

Placement nodeShouldRunDaemonPod(const boost::json::value& node, const boost::json::value& ds);

// The node a daemon pod is for: spec.nodeName, else the value of the `metadata.name In [x]`
// matchFields requirement the controller put in its affinity; "" when neither.
std::string targetNodeName(const boost::json::value& pod);

// Replaces the required node affinity terms by `metadata.name In [node]`, keeping everything
// else of the affinity (upstream ReplaceDaemonSetPodNodeNameNodeAffinity).
void pinToNode(boost::json::object& podSpec, const std::string& nodeName);

}  // namespace berth::controllers::daemonset
