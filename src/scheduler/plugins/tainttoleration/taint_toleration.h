#pragma once
// TaintToleration (upstream plugin of that name): Filter rejects nodes with a NoSchedule or
// NoExecute taint the pod does not tolerate; Score prefers nodes with fewer untolerated
// PreferNoSchedule taints (reverse-normalized: none = 100). Stateless; safe from any thread.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

class TaintToleration : public FilterPlugin, public ScorePlugin {
 public:
  static constexpr std::string_view kName = "TaintToleration";
  std::string_view name() const override { return kName; }
  PluginStatus filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    for (const auto& t : node.taints) {
      if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
      if (!tolerated(pod.tolerations, t)) {
        return PluginStatus::unresolvable("node(s) had untolerated taint {" + t.key + ": " +
                                          t.value + "}");
      }
    }
    return PluginStatus::success();
  }
  int64_t score(const CycleState&, const PodInfo& pod, const NodeInfo& node) const override {
    int64_t count = 0;
    for (const auto& t : node.taints) {
      if (t.effect != "PreferNoSchedule") continue;
      // Only tolerations with no effect or PreferNoSchedule count here (upstream).
      bool ok = std::any_of(pod.tolerations.begin(), pod.tolerations.end(),
                            [&](const Toleration& tol) {
                              return (tol.effect.empty() || tol.effect == "PreferNoSchedule") &&
                                     tolerates(tol, t);
                            });
      if (!ok) ++count;
    }
    return count;
  }
  void normalize(const CycleState&, const PodInfo&, std::vector<int64_t>& scores) const override {
    defaultNormalizeScore(scores, true);
  }
};

}  // namespace berth::scheduler::plugins
