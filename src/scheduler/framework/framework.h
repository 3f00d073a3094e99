#pragma once
// The scheduling framework: extension points and the plugins behind them, as upstream's
// pkg/scheduler/framework. One cycle for one pod runs
//   PreFilter (once) -> Filter (per node) -> [PostFilter when no node fits]
//   -> PreScore (once) -> Score (per feasible node) -> NormalizeScore -> Reserve -> Bind
// against one immutable Snapshot. Plugins live in src/scheduler/plugins/<name>/ and are created
// by the registry (scheduler/registry.cpp).
//
// Thread-safety: a plugin's const methods (filter, score, normalize) may run on several threads
// at once for different nodes; preFilter/preScore/postFilter/reserve run on the scheduling
// thread only. Per-cycle data lives in the CycleState, never in the plugin.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/disruption_budget.h"
#include "scheduler/framework/snapshot.h"
#include "scheduler/framework/types.h"

namespace berth::scheduler {

// Upstream's framework.MaxNodeScore: normalized scores are in [0, 100].
inline constexpr int64_t kMaxNodeScore = 100;

enum class Code {
  kSuccess,
  kUnschedulable,                 // this node does not fit; preemption might help
  kUnschedulableAndUnresolvable,  // does not fit and evicting pods would not help
  kError,
  kSkip,  // PreFilter/PreScore: the plugin has nothing to do for this pod
};

// A plugin's verdict. Reasons are the short texts upstream aggregates into
// "0/3 nodes are available: 3 Insufficient cpu."
struct PluginStatus {
  Code code = Code::kSuccess;
  std::vector<std::string> reasons;
  std::string plugin;  // filled by the framework

  bool ok() const { return code == Code::kSuccess; }
  bool rejected() const {
    return code == Code::kUnschedulable || code == Code::kUnschedulableAndUnresolvable;
  }
  static PluginStatus success() { return {}; }
  static PluginStatus skip() { return {Code::kSkip, {}, {}}; }
  static PluginStatus unschedulable(std::string reason) {
    return {Code::kUnschedulable, {std::move(reason)}, {}};
  }
  static PluginStatus unresolvable(std::string reason) {
    return {Code::kUnschedulableAndUnresolvable, {std::move(reason)}, {}};
  }
  static PluginStatus error(std::string reason) { return {Code::kError, {std::move(reason)}, {}}; }
};

// Per-cycle plugin data. Cloned when preemption tries "what if these pods were gone".
struct StateData {
  virtual ~StateData() = default;
  virtual std::unique_ptr<StateData> clone() const = 0;
};

class CycleState {
 public:
  CycleState() = default;
  CycleState clone() const;
  CycleState(CycleState&&) = default;
  CycleState& operator=(CycleState&&) = default;

  void write(std::string key, std::unique_ptr<StateData> data) {
    data_[std::move(key)] = std::move(data);
  }
  template <class T>
  T* read(std::string_view key) const {
    auto it = data_.find(key);  // no temporary string: Filter reads this per node
    return it == data_.end() ? nullptr : dynamic_cast<T*>(it->second.get());
  }
  // Plugins that returned kSkip from PreFilter: their Filter is not called this cycle.
  std::vector<std::string> skipFilter;
  std::vector<std::string> skipScore;

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<StateData>, KeyHash, std::equal_to<>> data_;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;
};

class PreFilterPlugin : public virtual Plugin {
 public:
  virtual PluginStatus preFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap) = 0;
  // PreFilterExtensions: keep the cycle state right when preemption removes (or re-adds) a pod
  // on `node`. Plugins whose state does not depend on other pods leave them empty.
  virtual void addPod(CycleState&, const PodInfo& /*pod*/, const PodInfo& /*added*/,
                      const NodeInfo& /*node*/, const Snapshot&) const {}
  virtual void removePod(CycleState&, const PodInfo& /*pod*/, const PodInfo& /*removed*/,
                         const NodeInfo& /*node*/, const Snapshot&) const {}
};

class FilterPlugin : public virtual Plugin {
 public:
  virtual PluginStatus filter(const CycleState& state, const PodInfo& pod,
                              const NodeInfo& node) const = 0;
};

// Why each node was rejected, by node name (what PostFilter and the failure message read).
using NodeToStatus = std::map<std::string, PluginStatus>;

struct PostFilterResult {
  PluginStatus status;            // ok() when a nominated node was found
  std::string nominatedNodeName;  // where the pod should go once victims are gone
  int victims = 0;                // pods evicted for it
};

class PostFilterPlugin : public virtual Plugin {
 public:
  virtual PostFilterResult postFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                      const NodeToStatus& filtered) = 0;
};

class PreScorePlugin : public virtual Plugin {
 public:
  virtual PluginStatus preScore(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                const std::vector<const NodeInfo*>& nodes) = 0;
};

class ScorePlugin : public virtual Plugin {
 public:
  virtual int64_t score(const CycleState& state, const PodInfo& pod,
                        const NodeInfo& node) const = 0;
  // NormalizeScore: map raw scores (one per node, in `nodes` order) into [0, kMaxNodeScore].
  virtual void normalize(const CycleState&, const PodInfo&,
                         std::vector<int64_t>& /*scores*/) const {}
};

class ReservePlugin : public virtual Plugin {
 public:
  virtual PluginStatus reserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
  virtual void unreserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

// What plugins that act on the cluster (preemption) get from the scheduler.
class Handle {
 public:
  virtual ~Handle() = default;
  // Runs every Filter plugin for `pod` on `node` (after PreFilter ran into `state`).
  virtual PluginStatus runFilters(const CycleState& state, const PodInfo& pod,
                                  const NodeInfo& node) const = 0;
  // Runs the PreFilter extensions (addPod/removePod) of every PreFilter plugin.
  virtual void runRemovePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                            const NodeInfo& node, const Snapshot& snap) const = 0;
  virtual void runAddPod(CycleState& state, const PodInfo& pod, const PodInfo& added,
                         const NodeInfo& node, const Snapshot& snap) const = 0;
  // Deletes a preemption victim through the API (asynchronously is fine); records the events.
  virtual void evictVictim(const PodInfo& victim, const PodInfo& preemptor,
                           const std::string& node) = 0;
  // Pods already nominated to run on `node` (they count as present there when filtering).
  virtual std::vector<PodInfoPtr> nominatedPods(const std::string& node) const = 0;
  // Every PodDisruptionBudget in the cluster (preemption prefers victims they do not protect).
  virtual std::vector<DisruptionBudget> disruptionBudgets() const { return {}; }
};

// Upstream's helper.DefaultNormalizeScore: scale so the best is kMaxNodeScore; `reverse` makes
// the lowest raw score the best. All zero: everything 0 (or kMaxNodeScore when reversed).
void defaultNormalizeScore(std::vector<int64_t>& scores, bool reverse);

// Upstream's message for a failed cycle: "0/3 nodes are available: 1 node(s) had untolerated
// taint {x: y}, 2 Insufficient cpu." Reasons are counted over nodes and sorted by text.
// `preFilterMsg` replaces the per-node histogram when PreFilter rejected the pod outright;
// `postFilterMsg` (preemption's own summary) is appended.
std::string fitErrorMessage(size_t numNodes, const NodeToStatus& statuses,
                            const std::string& preFilterMsg = "",
                            const std::string& postFilterMsg = "");
// "3 Insufficient cpu, 1 node(s) didn't match ..." without the "0/N nodes" prefix.
std::string reasonHistogram(const NodeToStatus& statuses);

}  // namespace berth::scheduler
