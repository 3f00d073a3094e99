#include "scheduler/framework/snapshot.h"

#include <algorithm>

namespace berth::scheduler {

Snapshot Snapshot::of(std::vector<NodeInfo> nodes) {
  Snapshot s;
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });
  for (auto& n : nodes) s.nodes.push_back(std::make_shared<const NodeInfo>(std::move(n)));
  s.reindex();
  return s;
}

void Snapshot::reindex() {
  index.clear();
  nodesWithAffinityPods.clear();
  nodesWithRequiredAntiAffinityPods.clear();
  for (size_t i = 0; i < nodes.size(); ++i) {
    index[nodes[i]->name] = i;
    if (nodes[i]->podsWithAffinity > 0) nodesWithAffinityPods.push_back(nodes[i]);
    if (nodes[i]->podsWithRequiredAntiAffinity > 0)
      nodesWithRequiredAntiAffinityPods.push_back(nodes[i]);
  }
  affinity.build(nodes);
  topology.clear();
}

}  // namespace berth::scheduler
