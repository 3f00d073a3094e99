#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace berth::scheduler::plugins {

namespace {

constexpr std::string_view kFilterKey = "PreFilterPodTopologySpread";
constexpr std::string_view kScoreKey = "PreScorePodTopologySpread";
constexpr int64_t kInvalidScore = -1;

const std::string* label(const NodeInfo& node, const std::string& key) {
  auto it = node.labels.find(key);
  return it == node.labels.end() ? nullptr : &it->second;
}

bool hasAllKeys(const NodeInfo& node, const std::vector<SpreadConstraint>& cs) {
  return std::all_of(cs.begin(), cs.end(),
                     [&](const SpreadConstraint& c) { return label(node, c.topologyKey); });
}

// Whether the node is a domain member for constraint `c` (node affinity and taint policies).
bool eligible(const SpreadConstraint& c, const PodInfo& pod, const NodeInfo& node) {
  if (c.honorNodeAffinity && !podMatchesNodeSelectorAndAffinity(pod, node)) return false;
  if (c.honorTaints) {
    for (const auto& t : node.taints)
      if ((t.effect == "NoSchedule" || t.effect == "NoExecute") && !tolerated(pod.tolerations, t))
        return false;
  }
  return true;
}

int64_t countMatching(const core::LabelSelector& selector, const PodInfo& pod,
                      const NodeInfo& node) {
  int64_t n = 0;
  for (const auto& p : node.pods)
    if (p->ns == pod.ns && !p->terminating && selector.matches(p->labels)) ++n;
  return n;
}

// Pods matching each constraint's selector (same namespace, not terminating) per node position.
// Upstream walks every pod of every node per cycle; the snapshot's label-set index already has
// these counts per node, so a cycle visits only the label sets a selector matches and the nodes
// holding them. Constraints with the same selector (the system defaults) share one vector.
std::vector<std::vector<int64_t>> matchingPerNode(const std::vector<SpreadConstraint>& cs,
                                                  const PodInfo& pod, const Snapshot& snap) {
  std::vector<std::vector<int64_t>> out(cs.size());
  std::vector<std::string> texts;
  for (size_t i = 0; i < cs.size(); ++i) {
    texts.push_back(cs[i].selector.toString());
    if (i > 0 && texts[i] == texts[i - 1]) {
      out[i] = out[i - 1];
      continue;
    }
    auto& per = out[i];
    per.assign(snap.nodes.size(), 0);
    if (!snap.affinity.built()) {
      for (size_t pos = 0; pos < snap.nodes.size(); ++pos)
        per[pos] = countMatching(cs[i].selector, pod, *snap.nodes[pos]);
      continue;
    }
    snap.affinity.forEachLabelSetSelected(cs[i].selector, pod.ns,
                                          [&](const AffinityIndex::NodeTallies& tallies) {
                                            for (const auto& [pos, t] : tallies)
                                              if (pos < per.size()) per[pos] += t.live;
                                          });
  }
  return out;
}

struct FilterState : StateData {
  std::vector<SpreadConstraint> constraints;
  // Per constraint: matching pods per domain value.
  std::vector<std::unordered_map<std::string, int64_t>> counts;
  // Per constraint: the global minimum Filter compares with (recomputed when counts change, not
  // per node: with a hostname key there are as many domains as nodes).
  std::vector<int64_t> minMatches;
  std::unique_ptr<StateData> clone() const override { return std::make_unique<FilterState>(*this); }
  int64_t minMatch(size_t i) const { return minMatches[i]; }
  void computeMinMatches() {
    minMatches.assign(counts.size(), 0);
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i].empty() || static_cast<int>(counts[i].size()) < constraints[i].minDomains)
        continue;
      int64_t m = std::numeric_limits<int64_t>::max();
      for (const auto& [v, n] : counts[i]) m = std::min(m, n);
      minMatches[i] = m;
    }
  }
};

struct ScoreState : StateData {
  std::vector<SpreadConstraint> constraints;
  std::vector<std::unordered_map<std::string, int64_t>> counts;
  std::vector<double> weights;  // log(domains + 2), upstream's topologyNormalizingWeight
  // Raw scores of the nodes PreScore was given, computed there with their domains' counts.
  std::unordered_map<const NodeInfo*, int64_t> scores;
  std::unique_ptr<StateData> clone() const override { return std::make_unique<ScoreState>(*this); }
};

