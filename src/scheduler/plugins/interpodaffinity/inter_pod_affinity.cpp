#include "scheduler/plugins/interpodaffinity/inter_pod_affinity.h"

#include <algorithm>
#include <unordered_map>

namespace berth::scheduler::plugins {

namespace {

// (topologyKey, value) as one string; '\0' cannot occur in label keys.
std::string pairKey(const std::string& key, const std::string& value) {
  std::string out;
  out.reserve(key.size() + value.size() + 1);
  out.append(key).push_back('\0');
  out.append(value);
  return out;
}

// The same in a per-thread buffer, for lookups: Filter and Score look pairs up per node, and a
// pair rarely fits the short-string buffer, so building keys there was a malloc per lookup.
std::string_view pairView(const std::string& key, const std::string& value) {
  thread_local std::string buf;
  buf.assign(key).push_back('\0');
  buf.append(value);
  return buf;
}

struct PairHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PairCounts = std::unordered_map<std::string, int64_t, PairHash, std::equal_to<>>;

struct FilterState : StateData {
  PairCounts existingAntiAffinity;  // existing pods whose anti-affinity matches the pod
  PairCounts affinity;              // existing pods matching the pod's affinity terms
  PairCounts antiAffinity;          // existing pods matching the pod's anti-affinity terms
  std::unique_ptr<StateData> clone() const override { return std::make_unique<FilterState>(*this); }
};

struct ScoreState : StateData {
  PairCounts scores;
  std::vector<std::string> topologyKeys;  // the keys that appear in `scores`
  std::unique_ptr<StateData> clone() const override { return std::make_unique<ScoreState>(*this); }
};

constexpr std::string_view kFilterKey = "PreFilterInterPodAffinity";
constexpr std::string_view kScoreKey = "PreScoreInterPodAffinity";

const std::string* label(const NodeInfo& node, const std::string& key) {
  auto it = node.labels.find(key);
  return it == node.labels.end() ? nullptr : &it->second;
}

// Selector results within one PreFilter: pods of one workload carry equal terms and equal
// labels, so each distinct (term, labels) pair is evaluated once and then looked up. Keys are
// 64-bit fingerprints (types.h).
struct MatchMemo {
  std::unordered_map<uint64_t, bool> existingTerms;  // existing pod's term fingerprint
  std::vector<std::unordered_map<uint64_t, bool>> ownAffinity, ownAnti;  // by labels fingerprint
};

bool memoized(std::unordered_map<uint64_t, bool>* memo, uint64_t key, auto compute) {
  if (!memo) return compute();
  auto [it, fresh] = memo->try_emplace(key, false);
  if (fresh) it->second = compute();
  return it->second;
}

// Adds `delta` for one existing pod on `node` (the counts PreFilter keeps).
void account(FilterState& s, const PodInfo& pod, const PodInfo& existing, const NodeInfo& node,
             const Snapshot& snap, int64_t delta, MatchMemo* memo = nullptr) {
  const NamespaceLabels* ns = &snap.namespaceLabels;
  for (const auto& t : existing.requiredAntiAffinity) {
    if (!memoized(memo ? &memo->existingTerms : nullptr, t.fingerprint,
                  [&] { return t.matches(pod, ns); }))
      continue;
    if (const auto* v = label(node, t.topologyKey))
      s.existingAntiAffinity[pairKey(t.topologyKey, *v)] += delta;
  }
  for (size_t i = 0; i < pod.requiredAffinity.size(); ++i) {
    const auto& t = pod.requiredAffinity[i];
    if (!memoized(memo ? &memo->ownAffinity[i] : nullptr, existing.labelsFingerprint,
                  [&] { return t.matches(existing, ns); }))
      continue;
    if (const auto* v = label(node, t.topologyKey)) s.affinity[pairKey(t.topologyKey, *v)] += delta;
  }
  for (size_t i = 0; i < pod.requiredAntiAffinity.size(); ++i) {
    const auto& t = pod.requiredAntiAffinity[i];
    if (!memoized(memo ? &memo->ownAnti[i] : nullptr, existing.labelsFingerprint,
                  [&] { return t.matches(existing, ns); }))
      continue;
    if (const auto* v = label(node, t.topologyKey))
      s.antiAffinity[pairKey(t.topologyKey, *v)] += delta;
  }
}

// PreScore without an index: every pod of `nodes`, both directions.
template <typename Add>
void walkForScores(const PodInfo& pod, const std::vector<NodeInfoPtr>& nodes,
                   const NamespaceLabels* ns, Add&& add) {
  for (const auto& n : nodes) {
    for (const auto& existing : n->pods) {
      for (const auto& wt : pod.preferredAffinity)
        if (wt.term.matches(*existing, ns)) add(*n, wt.term, wt.weight);
      for (const auto& wt : pod.preferredAntiAffinity)
        if (wt.term.matches(*existing, ns)) add(*n, wt.term, -wt.weight);
      // The existing pods' terms about the incoming pod count too (symmetry); a required
      // affinity term weighs hardPodAffinityWeight (1, upstream's default).
      for (const auto& t : existing->requiredAffinity)
        if (t.matches(pod, ns)) add(*n, t, 1);
      for (const auto& wt : existing->preferredAffinity)
        if (wt.term.matches(pod, ns)) add(*n, wt.term, wt.weight);
      for (const auto& wt : existing->preferredAntiAffinity)
        if (wt.term.matches(pod, ns)) add(*n, wt.term, -wt.weight);
    }
  }
}

}  // namespace

PluginStatus InterPodAffinity::preFilter(CycleState& state, const PodInfo& pod,
                                         const Snapshot& snap) {
  auto s = std::make_unique<FilterState>();
  bool ownTerms = !pod.requiredAffinity.empty() || !pod.requiredAntiAffinity.empty();
  const AffinityIndex& index = snap.affinity;
  if (index.built()) {
    // Without terms of its own only pods with required anti-affinity can reject it.
    if (!ownTerms && !index.hasTerms(AffinityIndex::kRequiredAntiAffinity))
      return PluginStatus::skip();
    const NamespaceLabels* ns = &snap.namespaceLabels;
    auto count = [&](PairCounts& counts, const std::string& key,
                     const AffinityIndex::NodeTallies& tallies) {
      for (const auto& [pos, t] : tallies)
        if (const auto* v = label(*snap.nodes[pos], key)) counts[pairKey(key, *v)] += t.pods;
    };
    index.forEachMatchingTerm(AffinityIndex::kRequiredAntiAffinity, pod, ns,
                              [&](const AffinityTerm& t, const auto& tallies) {
                                count(s->existingAntiAffinity, t.topologyKey, tallies);
                              });
    for (const auto& t : pod.requiredAffinity)
      index.forEachMatchingLabelSet(
          t, ns, [&](const auto& tallies) { count(s->affinity, t.topologyKey, tallies); });
    for (const auto& t : pod.requiredAntiAffinity)
      index.forEachMatchingLabelSet(
          t, ns, [&](const auto& tallies) { count(s->antiAffinity, t.topologyKey, tallies); });
  } else {
    // No index (snapshots built by hand): walk the pods, as upstream.
    const auto& nodes = ownTerms ? snap.nodes : snap.nodesWithRequiredAntiAffinityPods;
    if (!ownTerms && nodes.empty()) return PluginStatus::skip();
    MatchMemo memo;
    memo.ownAffinity.resize(pod.requiredAffinity.size());
    memo.ownAnti.resize(pod.requiredAntiAffinity.size());
    for (const auto& n : nodes) {
      for (const auto& existing : n->pods) {
        if (!ownTerms && existing->requiredAntiAffinity.empty()) continue;
        account(*s, pod, *existing, *n, snap, 1, &memo);
      }
    }
  }
  std::erase_if(s->existingAntiAffinity, [](const auto& kv) { return kv.second <= 0; });
  state.write(std::string(kFilterKey), std::move(s));
  return PluginStatus::success();
}

void InterPodAffinity::addPod(CycleState& state, const PodInfo& pod, const PodInfo& added,
                              const NodeInfo& node, const Snapshot& snap) const {
  if (auto* s = state.read<FilterState>(kFilterKey)) account(*s, pod, added, node, snap, 1);
}

void InterPodAffinity::removePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                                 const NodeInfo& node, const Snapshot& snap) const {
  if (auto* s = state.read<FilterState>(kFilterKey)) account(*s, pod, removed, node, snap, -1);
}

