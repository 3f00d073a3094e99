#pragma once
// DefaultPreemption (upstream plugin of that name), the PostFilter: when no node fits, find a
// node where evicting pods of lower priority makes the pod fit, evict the fewest and least
// important such pods there and nominate that node for the pod (status.nominatedNodeName); the
// pod is retried once the victims are gone.
//
// Per candidate node (nodes rejected as Unschedulable; UnschedulableAndUnresolvable ones cannot
// be helped): remove every lower-priority pod, check the filters pass, then add victims back
// ("reprieve") and keep each one that still lets the pod fit: first the pods whose eviction
// would violate a PodDisruptionBudget, then the others, each group from the most important
// (highest priority, then earliest start). Among candidates, upstream's
// pickOneNodeForPreemption order: fewest PDB violations, lowest highest-victim priority, lowest
// sum of priorities, fewest victims, latest start of the highest-priority victims, then the
// first. Victims are deleted (not evicted through the eviction API), as upstream does.
//
// Thread-safety: runs on the scheduling thread only.
#include "scheduler/framework/framework.h"

namespace berth::scheduler::plugins {

struct PreemptionVictims {
  std::vector<PodInfoPtr> pods;  // most important first
  int numPdbViolations = 0;      // victims whose eviction a PodDisruptionBudget does not allow
};

struct PreemptionCandidate {
  std::string node;
  PreemptionVictims victims;
};

class DefaultPreemption : public PostFilterPlugin {
 public:
  static constexpr std::string_view kName = "DefaultPreemption";
  explicit DefaultPreemption(Handle& handle) : handle_(handle) {}
  std::string_view name() const override { return kName; }
  PostFilterResult postFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                              const NodeToStatus& filtered) override;

  // The victims that make `pod` fit on `node`, or nullopt when even removing every
  // lower-priority pod does not (the dry run; no side effects).
  std::optional<PreemptionVictims> selectVictims(
      const CycleState& state, const PodInfo& pod, const NodeInfo& node, const Snapshot& snap,
      const std::vector<DisruptionBudget>& budgets) const;
  // The candidate to preempt on (upstream's pickOneNodeForPreemption); null when none.
  static const PreemptionCandidate* pickOneNode(const std::vector<PreemptionCandidate>& candidates);

 private:
  Handle& handle_;
};

}  // namespace berth::scheduler::plugins
