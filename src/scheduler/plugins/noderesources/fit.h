#pragma once
// NodeResourcesFit (upstream plugin of that name): the pod's requests (containers, init
// containers, overhead; types.h) must fit in the node's allocatable minus what its pods already
// request, and the node must have a free pod slot. Scores with the LeastAllocated strategy
// (upstream's default): the more CPU and memory left free after placing the pod, the better.
//
// NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory fractions stay close to
// each other after placing the pod (score = (1 - std deviation of the fractions) * 100).
//
// Both are stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

// Why the pod does not fit (each an upstream reason text: "Insufficient cpu", "Too many
// pods"); empty when it fits.
std::vector<std::string> insufficientResources(const PodInfo& pod, const NodeInfo& node);

class NodeResourcesFit : public FilterPlugin, public ScorePlugin {
 public:
  static constexpr std::string_view kName = "NodeResourcesFit";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override;
  int64_t score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override;
};

class NodeResourcesBalancedAllocation : public ScorePlugin {
 public:
  static constexpr std::string_view kName = "NodeResourcesBalancedAllocation";
  std::string_view name() const override { return kName; }
  int64_t score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override;
};

}  // namespace berth::scheduler::plugins
