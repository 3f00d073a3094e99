#pragma once
// TopologyColumns: each node's topology domain for a label key (kubernetes.io/hostname, zone,
// ...), as a small integer per node position in Snapshot::nodes, kept in the Snapshot.
//
// PodTopologySpread aggregates matching pods per domain over every node of the cluster each
// cycle; looking each node's labels up by string for that is a cache miss and a few string
// compares per node (at 5,000 nodes, most of a spread pod's cycle). A column is built the first
// time a key is asked for and then follows the snapshot: the cache calls update() for each node
// it replaces and clear() when positions move, so a cycle reads integers.
//
// Thread-safety: column() may build a column while other threads read existing ones (one
// mutex); update()/clear() run between cycles, like every other snapshot change. A Column stays
// valid until the next update()/clear() of its snapshot (i.e. for one cycle).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace berth::scheduler {

class TopologyColumns {
 public:
  struct Column {
    std::string key;
    std::vector<int32_t> domainOf;                 // by node position; -1: no such label
    std::vector<std::string> values;               // domain id -> label value
    std::unordered_map<std::string, int32_t> ids;  // label value -> domain id
    // The node's domain id (by its labels; -1 when it lacks the key or the value is unknown).
    int32_t idOf(const NodeInfo& node) const;
    void set(size_t pos, const NodeInfo& node);
  };

  TopologyColumns() = default;
  TopologyColumns(const TopologyColumns& other);
  TopologyColumns& operator=(const TopologyColumns& other);

  // The column for `key` over `nodes` (the snapshot's), built on first use.
  const Column& column(const std::string& key, const std::vector<NodeInfoPtr>& nodes) const;
  // The node at `pos` was replaced by `node`.
  void update(size_t pos, const NodeInfo& node);
  // Positions changed: every column is rebuilt on its next use.
  void clear();

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<Column>> columns_;
};

}  // namespace berth::scheduler
