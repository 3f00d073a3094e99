#pragma once
// PodTopologySpread (upstream plugin of that name): spread matching pods evenly over topology
// domains. For a constraint (topologyKey, maxSkew, labelSelector) the skew of placing the pod in
// domain D is matching(D) + 1 - min over domains of matching; DoNotSchedule constraints reject
// nodes where it would exceed maxSkew (Filter), ScheduleAnyway ones prefer nodes with fewer
// matching pods (Score). Only nodes that carry every constraint's key (and, by default, match
// the pod's node affinity) count as domains.
//
// A pod without constraints of its own gets upstream's system defaults - hostname maxSkew 3 and
// zone maxSkew 5, both ScheduleAnyway - with the selector of the Services/ReplicaSets/
// StatefulSets that select it (Snapshot::defaultSpreadSelector); none = no spreading.
//
// Thread-safety: stateless; per-cycle data lives in the CycleState.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class PodTopologySpread : public PreFilterPlugin,
                          public FilterPlugin,
                          public PreScorePlugin,
                          public ScorePlugin {
 public:
  static constexpr std::string_view kName = "PodTopologySpread";
  static constexpr std::string_view kReason = "node(s) didn't match pod topology spread constraints";
  static constexpr std::string_view kMissingLabelReason =
      "node(s) didn't match pod topology spread constraints (missing required label)";

  std::string_view name() const override { return kName; }
  PluginStatus preFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap) override;
  void addPod(CycleState& state, const PodInfo& pod, const PodInfo& added, const NodeInfo& node,
              const Snapshot& snap) const override;
  void removePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                 const NodeInfo& node, const Snapshot& snap) const override;
  PluginStatus filter(const CycleState& state, const PodInfo& pod,
                      const NodeInfo& node) const override;
  PluginStatus preScore(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                        const std::vector<const NodeInfo*>& nodes) override;
  int64_t score(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  void normalize(const CycleState& state, const PodInfo& pod,
                 std::vector<int64_t>& scores) const override;

  // The constraints PodTopologySpread applies to `pod` (its own, or the system defaults).
  static std::vector<SpreadConstraint> constraintsFor(const PodInfo& pod, const Snapshot& snap,
                                                      bool hard);
};

}  // namespace berth::scheduler::plugins
