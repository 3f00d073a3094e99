#include "scheduler/framework/topology_columns.h"

namespace berth::scheduler {

int32_t TopologyColumns::Column::idOf(const NodeInfo& node) const {
  auto l = node.labels.find(key);
  if (l == node.labels.end()) return -1;
  auto it = ids.find(l->second);
  return it == ids.end() ? -1 : it->second;
}

void TopologyColumns::Column::set(size_t pos, const NodeInfo& node) {
  if (pos >= domainOf.size()) domainOf.resize(pos + 1, -1);
  auto l = node.labels.find(key);
  if (l == node.labels.end()) {
    domainOf[pos] = -1;
    return;
  }
  // Values are never dropped: a domain no node has any more counts nothing and is skipped by
  // its users, and the table stays as small as the set of values ever seen.
  auto [it, added] = ids.try_emplace(l->second, static_cast<int32_t>(values.size()));
  if (added) values.push_back(l->second);
  domainOf[pos] = it->second;
}

TopologyColumns::TopologyColumns(const TopologyColumns& other) { *this = other; }

TopologyColumns& TopologyColumns::operator=(const TopologyColumns& other) {
  if (this == &other) return *this;
  std::scoped_lock lock(mu_, other.mu_);
  columns_.clear();
  for (const auto& [key, col] : other.columns_)
    columns_.emplace(key, std::make_unique<Column>(*col));
  return *this;
}

const TopologyColumns::Column& TopologyColumns::column(
    const std::string& key, const std::vector<NodeInfoPtr>& nodes) const {
  std::lock_guard lock(mu_);
  auto& slot = columns_[key];
  if (!slot) {
    slot = std::make_unique<Column>();
    slot->key = key;
    slot->domainOf.assign(nodes.size(), -1);
    for (size_t pos = 0; pos < nodes.size(); ++pos) slot->set(pos, *nodes[pos]);
  }
  return *slot;
}

void TopologyColumns::update(size_t pos, const NodeInfo& node) {
  std::lock_guard lock(mu_);
  for (auto& [key, col] : columns_) col->set(pos, node);
}

void TopologyColumns::clear() {
  std::lock_guard lock(mu_);
  columns_.clear();
}

}  // namespace berth::scheduler
