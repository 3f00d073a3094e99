#pragma once
// Profile: one scheduling profile (upstream: a framework instance for one schedulerName) - the
// plugins at each extension point with their score weights - and the generic scheduling
// algorithm run through them (upstream's schedule_one.go: findNodesThatFitPod with node
// sampling, prioritizeNodes, selectHost).
//
// Thread-safety: owned by the scheduling thread; preemption's Handle calls come from it too.
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "scheduler/framework/framework.h"

namespace berth::scheduler {

// What the profile needs from the scheduler around it (cluster actions for preemption).
struct ProfileHooks {
  std::function<void(const PodInfo& victim, const PodInfo& preemptor, const std::string& node)>
      evictVictim;
  std::function<std::vector<PodInfoPtr>(const std::string& node)> nominatedPods;
  std::function<std::vector<DisruptionBudget>()> disruptionBudgets;
  // Whether any pod is nominated at all (null = assume so): when none is, a cycle skips the
  // per-node nominatedPods lookups (a lock and a map lookup for each node filtered).
  std::function<bool()> anyNominated;
};

struct ScheduleOutcome {
  PluginStatus status;  // ok: `node` chosen; rejected: see statuses; error otherwise
  std::string node;
  NodeToStatus statuses;     // per rejected node
  std::string preFilterMsg;  // PreFilter rejected the pod for every node
  size_t numNodes = 0;       // nodes in the snapshot
  size_t evaluated = 0;      // nodes filtered
  size_t feasible = 0;
};

class Profile : public Handle {
 public:
  explicit Profile(std::string schedulerName = "default-scheduler");
  const std::string& schedulerName() const { return schedulerName_; }

  // Registers a plugin at every extension point it implements; `weight` counts for Score.
  void addPlugin(std::shared_ptr<Plugin> plugin, int weight = 1);
  void setHooks(ProfileHooks hooks) { hooks_ = std::move(hooks); }
  // 0 = upstream's adaptive default (50% - nodes/125, at least 5%, at least 100 nodes).
  void setPercentageOfNodesToScore(int p) { percentageOfNodesToScore_ = p; }
  // Nodes to stop filtering at, from the cluster size (upstream's numFeasibleNodesToFind).
  size_t numFeasibleNodesToFind(size_t numAllNodes) const;

  // PreFilter, Filter (sampling), Score, select: one pod's cycle up to the chosen node.
  ScheduleOutcome schedule(CycleState& state, const PodInfo& pod, const Snapshot& snap);
  PostFilterResult runPostFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                 const NodeToStatus& statuses);
  PluginStatus runReserve(CycleState& state, const PodInfo& pod, const std::string& node);
  void runUnreserve(CycleState& state, const PodInfo& pod, const std::string& node);
  // Scores per feasible node (summed, weighted), for tests.
  std::vector<int64_t> prioritize(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                  const std::vector<const NodeInfo*>& nodes);

  // Handle
  PluginStatus runFilters(const CycleState& state, const PodInfo& pod,
                          const NodeInfo& node) const override;
  void runRemovePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                    const NodeInfo& node, const Snapshot& snap) const override;
  void runAddPod(CycleState& state, const PodInfo& pod, const PodInfo& added, const NodeInfo& node,
                 const Snapshot& snap) const override;
  void evictVictim(const PodInfo& victim, const PodInfo& preemptor,
                   const std::string& node) override;
  std::vector<PodInfoPtr> nominatedPods(const std::string& node) const override;
  std::vector<DisruptionBudget> disruptionBudgets() const override;

 private:
  PluginStatus runPreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap);
  // Filters with the pods nominated to this node (of at least the pod's priority) counted in,
  // as upstream's RunFilterPluginsWithNominatedPods.
  // `checkNominated` false: no pod is nominated anywhere this cycle.
  PluginStatus filterWithNominated(const std::vector<FilterPlugin*>& filters,
                                   const CycleState& state, const PodInfo& pod,
                                   const NodeInfo& node, const Snapshot& snap,
                                   bool checkNominated = true) const;
  // The Filter plugins PreFilter did not skip in this cycle.
  std::vector<FilterPlugin*> activeFilters(const CycleState& state) const;
  PluginStatus runFilterList(const std::vector<FilterPlugin*>& filters, const CycleState& state,
                             const PodInfo& pod, const NodeInfo& node) const;

  const std::string schedulerName_;
  std::vector<std::shared_ptr<Plugin>> all_;
  std::vector<PreFilterPlugin*> preFilter_;
  std::vector<FilterPlugin*> filter_;
  std::vector<PostFilterPlugin*> postFilter_;
  std::vector<PreScorePlugin*> preScore_;
  std::vector<std::pair<ScorePlugin*, int>> score_;
  std::vector<ReservePlugin*> reserve_;
  ProfileHooks hooks_;
  int percentageOfNodesToScore_ = 0;
  size_t nextStartNodeIndex_ = 0;  // rotates so sampling visits every node over time
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace berth::scheduler
