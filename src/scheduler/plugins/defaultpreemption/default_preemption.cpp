#include "scheduler/plugins/defaultpreemption/default_preemption.h"

#include <algorithm>
#include <climits>

#include "core/json_access.h"

namespace berth::scheduler::plugins {

namespace {

constexpr std::string_view kNoVictims = "No preemption victims found for incoming pod";
constexpr std::string_view kNotHelpful = "Preemption is not helpful for scheduling";

// Upstream's GetPodStartTime reads status.startTime (set by the kubelet); a pod without one has
// not started, which upstream counts as "now": it sorts after every real start time here.
std::string startTime(const PodInfo& pod) {
  if (pod.object && pod.object->is_object()) {
    if (const auto* status = core::objectField(pod.object->as_object(), "status")) {
      std::string t = core::stringField(*status, "startTime");
      if (!t.empty()) return t;
    }
  }
  return "~";  // after any RFC 3339 text
}

// More important first (upstream's MoreImportantPod): higher priority, then started earlier.
// Pods that never started fall back to their creation order.
bool moreImportant(const PodInfoPtr& a, const PodInfoPtr& b) {
  if (a->priority != b->priority) return a->priority > b->priority;
  std::string sa = startTime(*a), sb = startTime(*b);
  if (sa != sb) return sa < sb;
  return a->creationTimestamp < b->creationTimestamp;
}

PostFilterResult failure(std::string message) {
  return {PluginStatus::unschedulable(std::move(message)), {}};
}

}  // namespace

std::optional<PreemptionVictims> DefaultPreemption::selectVictims(
    const CycleState& state, const PodInfo& pod, const NodeInfo& node, const Snapshot& snap,
    const std::vector<DisruptionBudget>& budgets) const {
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
  // Reprieve (add back) as many pods as possible, the ones a PodDisruptionBudget protects first,
  // each group from the most important: a protected pod is evicted only when nothing else helps.
  PdbSplit split = splitByDisruptionBudgets(potential, budgets);
  PreemptionVictims victims;
  auto reprieve = [&](const PodInfoPtr& p) {
    trial.addPod(p);
    handle_.runAddPod(s, pod, *p, trial, snap);
    if (handle_.runFilters(s, pod, trial).ok()) return true;
    trial.removePod(p->uid);
    handle_.runRemovePod(s, pod, *p, trial, snap);
    victims.pods.push_back(p);
    return false;
  };
  for (const auto& p : split.violating)
    if (!reprieve(p)) ++victims.numPdbViolations;
  for (const auto& p : split.nonViolating) reprieve(p);
  // Both groups contributed: restore the most-important-first order the node choice reads.
  if (!split.violating.empty() && !split.nonViolating.empty())
    std::stable_sort(victims.pods.begin(), victims.pods.end(), moreImportant);
  return victims;
}

const PreemptionCandidate* DefaultPreemption::pickOneNode(
    const std::vector<PreemptionCandidate>& candidates) {
  // Upstream's pickOneNodeForPreemption keys, each compared only among the candidates tied on
  // the ones before: fewest PDB violations, lowest highest-victim priority, lowest sum of
  // priorities (shifted so negative priorities still count as "some"), fewest victims, and the
  // latest start among the highest-priority victims (disturb the most recently started work).
  struct Key {
    int violations;
    int64_t highest, sum;
    size_t count;
    std::string earliestStartOfHighest;
  };
  auto key = [](const PreemptionCandidate& c) {
    Key k{c.victims.numPdbViolations, INT_MIN, 0, c.victims.pods.size(), "~"};
    for (const auto& v : c.victims.pods) {
      k.highest = std::max<int64_t>(k.highest, v->priority);
      k.sum += int64_t{v->priority} + int64_t{INT_MAX} + 1;
    }
    for (const auto& v : c.victims.pods)
      if (v->priority == k.highest)
        k.earliestStartOfHighest = std::min(k.earliestStartOfHighest, startTime(*v));
    return k;
  };
  auto better = [](const Key& a, const Key& b) {
    if (a.violations != b.violations) return a.violations < b.violations;
    if (a.highest != b.highest) return a.highest < b.highest;
    if (a.sum != b.sum) return a.sum < b.sum;
    if (a.count != b.count) return a.count < b.count;
    return a.earliestStartOfHighest > b.earliestStartOfHighest;
  };
  const PreemptionCandidate* best = nullptr;
  Key bestKey{};
  for (const auto& c : candidates) {
    Key k = key(c);
    if (!best || better(k, bestKey)) {
      best = &c;
      bestKey = std::move(k);
    }
  }
  return best;
}

PostFilterResult DefaultPreemption::postFilter(CycleState& state, const PodInfo& pod,
                                               const Snapshot& snap, const NodeToStatus& filtered) {
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
  std::vector<DisruptionBudget> budgets = handle_.disruptionBudgets();
  NodeToStatus outcome;
  std::vector<PreemptionCandidate> candidates;
  for (const auto& n : snap.nodes) {
    auto it = filtered.find(n->name);
    if (it != filtered.end() && it->second.code == Code::kUnschedulableAndUnresolvable) {
      outcome[n->name] = PluginStatus::unresolvable(std::string(kNotHelpful));
      continue;
    }
    auto victims = selectVictims(state, pod, *n, snap, budgets);
    if (!victims || victims->pods.empty()) {
      outcome[n->name] = PluginStatus::unschedulable(std::string(kNoVictims));
      continue;
    }
    candidates.push_back({n->name, std::move(*victims)});
  }
  if (candidates.empty()) {
    return failure("preemption: 0/" + std::to_string(snap.nodes.size()) +
                   " nodes are available: " + reasonHistogram(outcome));
  }
  const PreemptionCandidate* best = pickOneNode(candidates);
  for (const auto& v : best->victims.pods) handle_.evictVictim(*v, pod, best->node);
  PostFilterResult r;
  r.nominatedNodeName = best->node;
  r.victims = static_cast<int>(best->victims.pods.size());
  return r;
}

}  // namespace berth::scheduler::plugins
