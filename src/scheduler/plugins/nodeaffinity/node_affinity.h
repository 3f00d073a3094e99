#pragma once
// NodeAffinity (upstream plugin of that name): Filter on spec.nodeSelector and the required
// node affinity; Score by the summed weights of the preferred terms a node matches, normalized
// so the best node gets 100. Stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class NodeAffinity : public FilterPlugin, public ScorePlugin {
 public:
  static constexpr std::string_view kName = "NodeAffinity";
  static constexpr std::string_view kReason = "node(s) didn't match Pod's node affinity/selector";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    if (podMatchesNodeSelectorAndAffinity(pod, node)) return PluginStatus::success();
    return PluginStatus::unresolvable(std::string(kReason));
  }
  int64_t score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    int64_t sum = 0;
    for (const auto& p : pod.preferredNodeAffinity)
      if (p.weight != 0 && nodeSelectorTermMatches(p.term, node.labels, node.name)) sum += p.weight;
    return sum;
  }
  void normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    defaultNormalizeScore(scores, false);
  }
};

}  // namespace berth::scheduler::plugins