void update(FilterState& s, const PodInfo& pod, const PodInfo& other, const NodeInfo& node,
            int64_t delta) {
  if (other.ns != pod.ns || !hasAllKeys(node, s.constraints)) return;
  for (size_t i = 0; i < s.constraints.size(); ++i) {
    const auto& c = s.constraints[i];
    if (!eligible(c, pod, node) || !c.selector.matches(other.labels)) continue;
    s.counts[i][*label(node, c.topologyKey)] += delta;
  }
  s.computeMinMatches();
}

// The snapshot's topology column of each constraint's key.
std::vector<const TopologyColumns::Column*> columnsOf(const std::vector<SpreadConstraint>& cs,
                                                      const Snapshot& snap) {
  std::vector<const TopologyColumns::Column*> out;
  for (const auto& c : cs) out.push_back(&snap.topology.column(c.topologyKey, snap.nodes));
  return out;
}

// The domain ids of the node at `pos` for every column; false when it lacks one of the keys.
bool domainIds(const std::vector<const TopologyColumns::Column*>& cols, size_t pos,
               std::vector<int32_t>& ids) {
  for (size_t i = 0; i < cols.size(); ++i) {
    ids[i] = pos < cols[i]->domainOf.size() ? cols[i]->domainOf[pos] : -1;
    if (ids[i] < 0) return false;
  }
  return true;
}

// PreFilter's counts over every node from the snapshot's indexes: per constraint, the matching
// pods of each domain that has an eligible node (domains without one are absent).
void filterCountsIndexed(FilterState& s, const PodInfo& pod, const Snapshot& snap,
                         const std::vector<std::vector<int64_t>>& matching) {
  const size_t k = s.constraints.size();
  auto cols = columnsOf(s.constraints, snap);
  std::vector<std::vector<int64_t>> dense(k);
  std::vector<std::vector<char>> present(k);
  for (size_t i = 0; i < k; ++i) {
    dense[i].assign(cols[i]->values.size(), 0);
    present[i].assign(cols[i]->values.size(), 0);
  }
  std::vector<int32_t> ids(k);
  for (size_t pos = 0; pos < snap.nodes.size(); ++pos) {
    if (!domainIds(cols, pos, ids)) continue;
    const NodeInfo& n = *snap.nodes[pos];
    for (size_t i = 0; i < k; ++i) {
      if (!eligible(s.constraints[i], pod, n)) continue;
      present[i][ids[i]] = 1;
      dense[i][ids[i]] += matching[i][pos];
    }
  }
  for (size_t i = 0; i < k; ++i)
    for (size_t id = 0; id < dense[i].size(); ++id)
      if (present[i][id]) s.counts[i][cols[i]->values[id]] = dense[i][id];
}

// Positions in `snap.nodes` of `nodes`, which the filter loop produced in snapshot order rotated
// from its start index (a nominated node may come first): one forward walk over the snapshot's
// pointers finds them all without touching the NodeInfos. Empty when a node is not found within
// one full turn (a caller passing nodes in another order or from another snapshot).
std::vector<size_t> positionsOf(const Snapshot& snap, const std::vector<const NodeInfo*>& nodes) {
  std::vector<size_t> out;
  const size_t total = snap.nodes.size();
  if (total == 0) return out;
  out.reserve(nodes.size());
  size_t cursor = 0;
  for (const NodeInfo* n : nodes) {
    size_t steps = 0;
    while (steps < total && snap.nodes[cursor].get() != n) {
      cursor = cursor + 1 == total ? 0 : cursor + 1;
      ++steps;
    }
    if (steps == total) return {};
    out.push_back(cursor);
  }
  return out;
}

// PreScore's counts from the snapshot's indexes: adds the matching pods of every eligible node
// whose domain is among `s.counts` (the feasible nodes' domains), reading domains as integers.
void scoreCountsIndexed(ScoreState& s, const PodInfo& pod, const Snapshot& snap,
                        const std::vector<std::vector<int64_t>>& matching) {
  const size_t k = s.constraints.size();
  auto cols = columnsOf(s.constraints, snap);
  std::vector<std::vector<int64_t*>> slots(k);  // by domain id: its count, null if not counted
  for (size_t i = 0; i < k; ++i) {
    slots[i].assign(cols[i]->values.size(), nullptr);
    for (auto& [value, count] : s.counts[i])
      if (auto it = cols[i]->ids.find(value); it != cols[i]->ids.end())
        slots[i][it->second] = &count;
  }
  std::vector<int32_t> ids(k);
  for (size_t pos = 0; pos < snap.nodes.size(); ++pos) {
    bool any = false;
    for (size_t i = 0; i < k && !any; ++i) any = matching[i][pos] != 0;
    if (!any || !domainIds(cols, pos, ids)) continue;
    const NodeInfo& n = *snap.nodes[pos];
    for (size_t i = 0; i < k; ++i) {
      int64_t* count = slots[i][ids[i]];
      if (matching[i][pos] == 0 || !count || !eligible(s.constraints[i], pod, n)) continue;
      *count += matching[i][pos];
    }
  }
}

}  // namespace

