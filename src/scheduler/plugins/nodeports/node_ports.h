#pragma once
// NodePorts (upstream plugin of that name): a pod's hostPorts must be free on the node
// (same protocol and port, overlapping host IP = conflict). Stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class NodePorts : public FilterPlugin {
 public:
  static constexpr std::string_view kName = "NodePorts";
  static constexpr std::string_view kReason =
      "node(s) didn't have free ports for the requested pod ports";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    for (const auto& want : pod.hostPorts)
      for (const auto& used : node.usedPorts)
        if (want.conflicts(used)) return PluginStatus::unschedulable(std::string(kReason));
    return PluginStatus::success();
  }
};

}  // namespace berth::scheduler::plugins