PluginStatus InterPodAffinity::filter(const CycleState& state, const PodInfo& pod,
                                      const NodeInfo& node) const {
  const auto* s = state.read<FilterState>(kFilterKey);
  if (!s) return PluginStatus::success();
  auto count = [](const PairCounts& c, const std::string& key, const std::string& value) {
    auto it = c.find(pairView(key, value));
    return it == c.end() ? 0 : it->second;
  };
  // Required affinity: every term needs a matching pod in the node's domain, except for the
  // first pod of a group (no pod anywhere matches, and the pod matches its own terms).
  if (!pod.requiredAffinity.empty()) {
    bool all = true;
    for (const auto& t : pod.requiredAffinity) {
      const auto* v = label(node, t.topologyKey);
      if (!v || count(s->affinity, t.topologyKey, *v) <= 0) {
        all = false;
        break;
      }
    }
    if (!all) {
      bool anyMatch = std::any_of(s->affinity.begin(), s->affinity.end(),
                                  [](const auto& kv) { return kv.second > 0; });
      bool selfMatch = std::all_of(pod.requiredAffinity.begin(), pod.requiredAffinity.end(),
                                   [&](const AffinityTerm& t) {
                                     return t.matches(pod, nullptr) && label(node, t.topologyKey);
                                   });
      if (anyMatch || !selfMatch) return PluginStatus::unresolvable(std::string(kAffinityReason));
    }
  }
  for (const auto& t : pod.requiredAntiAffinity) {
    const auto* v = label(node, t.topologyKey);
    if (v && count(s->antiAffinity, t.topologyKey, *v) > 0)
      return PluginStatus::unschedulable(std::string(kAntiAffinityReason));
  }
  if (!s->existingAntiAffinity.empty()) {
    for (const auto& [k, v] : node.labels) {
      if (s->existingAntiAffinity.contains(pairView(k, v)))
        return PluginStatus::unschedulable(std::string(kExistingAntiAffinityReason));
    }
  }
  return PluginStatus::success();
}