std::vector<SpreadConstraint> PodTopologySpread::constraintsFor(const PodInfo& pod,
                                                                const Snapshot& snap, bool hard) {
  std::vector<SpreadConstraint> out;
  if (!pod.spreadConstraints.empty()) {
    for (const auto& c : pod.spreadConstraints)
      if (c.doNotSchedule == hard) out.push_back(c);
    return out;
  }
  if (hard || !snap.defaultSpreadSelector) return out;
  auto selector = snap.defaultSpreadSelector(pod);
  if (!selector || selector->empty()) return out;
  for (auto [key, skew] : {std::pair<const char*, int>{"kubernetes.io/hostname", 3},
                           {"topology.kubernetes.io/zone", 5}}) {
    SpreadConstraint c;
    c.topologyKey = key;
    c.maxSkew = skew;
    c.doNotSchedule = false;
    c.selector = *selector;
    out.push_back(std::move(c));
  }
  return out;
}

PluginStatus PodTopologySpread::preFilter(CycleState& state, const PodInfo& pod,
                                          const Snapshot& snap) {
  auto s = std::make_unique<FilterState>();
  s->constraints = constraintsFor(pod, snap, true);
  if (s->constraints.empty()) return PluginStatus::skip();
  s->counts.resize(s->constraints.size());
  auto matching = matchingPerNode(s->constraints, pod, snap);
  if (snap.affinity.built()) {
    filterCountsIndexed(*s, pod, snap, matching);
  } else {
    for (size_t pos = 0; pos < snap.nodes.size(); ++pos) {
      const NodeInfo& n = *snap.nodes[pos];
      if (!hasAllKeys(n, s->constraints)) continue;
      for (size_t i = 0; i < s->constraints.size(); ++i) {
        const auto& c = s->constraints[i];
        if (!eligible(c, pod, n)) continue;
        s->counts[i][*label(n, c.topologyKey)] += matching[i][pos];
      }
    }
  }
  s->computeMinMatches();
  state.write(std::string(kFilterKey), std::move(s));
  return PluginStatus::success();
}

void PodTopologySpread::addPod(CycleState& state, const PodInfo& pod, const PodInfo& added,
                               const NodeInfo& node, const Snapshot&) const {
  if (auto* s = state.read<FilterState>(kFilterKey)) update(*s, pod, added, node, 1);
}

void PodTopologySpread::removePod(CycleState& state, const PodInfo& pod, const PodInfo& removed,
                                  const NodeInfo& node, const Snapshot&) const {
  if (auto* s = state.read<FilterState>(kFilterKey)) update(*s, pod, removed, node, -1);
}

PluginStatus PodTopologySpread::filter(const CycleState& state, const PodInfo& pod,
                                       const NodeInfo& node) const {
  const auto* s = state.read<FilterState>(kFilterKey);
  if (!s) return PluginStatus::success();
  for (size_t i = 0; i < s->constraints.size(); ++i) {
    const auto& c = s->constraints[i];
    const auto* v = label(node, c.topologyKey);
    if (!v) return PluginStatus::unresolvable(std::string(kMissingLabelReason));
    int64_t self = c.selector.matches(pod.labels) ? 1 : 0;
    auto it = s->counts[i].find(*v);
    int64_t here = it == s->counts[i].end() ? 0 : it->second;
    if (here + self - s->minMatch(i) > c.maxSkew)
      return PluginStatus::unschedulable(std::string(kReason));
  }
  return PluginStatus::success();
}

