#include "scheduler/profile.h"

#include <algorithm>

namespace berth::scheduler {

namespace {

bool skipped(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// Upstream's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind.
constexpr size_t kMinFeasibleNodesToFind = 100;
constexpr int kMinFeasibleNodesPercentageToFind = 5;

// Filtering a large cluster is bound by memory, not by the plugins: each node's NodeInfo is a
// cache miss (5,000 of them do not stay cached between cycles; perf showed the first filter's
// load of the node stalling for most of the filter loop). Asking for the nodes a few places
// ahead overlaps those misses with the filtering of the current ones.
constexpr size_t kPrefetchAhead = 6;
void prefetchNode(const NodeInfo* n) {
  const char* p = reinterpret_cast<const char*>(n);
  for (size_t off = 0; off < sizeof(NodeInfo); off += 64) __builtin_prefetch(p + off);
}

}  // namespace

Profile::Profile(std::string schedulerName) : schedulerName_(std::move(schedulerName)) {}

void Profile::addPlugin(std::shared_ptr<Plugin> plugin, int weight) {
  Plugin* p = plugin.get();
  all_.push_back(std::move(plugin));
  if (auto* x = dynamic_cast<PreFilterPlugin*>(p)) preFilter_.push_back(x);
  if (auto* x = dynamic_cast<FilterPlugin*>(p)) filter_.push_back(x);
  if (auto* x = dynamic_cast<PostFilterPlugin*>(p)) postFilter_.push_back(x);
  if (auto* x = dynamic_cast<PreScorePlugin*>(p)) preScore_.push_back(x);
  if (auto* x = dynamic_cast<ScorePlugin*>(p)) score_.emplace_back(x, weight);
  if (auto* x = dynamic_cast<ReservePlugin*>(p)) reserve_.push_back(x);
}

size_t Profile::numFeasibleNodesToFind(size_t numAllNodes) const {
  if (numAllNodes < kMinFeasibleNodesToFind) return numAllNodes;
  int percentage = percentageOfNodesToScore_;
  if (percentage <= 0) {
    percentage = 50 - static_cast<int>(numAllNodes / 125);
    percentage = std::max(percentage, kMinFeasibleNodesPercentageToFind);
  }
  if (percentage >= 100) return numAllNodes;
  size_t n = numAllNodes * static_cast<size_t>(percentage) / 100;
  return std::max(n, kMinFeasibleNodesToFind);
}

PluginStatus Profile::runPreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap) {
  for (auto* p : preFilter_) {
    PluginStatus st = p->preFilter(state, pod, snap);
    if (st.code == Code::kSkip) {
      state.skipFilter.emplace_back(p->name());
      continue;
    }
    if (!st.ok()) {
      st.plugin = std::string(p->name());
      return st;
    }
  }
  return {};
}

std::vector<FilterPlugin*> Profile::activeFilters(const CycleState& state) const {
  if (state.skipFilter.empty()) return filter_;
  std::vector<FilterPlugin*> out;
  for (auto* p : filter_)
    if (!skipped(state.skipFilter, p->name())) out.push_back(p);
  return out;
}

PluginStatus Profile::runFilterList(const std::vector<FilterPlugin*>& filters,
                                    const CycleState& state, const PodInfo& pod,
                                    const NodeInfo& node) const {
  for (auto* p : filters) {
    PluginStatus st = p->filter(state, pod, node);
    if (!st.ok()) {
      st.plugin = std::string(p->name());
      return st;
    }
  }
  return {};
}

PluginStatus Profile::runFilters(const CycleState& state, const PodInfo& pod,
                                 const NodeInfo& node) const {
  return runFilterList(activeFilters(state), state, pod, node);
}

void Profile::runRemovePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                           const NodeInfo& node, const Snapshot& snap) const {
  for (auto* p : preFilter_) p->removePod(state, pod, removed, node, snap);
}

void Profile::runAddPod(CycleState& state, const PodInfo& pod, const PodInfo& added,
                        const NodeInfo& node, const Snapshot& snap) const {
  for (auto* p : preFilter_) p->addPod(state, pod, added, node, snap);
}

void Profile::evictVictim(const PodInfo& victim, const PodInfo& preemptor,
                          const std::string& node) {
  if (hooks_.evictVictim) hooks_.evictVictim(victim, preemptor, node);
}

std::vector<PodInfoPtr> Profile::nominatedPods(const std::string& node) const {
  return hooks_.nominatedPods ? hooks_.nominatedPods(node) : std::vector<PodInfoPtr>{};
}

std::vector<DisruptionBudget> Profile::disruptionBudgets() const {
  return hooks_.disruptionBudgets ? hooks_.disruptionBudgets() : std::vector<DisruptionBudget>{};
}

PluginStatus Profile::filterWithNominated(const std::vector<FilterPlugin*>& filters,
                                          const CycleState& state, const PodInfo& pod,
                                          const NodeInfo& node, const Snapshot& snap,
                                          bool checkNominated) const {
  std::vector<PodInfoPtr> nominated;
  if (checkNominated && hooks_.nominatedPods) {
    for (auto& n : hooks_.nominatedPods(node.name))
      if (n->uid != pod.uid && n->priority >= pod.priority) nominated.push_back(std::move(n));
  }
  if (!nominated.empty()) {
    // First with the nominated pods in place: the pod must not take their room...
    NodeInfo with = node;
    CycleState s = state.clone();
    for (const auto& n : nominated) {
      with.addPod(n);
      runAddPod(s, pod, *n, with, snap);
    }
    if (auto st = runFilterList(filters, s, pod, with); !st.ok()) return st;
  }
  // ...and without them, since they might not end up there.
  return runFilterList(filters, state, pod, node);
}

