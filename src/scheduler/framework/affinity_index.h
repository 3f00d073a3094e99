#pragma once
// AffinityIndex: what InterPodAffinity needs from the existing pods, kept incrementally in the
// Snapshot so a cycle costs O(matching terms × their nodes), not O(pods in the cluster).
//
// Upstream's InterPodAffinity PreFilter/PreScore walk every pod of every node (with affinity) per
// cycle; at 5,000 nodes that walk is the cycle. The index groups the same information by what a
// cycle asks:
// - label sets: the pods' distinct (namespace, labels), each with its pod count per node: the
//   incoming pod's terms are matched once per label set, then the counts are read per node
//   (PodTopologySpread reads the same counts, without the terminating pods, for its selectors);
// - existing terms: the pods' own affinity terms (required anti-affinity, required affinity,
//   preferred affinity and anti-affinity) by fingerprint, each with its pod count and summed
//   weight per node: matched once each against the incoming pod.
// Both have an inverted index by label pair ("key\0value"): a selector that pins a label (a
// matchLabels entry, or `In` with its values) can only match pods carrying one of those pairs, so
// lookups visit only those candidates; terms/sets without such a pair are always visited.
// Counts are by node position in Snapshot::nodes, so topology values are read from the node at
// query time and a node's label change needs no index update.
//
// Results equal the brute-force walk exactly (inter_pod_affinity_index_test.cpp checks both on
// random clusters). Fingerprints are 64-bit hashes (types.h), as the per-cycle memo used before.
//
// Thread-safety: like the Snapshot: written between cycles, read-only during one.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scheduler/framework/types.h"

namespace berth::scheduler {

class AffinityIndex {
 public:
  struct Tally {
    int64_t pods = 0;    // pods on the node with this label set / term
    int64_t weight = 0;  // their summed weights (terms only; negative for anti-affinity)
    int64_t live = 0;    // label sets only: those pods not terminating (PodTopologySpread)
  };
  // Tallies by node position: a vector to iterate (cycles read every entry; as a hash map its
  // nodes were a cache miss each) plus a position -> slot map for the updates.
  class NodeTallies {
   public:
    using Entry = std::pair<size_t, Tally>;
    std::vector<Entry>::const_iterator begin() const { return items_.begin(); }
    std::vector<Entry>::const_iterator end() const { return items_.end(); }
    bool empty() const { return items_.empty(); }
    size_t size() const { return items_.size(); }
    std::vector<Entry>::const_iterator find(size_t pos) const {
      auto it = slots_.find(pos);
      return it == slots_.end() ? items_.end() : items_.begin() + static_cast<long>(it->second);
    }
    Tally& operator[](size_t pos);
    void erase(size_t pos);

   private:
    std::vector<Entry> items_;
    std::unordered_map<size_t, size_t> slots_;
  };

  enum TermKind {
    kRequiredAntiAffinity,
    kRequiredAffinity,
    kPreferredAffinity,
    kPreferredAntiAffinity,
    kTermKinds
  };

  // Whether the index reflects the snapshot (false: callers walk the pods themselves).
  bool built() const { return built_; }
  void clear();
  // Rebuilds from every pod of `nodes` (positions are the vector's indexes).
  void build(const std::vector<NodeInfoPtr>& nodes);
  // Adds (delta 1) or removes (delta -1) every pod of the node at position `pos`.
  void apply(size_t pos, const NodeInfo& node, int delta);

  // Calls fn(podExample, tallies) for every label set `term` matches.
  void forEachMatchingLabelSet(const AffinityTerm& term, const NamespaceLabels* ns,
                               const std::function<void(const NodeTallies&)>& fn) const;
  // Calls fn(tallies) for every label set of namespace `ns` that `selector` matches
  // (PodTopologySpread's counts of matching pods per node).
  void forEachLabelSetSelected(const core::LabelSelector& selector, const std::string& ns,
                               const std::function<void(const NodeTallies&)>& fn) const;
  // Calls fn(term, tallies) for every existing term of `kind` that matches `pod`.
  void forEachMatchingTerm(
      TermKind kind, const PodInfo& pod, const NamespaceLabels* ns,
      const std::function<void(const AffinityTerm&, const NodeTallies&)>& fn) const;
  bool hasTerms(TermKind kind) const { return !terms_[kind].entries.empty(); }
  size_t labelSetCount() const { return labelSets_.entries.size(); }
  // Pods counted for `kind` terms on the node at `pos` (for tests).
  int64_t termPods(TermKind kind, size_t pos) const;

 private:
  struct LabelSet {
    PodInfoPtr example;  // a pod with these labels in this namespace
    NodeTallies nodes;
  };
  struct Term {
    AffinityTerm term;
    NodeTallies nodes;
  };
  // Entries by fingerprint plus the inverted index over label pairs.
  template <typename Entry>
  struct Table {
    std::unordered_map<uint64_t, Entry> entries;
    std::unordered_map<std::string, std::unordered_set<uint64_t>> byPair;
    std::unordered_set<uint64_t> unpinned;  // terms without a pinned pair (always candidates)
  };

  void addLabelSet(const PodInfoPtr& pod, size_t pos, int delta);
  void addTerm(TermKind kind, const AffinityTerm& term, int64_t weight, size_t pos, int delta);

  bool built_ = false;
  Table<LabelSet> labelSets_;
  Table<Term> terms_[kTermKinds];
};

}  // namespace berth::scheduler