PluginStatus PodTopologySpread::preScore(CycleState& state, const PodInfo& pod,
                                         const Snapshot& snap,
                                         const std::vector<const NodeInfo*>& nodes) {
  auto s = std::make_unique<ScoreState>();
  s->constraints = constraintsFor(pod, snap, false);
  if (s->constraints.empty()) return PluginStatus::skip();
  s->counts.resize(s->constraints.size());
  const size_t k = s->constraints.size();
  // Domains are those of the feasible nodes; pods are counted over every eligible node. Each
  // feasible node keeps pointers to its domains' counts (stable in an unordered_map) so its
  // score is summed once here instead of looked up again per constraint in Score.
  std::vector<int64_t*> domainCounts;
  domainCounts.reserve(nodes.size() * k);
  std::vector<char> allKeys(nodes.size());
  // With the snapshot's topology columns, each feasible node's domains are integers read by its
  // position, and each distinct domain gets its count entry once; looking the topology keys up
  // in every node's label map was most of a spread pod's PreScore (a cache miss per node).
  std::vector<size_t> positions;
  if (snap.affinity.built()) positions = positionsOf(snap, nodes);
  if (!positions.empty()) {
    auto cols = columnsOf(s->constraints, snap);
    std::vector<std::vector<int64_t*>> slotOfDomain(k);
    for (size_t i = 0; i < k; ++i) slotOfDomain[i].assign(cols[i]->values.size(), nullptr);
    std::vector<int32_t> ids(k);
    for (size_t j = 0; j < nodes.size(); ++j) {
      allKeys[j] = domainIds(cols, positions[j], ids);
      if (!allKeys[j]) continue;
      for (size_t i = 0; i < k; ++i) {
        int64_t*& slot = slotOfDomain[i][ids[i]];
        if (!slot) slot = &s->counts[i].try_emplace(cols[i]->values[ids[i]], 0).first->second;
        domainCounts.push_back(slot);
      }
    }
  } else {
    for (size_t j = 0; j < nodes.size(); ++j) {
      const NodeInfo* n = nodes[j];
      allKeys[j] = hasAllKeys(*n, s->constraints);
      if (!allKeys[j]) continue;
      for (size_t i = 0; i < k; ++i)
        domainCounts.push_back(
            &s->counts[i].try_emplace(*label(*n, s->constraints[i].topologyKey), 0).first->second);
    }
  }
  auto matching = matchingPerNode(s->constraints, pod, snap);
  if (snap.affinity.built()) {
    scoreCountsIndexed(*s, pod, snap, matching);
  } else {
    for (size_t pos = 0; pos < snap.nodes.size(); ++pos) {
      const NodeInfo* n = nullptr;
      for (size_t i = 0; i < k; ++i) {
        if (matching[i][pos] == 0) continue;  // adds nothing
        if (!n) {
          n = snap.nodes[pos].get();
          if (!hasAllKeys(*n, s->constraints)) break;
        }
        const auto& c = s->constraints[i];
        auto it = s->counts[i].find(*label(*n, c.topologyKey));
        if (it == s->counts[i].end() || !eligible(c, pod, *n)) continue;
        it->second += matching[i][pos];
      }
    }
  }
  for (const auto& c : s->counts) s->weights.push_back(std::log(static_cast<double>(c.size() + 2)));
  s->scores.reserve(nodes.size());
  size_t next = 0;
  for (size_t j = 0; j < nodes.size(); ++j) {
    const NodeInfo* n = nodes[j];
    if (!allKeys[j]) {
      s->scores[n] = kInvalidScore;
      continue;
    }
    double score = 0;
    for (size_t i = 0; i < k; ++i) {
      score += static_cast<double>(*domainCounts[next++]) * s->weights[i] +
               (s->constraints[i].maxSkew - 1);
    }
    s->scores[n] = static_cast<int64_t>(std::llround(score));
  }
  state.write(std::string(kScoreKey), std::move(s));
  return PluginStatus::success();
}

int64_t PodTopologySpread::score(const CycleState& state, const PodInfo&,
                                 const NodeInfo& node) const {
  const auto* s = state.read<ScoreState>(kScoreKey);
  if (!s) return 0;
  if (auto it = s->scores.find(&node); it != s->scores.end()) return it->second;
  if (!hasAllKeys(node, s->constraints)) return kInvalidScore;
  double score = 0;
  for (size_t i = 0; i < s->constraints.size(); ++i) {
    auto it = s->counts[i].find(*label(node, s->constraints[i].topologyKey));
    int64_t cnt = it == s->counts[i].end() ? 0 : it->second;
    score += static_cast<double>(cnt) * s->weights[i] + (s->constraints[i].maxSkew - 1);
  }
  return static_cast<int64_t>(std::llround(score));
}

void PodTopologySpread::normalize(const CycleState& state, const PodInfo&,
                                  std::vector<int64_t>& scores) const {
  if (!state.read<ScoreState>(kScoreKey)) return;
  int64_t mn = std::numeric_limits<int64_t>::max(), mx = 0;
  for (auto s : scores) {
    if (s == kInvalidScore) continue;
    mn = std::min(mn, s);
    mx = std::max(mx, s);
  }
  // Fewer matching pods is better: reverse within [min, max] (upstream's formula).
  for (auto& s : scores) {
    if (s == kInvalidScore) {
      s = 0;
    } else if (mx == 0) {
      s = kMaxNodeScore;
    } else {
      s = kMaxNodeScore * (mx + mn - s) / mx;
    }
  }
}

}  // namespace berth::scheduler::plugins
