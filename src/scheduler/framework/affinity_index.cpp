#include "scheduler/framework/affinity_index.h"

namespace berth::scheduler {

namespace {

std::string pairOf(const std::string& key, const std::string& value) {
  std::string out;
  out.reserve(key.size() + value.size() + 1);
  out.append(key).push_back('\0');
  out.append(value);
  return out;
}

// The label pairs one of which a pod must carry to match `selector` (the first `=`/`In`
// requirement's), or empty when the selector pins none.
std::vector<std::string> pinnedPairs(const core::LabelSelector& selector) {
  using Op = core::LabelSelector::Op;
  for (const auto& r : selector.requirements()) {
    if (r.op != Op::kEquals && r.op != Op::kIn) continue;
    std::vector<std::string> out;
    for (const auto& v : r.values) out.push_back(pairOf(r.key, v));
    return out;
  }
  return {};
}

// Adds `delta` pods (and weight; `live` when they are not terminating) at `pos`; drops the node
// when no pod is left. True when the entry has no node left.
bool tally(AffinityIndex::NodeTallies& nodes, size_t pos, int delta, int64_t weight,
           bool live = false) {
  auto& t = nodes[pos];
  t.pods += delta;
  t.weight += delta * weight;
  if (live) t.live += delta;
  if (t.pods <= 0) nodes.erase(pos);
  return nodes.empty();
}

// Visits the entries of `table` that may hold pairs in `pairs` (all entries when `pairs` is
// empty and `all` is set), each once.
template <typename Table, typename Fn>
void candidates(const Table& table, const std::vector<std::string>& pairs, Fn&& fn) {
  if (pairs.empty()) {
    for (const auto& [fp, e] : table.entries) fn(e);
    return;
  }
  for (const auto& p : pairs) {
    auto it = table.byPair.find(p);
    if (it == table.byPair.end()) continue;
    // A label set carries one value per key, and pinned pairs share their key: no repeats.
    for (uint64_t fp : it->second) fn(table.entries.at(fp));
  }
}

}  // namespace

AffinityIndex::Tally& AffinityIndex::NodeTallies::operator[](size_t pos) {
  auto [it, added] = slots_.try_emplace(pos, items_.size());
  if (added) items_.emplace_back(pos, Tally{});
  return items_[it->second].second;
}

void AffinityIndex::NodeTallies::erase(size_t pos) {
  auto it = slots_.find(pos);
  if (it == slots_.end()) return;
  size_t slot = it->second;
  slots_.erase(it);
  if (slot + 1 != items_.size()) {
    items_[slot] = items_.back();
    slots_[items_[slot].first] = slot;
  }
  items_.pop_back();
}

void AffinityIndex::clear() {
  labelSets_ = {};
  for (auto& t : terms_) t = {};
  built_ = false;
}

void AffinityIndex::build(const std::vector<NodeInfoPtr>& nodes) {
  clear();
  for (size_t i = 0; i < nodes.size(); ++i) apply(i, *nodes[i], 1);
  built_ = true;
}

void AffinityIndex::apply(size_t pos, const NodeInfo& node, int delta) {
  for (const auto& pod : node.pods) {
    addLabelSet(pod, pos, delta);
    if (!pod->hasAffinity()) continue;
    for (const auto& t : pod->requiredAntiAffinity)
      addTerm(kRequiredAntiAffinity, t, 1, pos, delta);
    // A required affinity term of an existing pod scores as hardPodAffinityWeight (1).
    for (const auto& t : pod->requiredAffinity) addTerm(kRequiredAffinity, t, 1, pos, delta);
    for (const auto& w : pod->preferredAffinity)
      addTerm(kPreferredAffinity, w.term, w.weight, pos, delta);
    for (const auto& w : pod->preferredAntiAffinity)
      addTerm(kPreferredAntiAffinity, w.term, -w.weight, pos, delta);
  }
}

void AffinityIndex::addLabelSet(const PodInfoPtr& pod, size_t pos, int delta) {
  uint64_t fp = pod->labelsFingerprint;
  auto it = labelSets_.entries.find(fp);
  if (it == labelSets_.entries.end()) {
    if (delta < 0) return;
    it = labelSets_.entries.emplace(fp, LabelSet{pod, {}}).first;
    for (const auto& [k, v] : pod->labels) labelSets_.byPair[pairOf(k, v)].insert(fp);
  }
  if (!tally(it->second.nodes, pos, delta, 0, !pod->terminating)) return;
  for (const auto& [k, v] : it->second.example->labels) {
    auto b = labelSets_.byPair.find(pairOf(k, v));
    if (b == labelSets_.byPair.end()) continue;
    b->second.erase(fp);
    if (b->second.empty()) labelSets_.byPair.erase(b);
  }
  labelSets_.entries.erase(it);
}

void AffinityIndex::addTerm(TermKind kind, const AffinityTerm& term, int64_t weight, size_t pos,
                            int delta) {
  auto& table = terms_[kind];
  uint64_t fp = term.fingerprint;
  auto it = table.entries.find(fp);
  // A null selector matches no pod: such a term is kept (it exists) but never a candidate.
  auto pairs = term.selectorSet ? pinnedPairs(term.selector) : std::vector<std::string>{};
  if (it == table.entries.end()) {
    if (delta < 0) return;
    it = table.entries.emplace(fp, Term{term, {}}).first;
    if (term.selectorSet && pairs.empty()) table.unpinned.insert(fp);
    for (const auto& p : pairs) table.byPair[p].insert(fp);
  }
  if (!tally(it->second.nodes, pos, delta, weight)) return;
  table.unpinned.erase(fp);
  for (const auto& p : pairs) {
    auto b = table.byPair.find(p);
    if (b == table.byPair.end()) continue;
    b->second.erase(fp);
    if (b->second.empty()) table.byPair.erase(b);
  }
  table.entries.erase(it);
}

void AffinityIndex::forEachMatchingLabelSet(
    const AffinityTerm& term, const NamespaceLabels* ns,
    const std::function<void(const NodeTallies&)>& fn) const {
  if (!term.selectorSet) return;
  candidates(labelSets_, pinnedPairs(term.selector), [&](const LabelSet& s) {
    if (term.matches(*s.example, ns)) fn(s.nodes);
  });
}

void AffinityIndex::forEachLabelSetSelected(
    const core::LabelSelector& selector, const std::string& ns,
    const std::function<void(const NodeTallies&)>& fn) const {
  candidates(labelSets_, pinnedPairs(selector), [&](const LabelSet& s) {
    if (s.example->ns == ns && selector.matches(s.example->labels)) fn(s.nodes);
  });
}

void AffinityIndex::forEachMatchingTerm(
    TermKind kind, const PodInfo& pod, const NamespaceLabels* ns,
    const std::function<void(const AffinityTerm&, const NodeTallies&)>& fn) const {
  const auto& table = terms_[kind];
  if (table.entries.empty()) return;
  auto visit = [&](uint64_t fp) {
    const Term& t = table.entries.at(fp);
    if (t.term.matches(pod, ns)) fn(t.term, t.nodes);
  };
  for (uint64_t fp : table.unpinned) visit(fp);
  // A term is filed under the pairs of one requirement (one key), and the pod has one value per
  // key, so each term is reached at most once here.
  for (const auto& [k, v] : pod.labels) {
    auto it = table.byPair.find(pairOf(k, v));
    if (it == table.byPair.end()) continue;
    for (uint64_t fp : it->second) visit(fp);
  }
}

int64_t AffinityIndex::termPods(TermKind kind, size_t pos) const {
  int64_t n = 0;
  for (const auto& [fp, t] : terms_[kind].entries)
    if (auto it = t.nodes.find(pos); it != t.nodes.end()) n += it->second.pods;
  return n;
}

}  // namespace berth::scheduler
