#pragma once
// InterPodAffinity (upstream plugin of that name): required and preferred pod affinity and
// anti-affinity over topology domains (topologyKey: the node label whose value names the
// domain, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone).
//
// PreFilter counts, per (topologyKey, value) pair, the existing pods that match the incoming
// pod's required affinity / anti-affinity terms, and the existing pods whose own required
// anti-affinity terms match the incoming pod. Filter then only looks the node's labels up in
// those counts. PreScore sums the preferred terms' weights (both directions) per pair; Score
// reads the node's pairs; NormalizeScore maps [min, max] to [0, 100].
//
// Thread-safety: stateless; per-cycle data lives in the CycleState.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class InterPodAffinity : public PreFilterPlugin,
                         public FilterPlugin,
                         public PreScorePlugin,
                         public ScorePlugin {
 public:
  static constexpr std::string_view kName = "InterPodAffinity";
  static constexpr std::string_view kAffinityReason = "node(s) didn't match pod affinity rules";
  static constexpr std::string_view kAntiAffinityReason =
      "node(s) didn't match pod anti-affinity rules";
  static constexpr std::string_view kExistingAntiAffinityReason =
      "node(s) didn't satisfy existing pods anti-affinity rules";

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
};

}  // namespace berth::scheduler::plugins
