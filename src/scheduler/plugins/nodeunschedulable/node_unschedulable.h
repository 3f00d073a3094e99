#pragma once
// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint (upstream plugin "NodeUnschedulable").
// Stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class NodeUnschedulable : public FilterPlugin {
 public:
  static constexpr std::string_view kName = "NodeUnschedulable";
  static constexpr std::string_view kReason = "node(s) were unschedulable";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    if (!node.unschedulable) return PluginStatus::success();
    static const Taint kTaint{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
    if (tolerated(pod.tolerations, kTaint)) return PluginStatus::success();
    return PluginStatus::unresolvable(std::string(kReason));
  }
};

}  // namespace berth::scheduler::plugins
