#pragma once
// NodeName: a pod that names its node (spec.nodeName) fits only there (upstream plugin
// "NodeName"). Stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class NodeName : public FilterPlugin {
 public:
  static constexpr std::string_view kName = "NodeName";
  static constexpr std::string_view kReason = "node(s) didn't match the requested node name";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    if (pod.nodeName.empty() || pod.nodeName == node.name) return PluginStatus::success();
    return PluginStatus::unresolvable(std::string(kReason));
  }
};

}  // namespace berth::scheduler::plugins
