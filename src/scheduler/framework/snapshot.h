#pragma once
// Snapshot: the immutable view of the cluster one scheduling cycle works on, as upstream's
// internal/cache.Snapshot. The cache refreshes it before each cycle (Cache::updateSnapshot) by
// replacing only the NodeInfos whose generation moved since the last refresh, so a cycle costs
// O(changed nodes), not O(nodes); filters and scores read it without locks while informers keep
// changing the live cache.
//
// Thread-safety: read-only during a cycle (any number of threads may read); written only by
// Cache::updateSnapshot, between cycles.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/affinity_index.h"
#include "scheduler/framework/topology_columns.h"
#include "scheduler/framework/types.h"

namespace berth::scheduler {

struct Snapshot {
  // Nodes with a Node object, in a stable order (by name).
  std::vector<NodeInfoPtr> nodes;
  std::unordered_map<std::string, size_t> index;  // name -> position in `nodes`
  // Nodes with at least one pod that has inter-pod (anti-)affinity terms (InterPodAffinity
  // only walks these for the existing pods' terms).
  std::vector<NodeInfoPtr> nodesWithAffinityPods;
  std::vector<NodeInfoPtr> nodesWithRequiredAntiAffinityPods;
  // The pods' label sets and affinity terms with their counts per node (affinity_index.h).
  AffinityIndex affinity;
  // Each node's domain per topology key, by position (topology_columns.h).
  TopologyColumns topology;
  // Labels of namespaces, for affinity terms with a namespaceSelector.
  NamespaceLabels namespaceLabels;
  int64_t generation = 0;  // the cache generation this snapshot reflects
  // The selector of the Services, ReplicaSets and StatefulSets that select a pod (upstream's
  // helper.DefaultSelector), for PodTopologySpread's default constraints; null = none known.
  std::function<std::optional<core::LabelSelector>(const PodInfo&)> defaultSpreadSelector;

  const NodeInfo* get(std::string_view name) const {
    auto it = index.find(std::string(name));
    return it == index.end() ? nullptr : nodes[it->second].get();
  }
  // For tests and benchmarks: a snapshot of these nodes, built as the cache would.
  static Snapshot of(std::vector<NodeInfo> nodes);
  // Rebuilds `index`, the affinity lists and the affinity index from `nodes`; drops the
  // topology columns.
  void reindex();
};

}  // namespace berth::scheduler
