#include "scheduler/cache.h"

#include <algorithm>

namespace berth::scheduler {

NodeInfo& Cache::mutableNode(const std::string& name) {
  auto& slot = nodes_[name];
  if (!slot) {
    slot = std::make_shared<NodeInfo>();
    slot->name = name;
  } else if (slot.use_count() > 1) {
    slot = std::make_shared<NodeInfo>(*slot);  // a snapshot holds the old one
  } else {
    byGeneration_.erase(slot->generation);
  }
  slot->generation = ++generation_;
  byGeneration_[slot->generation] = name;
  return *slot;
}

void Cache::addNode(ObjectPtr node) {
  std::lock_guard lock(mu_);
  NodeInfo probe;
  probe.setNode(node);
  if (probe.name.empty()) return;
  bool isNew = !nodes_.count(probe.name) || !nodes_[probe.name]->object;
  auto& info = mutableNode(probe.name);
  info.setNode(std::move(node));
  if (isNew) nodeSetGeneration_ = generation_;
}

void Cache::removeNode(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  auto& info = mutableNode(name);
  info.object = nullptr;
  nodeSetGeneration_ = generation_;
  // Pods still there keep the entry alive (upstream keeps "ghost" nodes until they go).
  if (info.pods.empty()) {
    byGeneration_.erase(info.generation);
    nodes_.erase(name);
  }
}

void Cache::removePodLocked(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  const std::string node = it->second.pod->nodeName;
  pods_.erase(it);
  if (!nodes_.count(node)) return;
  auto& info = mutableNode(node);
  info.removePod(uid);
  if (!info.object && info.pods.empty()) {
    byGeneration_.erase(info.generation);
    nodes_.erase(node);
  }
}

void Cache::addPod(PodInfoPtr pod) {
  std::lock_guard lock(mu_);
  removePodLocked(pod->uid);  // an update, or the confirmation of an assumed pod
  std::string uid = pod->uid;
  mutableNode(pod->nodeName).addPod(pod);
  pods_[uid] = PodState{std::move(pod), false, true};
}

void Cache::removePod(const PodInfo& pod) {
  std::lock_guard lock(mu_);
  removePodLocked(pod.uid);
}

core::Status Cache::assumePod(PodInfoPtr pod) {
  std::lock_guard lock(mu_);
  if (pods_.count(pod->uid)) return core::Status::alreadyExists("pods", pod->key());
  std::string uid = pod->uid;
  mutableNode(pod->nodeName).addPod(pod);
  pods_[uid] = PodState{std::move(pod), true, false};
  return {};
}

void Cache::finishBinding(const std::string& uid) {
  std::lock_guard lock(mu_);
  if (auto it = pods_.find(uid); it != pods_.end()) it->second.bindingFinished = true;
}

void Cache::forgetPod(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  if (it != pods_.end() && it->second.assumed) removePodLocked(uid);
}

bool Cache::isAssumed(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  return it != pods_.end() && it->second.assumed;
}

PodInfoPtr Cache::pod(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : it->second.pod;
}

void Cache::setNamespaceLabels(const std::string& ns, core::Labels labels) {
  std::lock_guard lock(mu_);
  namespaces_[ns] = std::move(labels);
  namespaceGeneration_ = ++generation_;
}

void Cache::removeNamespace(const std::string& ns) {
  std::lock_guard lock(mu_);
  namespaces_.erase(ns);
  namespaceGeneration_ = ++generation_;
}

namespace {

// Keeps `list` (sorted by name, as Snapshot::nodes) holding the current `info` exactly when `in`:
// replaced, inserted or erased in place, O(log n) plus a move, instead of a rebuild per change.
void updateMember(std::vector<NodeInfoPtr>& list, const NodeInfoPtr& info, bool in) {
  auto it = std::lower_bound(
      list.begin(), list.end(), info->name,
      [](const NodeInfoPtr& n, const std::string& name) { return n->name < name; });
  bool present = it != list.end() && (*it)->name == info->name;
  if (in && present) {
    *it = info;
  } else if (in) {
    list.insert(it, info);
  } else if (present) {
    list.erase(it);
  }
}

}  // namespace

void Cache::updateSnapshot(Snapshot& snap) {
  std::lock_guard lock(mu_);
  if (snap.generation == generation_) return;
  bool rebuildList = nodeSetGeneration_ > snap.generation;
  // Newest first, stopping at the first node the snapshot already has.
  for (auto it = byGeneration_.rbegin(); it != byGeneration_.rend(); ++it) {
    if (it->first <= snap.generation) break;
    const auto& info = nodes_.at(it->second);
    if (rebuildList) continue;
    auto pos = snap.index.find(info->name);
    if (pos == snap.index.end()) {
      if (info->object) rebuildList = true;
      continue;
    }
    const auto& old = snap.nodes[pos->second];
    if (old->podsWithAffinity > 0 || info->podsWithAffinity > 0)
      updateMember(snap.nodesWithAffinityPods, info, info->podsWithAffinity > 0);
    if (old->podsWithRequiredAntiAffinity > 0 || info->podsWithRequiredAntiAffinity > 0)
      updateMember(snap.nodesWithRequiredAntiAffinityPods, info,
                   info->podsWithRequiredAntiAffinity > 0);
    if (snap.affinity.built() && old != info && (!old->pods.empty() || !info->pods.empty())) {
      snap.affinity.apply(pos->second, *old, -1);
      snap.affinity.apply(pos->second, *info, 1);
    }
    snap.nodes[pos->second] = info;
    snap.topology.update(pos->second, *info);
  }
  if (rebuildList) {
    snap.nodes.clear();
    for (const auto& [name, info] : nodes_)
      if (info->object) snap.nodes.push_back(info);
    std::sort(snap.nodes.begin(), snap.nodes.end(),
              [](const NodeInfoPtr& a, const NodeInfoPtr& b) { return a->name < b->name; });
    snap.reindex();
  }
  if (namespaceGeneration_ > snap.generation) snap.namespaceLabels = namespaces_;
  snap.generation = generation_;
}

size_t Cache::nodeCount() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [name, info] : nodes_) n += info->object ? 1 : 0;
  return n;
}

size_t Cache::podCount() const {
  std::lock_guard lock(mu_);
  return pods_.size();
}

}  // namespace berth::scheduler
