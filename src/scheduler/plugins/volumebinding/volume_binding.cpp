#include "scheduler/plugins/volumebinding/volume_binding.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <set>

#include "core/json_access.h"
#include "core/volume_binding.h"

namespace berth::scheduler::plugins {

namespace json = boost::json;
namespace vol = core::volumes;

namespace {

constexpr std::string_view kStateKey = "PreFilterVolumeBinding";

const json::object& sub(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* f = core::objectField(o, key);
  return f ? *f : empty;
}

struct VolumeState : StateData {
  std::vector<ObjectPtr> boundVolumes;  // volumes of the pod's bound claims
  struct Unbound {
    ObjectPtr claim;
    bool provisionable = false;  // its class has a provisioner
  };
  std::vector<Unbound> unbound;       // WaitForFirstConsumer claims still to bind
  std::vector<ObjectPtr> candidates;  // the volumes, read once per cycle
  // Filter's decision per feasible node, for Reserve (upstream's podVolumesByNode): per unbound
  // claim the index of its static volume in `candidates`, -1 = provision. Filters of several
  // nodes run concurrently, hence the lock.
  mutable std::mutex mu;
  mutable std::map<std::string, std::vector<int>> byNode;

  VolumeState() = default;
  VolumeState(const VolumeState& o)
      : boundVolumes(o.boundVolumes), unbound(o.unbound), candidates(o.candidates) {
    std::lock_guard lock(o.mu);
    byNode = o.byNode;
  }
  std::unique_ptr<StateData> clone() const override { return std::make_unique<VolumeState>(*this); }
};

std::vector<std::string> claimNames(const PodInfo& pod) {
  std::vector<std::string> out;
  const auto* vols = sub(pod.object->as_object(), "spec").if_contains("volumes");
  if (!vols || !vols->is_array()) return out;
  for (const auto& v : vols->as_array()) {
    if (!v.is_object()) continue;
    const auto& pvc = sub(v.as_object(), "persistentVolumeClaim");
    std::string name = core::stringField(pvc, "claimName");
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

vol::NodeView viewOf(const NodeInfo& node) { return {node.name, node.labels}; }

// For each unbound claim: the index of the static volume it takes on `node` (-1 = provision).
// False when some claim can have neither. A volume taken by an earlier claim is not reused.
bool decide(const VolumeState& s, const NodeInfo& node, std::vector<int>& chosen) {
  vol::NodeView view = viewOf(node);
  std::set<const json::object*> taken;
  for (const auto& u : s.unbound) {
    std::vector<const json::object*> pool;
    for (const auto& v : s.candidates)
      if (!taken.count(&v->as_object())) pool.push_back(&v->as_object());
    const json::object* match = vol::findMatchingVolume(u.claim->as_object(), pool, &view, true);
    if (!match && !u.provisionable) return false;
    int index = -1;
    for (size_t i = 0; match && i < s.candidates.size(); ++i)
      if (&s.candidates[i]->as_object() == match) index = static_cast<int>(i);
    if (match) taken.insert(match);
    chosen.push_back(index);
  }
  return true;
}

}  // namespace

PluginStatus VolumeBinding::preFilter(CycleState& state, const PodInfo& pod, const Snapshot&) {
  auto names = claimNames(pod);
  if (names.empty()) return PluginStatus::skip();
  auto s = std::make_unique<VolumeState>();
  for (const auto& name : names) {
    ObjectPtr claim = cluster_->claim(pod.ns, name);
    if (!claim)
      return PluginStatus::unresolvable("persistentvolumeclaim \"" + name + "\" not found");
    const auto& c = claim->as_object();
    if (sub(c, "metadata").contains("deletionTimestamp"))
      return PluginStatus::unresolvable("persistentvolumeclaim \"" + name + "\" is being deleted");
    std::string volumeName = core::stringField(sub(c, "spec"), "volumeName");
    if (!volumeName.empty()) {
      ObjectPtr v = cluster_->volume(volumeName);
      if (!v) return PluginStatus::unresolvable("pvc(s) bound to non-existent pv(s)");
      s->boundVolumes.push_back(std::move(v));
      continue;
    }
    std::string className = vol::claimClass(c);
    ObjectPtr cls = className.empty() ? nullptr : cluster_->storageClass(className);
    if (!cls || core::stringField(cls->as_object(), "volumeBindingMode") != "WaitForFirstConsumer")
      return PluginStatus::unresolvable(std::string(kUnboundImmediate));
    std::string provisioner = core::stringField(cls->as_object(), "provisioner");
    s->unbound.push_back(
        {claim, !provisioner.empty() && provisioner != "kubernetes.io/no-provisioner"});
  }
  if (!s->unbound.empty()) s->candidates = cluster_->volumes();
  state.write(std::string(kStateKey), std::move(s));
  return PluginStatus::success();
}

PluginStatus VolumeBinding::filter(const CycleState& state, const PodInfo&,
                                   const NodeInfo& node) const {
  const auto* s = state.read<VolumeState>(kStateKey);
  if (!s) return PluginStatus::success();
  vol::NodeView view = viewOf(node);
  for (const auto& v : s->boundVolumes)
    if (!vol::volumeNodeAffinityMatches(v->as_object(), view))
      return PluginStatus::unresolvable(std::string(kNodeConflict));
  std::vector<int> chosen;
  if (!decide(*s, node, chosen)) return PluginStatus::unresolvable(std::string(kBindConflict));
  std::lock_guard lock(s->mu);
  s->byNode[node.name] = std::move(chosen);
  return PluginStatus::success();
}

PluginStatus VolumeBinding::reserve(CycleState& state, const PodInfo&, const std::string& node) {
  const auto* s = state.read<VolumeState>(kStateKey);
  if (!s || s->unbound.empty()) return PluginStatus::success();
  std::vector<int> chosen;
  {
    std::lock_guard lock(s->mu);
    auto it = s->byNode.find(node);
    if (it == s->byNode.end()) return PluginStatus::error("no volume decision for node " + node);
    chosen = it->second;
  }
  for (size_t i = 0; i < s->unbound.size(); ++i) {
    const auto& claim = *s->unbound[i].claim;
    const auto& meta = sub(claim.as_object(), "metadata");
    core::Status st = chosen[i] >= 0 ? cluster_->bindVolume(*s->candidates[chosen[i]], claim)
                                     : cluster_->selectNode(core::stringField(meta, "namespace"),
                                                            core::stringField(meta, "name"), node);
    if (!st.ok()) return PluginStatus::error("binding volumes: " + st.message());
  }
  return PluginStatus::success();
}

}  // namespace berth::scheduler::plugins