PluginStatus InterPodAffinity::preScore(CycleState& state, const PodInfo& pod, const Snapshot& snap,
                                        const std::vector<const NodeInfo*>&) {
  bool ownPreferred = !pod.preferredAffinity.empty() || !pod.preferredAntiAffinity.empty();
  const auto& nodes = ownPreferred ? snap.nodes : snap.nodesWithAffinityPods;
  if (nodes.empty()) return PluginStatus::skip();
  auto s = std::make_unique<ScoreState>();
  const NamespaceLabels* ns = &snap.namespaceLabels;
  auto add = [&](const NodeInfo& n, const AffinityTerm& t, int64_t w) {
    if (const auto* v = label(n, t.topologyKey)) {
      auto [it, fresh] = s->scores.try_emplace(pairKey(t.topologyKey, *v), 0);
      it->second += w;
      if (fresh && std::find(s->topologyKeys.begin(), s->topologyKeys.end(), t.topologyKey) ==
                       s->topologyKeys.end())
        s->topologyKeys.push_back(t.topologyKey);
    }
  };
  if (snap.affinity.built()) {
    const AffinityIndex& index = snap.affinity;
    // The pod's preferred terms against the existing pods' label sets...
    auto own = [&](const WeightedAffinityTerm& wt, int64_t sign) {
      index.forEachMatchingLabelSet(wt.term, ns, [&](const auto& tallies) {
        for (const auto& [pos, t] : tallies)
          add(*snap.nodes[pos], wt.term, sign * wt.weight * t.pods);
      });
    };
    for (const auto& wt : pod.preferredAffinity) own(wt, 1);
    for (const auto& wt : pod.preferredAntiAffinity) own(wt, -1);
    // ...and the existing pods' terms about the incoming pod (weights signed and summed).
    for (auto kind : {AffinityIndex::kRequiredAffinity, AffinityIndex::kPreferredAffinity,
                      AffinityIndex::kPreferredAntiAffinity}) {
      index.forEachMatchingTerm(kind, pod, ns, [&](const AffinityTerm& term, const auto& tallies) {
        for (const auto& [pos, t] : tallies) add(*snap.nodes[pos], term, t.weight);
      });
    }
  } else {
    walkForScores(pod, nodes, ns, add);
  }
  if (s->scores.empty()) return PluginStatus::skip();
  state.write(std::string(kScoreKey), std::move(s));
  return PluginStatus::success();
}

int64_t InterPodAffinity::score(const CycleState& state, const PodInfo&,
                                const NodeInfo& node) const {
  const auto* s = state.read<ScoreState>(kScoreKey);
  if (!s) return 0;
  int64_t sum = 0;
  for (const auto& key : s->topologyKeys) {
    const auto* v = label(node, key);
    if (!v) continue;
    if (auto it = s->scores.find(pairView(key, *v)); it != s->scores.end()) sum += it->second;
  }
  return sum;
}

void InterPodAffinity::normalize(const CycleState& state, const PodInfo&,
                                 std::vector<int64_t>& scores) const {
  if (!state.read<ScoreState>(kScoreKey) || scores.empty()) return;
  auto [mn, mx] = std::minmax_element(scores.begin(), scores.end());
  int64_t lo = *mn, diff = *mx - *mn;
  for (auto& s : scores) s = diff > 0 ? kMaxNodeScore * (s - lo) / diff : 0;
}

}  // namespace berth::scheduler::plugins