std::vector<int64_t> Profile::prioritize(CycleState& state, const PodInfo& pod,
                                         const Snapshot& snap,
                                         const std::vector<const NodeInfo*>& nodes) {
  for (auto* p : preScore_) {
    PluginStatus st = p->preScore(state, pod, snap, nodes);
    if (st.code == Code::kSkip) state.skipScore.emplace_back(p->name());
  }
  std::vector<int64_t> total(nodes.size(), 0);
  std::vector<int64_t> scores(nodes.size());
  for (auto& [p, weight] : score_) {
    if (!state.skipScore.empty() && skipped(state.skipScore, p->name())) continue;
    for (size_t i = 0; i < nodes.size(); ++i) scores[i] = p->score(state, pod, *nodes[i]);
    p->normalize(state, pod, scores);
    for (size_t i = 0; i < nodes.size(); ++i) total[i] += scores[i] * weight;
  }
  return total;
}

ScheduleOutcome Profile::schedule(CycleState& state, const PodInfo& pod, const Snapshot& snap) {
  ScheduleOutcome out;
  out.numNodes = snap.nodes.size();
  if (snap.nodes.empty()) {
    out.status = PluginStatus::unschedulable("no nodes available to schedule pods");
    return out;
  }
  if (PluginStatus st = runPreFilter(state, pod, snap); !st.ok()) {
    out.status = st;
    if (st.rejected()) {
      std::string msg;
      for (const auto& r : st.reasons) msg += (msg.empty() ? "" : ", ") + r;
      out.preFilterMsg = msg;
      for (const auto& n : snap.nodes) out.statuses[n->name] = st;
    }
    return out;
  }
  // The filters PreFilter did not skip, resolved once per cycle rather than per node.
  const std::vector<FilterPlugin*> filters = activeFilters(state);
  const bool checkNominated = !hooks_.anyNominated || hooks_.anyNominated();
  std::vector<const NodeInfo*> feasible;
  // A pod nominated by an earlier preemption tries its nominated node first (upstream).
  if (!pod.nominatedNodeName.empty()) {
    if (const NodeInfo* n = snap.get(pod.nominatedNodeName);
        n && filterWithNominated(filters, state, pod, *n, snap).ok()) {
      feasible.push_back(n);
    }
  }
  if (feasible.empty()) {
    size_t want = numFeasibleNodesToFind(snap.nodes.size());
    size_t total = snap.nodes.size();
    size_t start = nextStartNodeIndex_ % total;
    size_t i = 0;
    for (size_t k = 0; k < kPrefetchAhead && k < total; ++k)
      prefetchNode(snap.nodes[(start + k) % total].get());
    for (; i < total && feasible.size() < want; ++i) {
      if (i + kPrefetchAhead < total)
        prefetchNode(snap.nodes[(start + i + kPrefetchAhead) % total].get());
      const NodeInfo& node = *snap.nodes[(start + i) % total];
      PluginStatus st = filterWithNominated(filters, state, pod, node, snap, checkNominated);
      if (st.ok()) {
        feasible.push_back(&node);
      } else if (st.code == Code::kError) {
        out.status = st;
        return out;
      } else {
        out.statuses[node.name] = std::move(st);
      }
    }
    out.evaluated = i;
    nextStartNodeIndex_ = (start + i) % total;
  }
  out.feasible = feasible.size();
  if (feasible.empty()) {
    out.status = {Code::kUnschedulable, {}, {}};
    return out;
  }
  if (feasible.size() == 1) {
    out.node = feasible[0]->name;
    return out;
  }
  auto scores = prioritize(state, pod, snap, feasible);
  // Highest score; ties broken uniformly at random (reservoir sampling, as upstream).
  int64_t best = -1;
  size_t ties = 0;
  for (size_t i = 0; i < feasible.size(); ++i) {
    if (scores[i] > best) {
      best = scores[i];
      out.node = feasible[i]->name;
      ties = 1;
    } else if (scores[i] == best && std::uniform_int_distribution<size_t>(0, ties++)(rng_) == 0) {
      out.node = feasible[i]->name;
    }
  }
  return out;
}

PostFilterResult Profile::runPostFilter(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                        const NodeToStatus& statuses) {
  PostFilterResult last{PluginStatus::unschedulable(""), {}};
  for (auto* p : postFilter_) {
    PostFilterResult r = p->postFilter(state, pod, snap, statuses);
    if (r.status.ok() || r.status.code == Code::kError) return r;
    last = std::move(r);
  }
  return last;
}

PluginStatus Profile::runReserve(CycleState& state, const PodInfo& pod, const std::string& node) {
  for (auto* p : reserve_) {
    PluginStatus st = p->reserve(state, pod, node);
    if (!st.ok()) {
      st.plugin = std::string(p->name());
      return st;
    }
  }
  return {};
}

void Profile::runUnreserve(CycleState& state, const PodInfo& pod, const std::string& node) {
  for (auto it = reserve_.rbegin(); it != reserve_.rend(); ++it) (*it)->unreserve(state, pod, node);
}

}  // namespace berth::scheduler
