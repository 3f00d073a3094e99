#include "scheduler/plugins/defaultpreemption/default_preemption.h"

#include <algorithm>
#include <climits>

namespace berth::scheduler::plugins {

namespace {

constexpr std::string_view kNoVictims = "No preemption victims found for incoming pod";
constexpr std::string_view kNotHelpful = "Preemption is not helpful for scheduling";

// More important first: higher priority, then older (upstream's MoreImportantPod uses the
// start time; creationTimestamp stands in for it here).
bool moreImportant(const PodInfoPtr& a, const PodInfoPtr& b) {
  if (a->priority != b->priority) return a->priority > b->priority;
  return a->creationTimestamp < b->creationTimestamp;
}

PostFilterResult failure(std::string message) {
  return {PluginStatus::unschedulable(std::move(message)), {}};
}

}  // namespace

std::optional<std::vector<PodInfoPtr>> DefaultPreemption::selectVictims(
    const CycleState& state, const PodInfo& pod, const NodeInfo& node,
    const Snapshot& snap) const {
  NodeInfo trial = node;
  CycleState s = state.clone();
  std::vector<PodInfoPtr> potential;
  for (const auto& p : node.pods) {
    if (p->priority < pod.priority) potential.push_back(p);
  }
  if (potential.empty()) return std::nullopt;
  for (const auto& p : potential) {
    trial.removePod(p->uid);
    handle_.runRemovePod(s, pod, *p, trial, snap);
  }
  if (!handle_.runFilters(s, pod, trial).ok()) return std::nullopt;
  std::sort(potential.begin(), potential.end(), moreImportant);
  std::vector<PodInfoPtr> victims;
  for (const auto& p : potential) {
    trial.addPod(p);
    handle_.runAddPod(s, pod, *p, trial, snap);
    if (handle_.runFilters(s, pod, trial).ok()) continue;  // reprieved
    trial.removePod(p->uid);
    handle_.runRemovePod(s, pod, *p, trial, snap);
    victims.push_back(p);
  }
  return victims;
}

PostFilterResult DefaultPreemption::postFilter(CycleState& state, const PodInfo& pod,
                                               const Snapshot& snap,
                                               const NodeToStatus& filtered) {
  if (pod.preemptNever) return failure("preemption: not eligible due to preemptionPolicy=Never");
  // A pod whose earlier preemption is still in progress waits for it instead of evicting more
  // (upstream's PodEligibleToPreemptOthers).
  if (!pod.nominatedNodeName.empty()) {
    if (const NodeInfo* n = snap.get(pod.nominatedNodeName)) {
      for (const auto& p : n->pods) {
        if (p->terminating && p->priority < pod.priority)
          return failure("preemption: not eligible due to a terminating pod on the nominated node");
      }
    }
  }
  NodeToStatus outcome;
  std::vector<PreemptionCandidate> candidates;
  for (const auto& n : snap.nodes) {
    auto it = filtered.find(n->name);
    if (it != filtered.end() && it->second.code == Code::kUnschedulableAndUnresolvable) {
      outcome[n->name] = PluginStatus::unresolvable(std::string(kNotHelpful));
      continue;
    }
    auto victims = selectVictims(state, pod, *n, snap);
    if (!victims || victims->empty()) {
      outcome[n->name] = PluginStatus::unschedulable(std::string(kNoVictims));
      continue;
    }
    candidates.push_back({n->name, std::move(*victims)});
  }
  if (candidates.empty()) {
    return failure("preemption: 0/" + std::to_string(snap.nodes.size()) +
                   " nodes are available: " + reasonHistogram(outcome));
  }
  auto rank = [](const PreemptionCandidate& c) {
    int64_t highest = INT_MIN, sum = 0;
    for (const auto& v : c.victims) {
      highest = std::max<int64_t>(highest, v->priority);
      sum += v->priority;
    }
    return std::make_tuple(highest, sum, c.victims.size());
  };
  const PreemptionCandidate* best = &candidates.front();
  for (const auto& c : candidates)
    if (rank(c) < rank(*best)) best = &c;
  for (const auto& v : best->victims) handle_.evictVictim(*v, pod, best->node);
  PostFilterResult r;
  r.nominatedNodeName = best->node;
  r.victims = static_cast<int>(best->victims.size());
  return r;
}

}  // namespace berth::scheduler::plugins
