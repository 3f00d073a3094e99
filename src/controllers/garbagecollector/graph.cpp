#include "controllers/garbagecollector/graph.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/json_access.h"

namespace berth::controllers::gc {

namespace json = boost::json;

namespace {

bool boolField(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

bool hasFinalizer(const json::object& meta, std::string_view f) {
  auto* fs = meta.if_contains("finalizers");
  if (!fs || !fs->is_array()) return false;
  for (const auto& x : fs->as_array())
    if (x.is_string() && x.as_string() == f) return true;
  return false;
}

}  // namespace

std::vector<OwnerRef> ownerRefsOf(const json::value& obj) {
  std::vector<OwnerRef> out;
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  auto* refs = meta ? meta->if_contains("ownerReferences") : nullptr;
  if (!refs || !refs->is_array()) return out;
  for (const auto& r : refs->as_array()) {
    if (!r.is_object()) continue;
    const auto& o = r.as_object();
    OwnerRef ref{core::stringField(o, "apiVersion"), core::stringField(o, "kind"),
                 core::stringField(o, "name"),       core::stringField(o, "uid"),
                 boolField(o, "controller"),         boolField(o, "blockOwnerDeletion")};
    if (!ref.uid.empty()) out.push_back(std::move(ref));
  }
  return out;
}

std::optional<ObservedObject> observedFrom(const json::value& obj, const std::string& apiVersion,
                                           const std::string& kind) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  if (!meta) return std::nullopt;
  ObservedObject o;
  o.ref = {apiVersion, kind, core::stringField(*meta, "namespace"),
           core::stringField(*meta, "name"), core::stringField(*meta, "uid")};
  if (o.ref.uid.empty()) return std::nullopt;
  o.owners = ownerRefsOf(obj);
  o.beingDeleted = meta->contains("deletionTimestamp");
  o.deletingDependents = o.beingDeleted && hasFinalizer(*meta, "foregroundDeletion");
  o.orphaning = o.beingDeleted && hasFinalizer(*meta, "orphan");
  return o;
}

void Graph::addDependentLocked(const OwnerRef& owner, const ObjectRef& dependent, Actions& out) {
  auto it = nodes_.find(owner.uid);
  if (it == nodes_.end()) {
    // Not observed (yet): a virtual node the collector verifies with a live read. Its
    // namespace is the dependent's until the read says the kind is cluster-scoped.
    Node v;
    v.ref = {owner.apiVersion, owner.kind, dependent.namespace_, owner.name, owner.uid};
    it = nodes_.emplace(owner.uid, std::move(v)).first;
    out.attemptToDelete.push_back(owner.uid);
  } else if (it->second.observed && !it->second.ref.namespace_.empty() &&
             it->second.ref.namespace_ != dependent.namespace_) {
    // The owner lives in another namespace (or the dependent is cluster-scoped): the reference
    // cannot resolve; the collector treats it as absent and reports it (upstream's graph
    // builder does the same on seeing the mismatch).
    out.attemptToDelete.push_back(dependent.uid);
  }
  it->second.dependents.insert(dependent.uid);
}

void Graph::removeDependentLocked(const OwnerRef& owner, const std::string& dependentUid,
                                  Actions& out) {
  auto it = nodes_.find(owner.uid);
  if (it == nodes_.end()) return;
  it->second.dependents.erase(dependentUid);
  // An owner deleting in foreground may have been waiting for exactly this dependent.
  if (it->second.deletingDependents) out.attemptToDelete.push_back(owner.uid);
  if (!it->second.observed && it->second.dependents.empty()) nodes_.erase(it);
}

Actions Graph::observe(const ObservedObject& obj) {
  Actions out;
  std::lock_guard lock(mu_);
  const std::string& uid = obj.ref.uid;
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) {
    Node n;
    n.ref = obj.ref;
    n.observed = true;
    n.owners = obj.owners;
    it = nodes_.emplace(uid, std::move(n)).first;
    for (const auto& o : obj.owners) addDependentLocked(o, obj.ref, out);
  } else {
    Node& n = it->second;
    if (!n.observed && !obj.ref.namespace_.empty() && n.ref.namespace_ != obj.ref.namespace_) {
      // A virtual node (made from a dependent's reference) turns out to live elsewhere: the
      // dependents in other namespaces hold references that cannot resolve (upstream's
      // processGraphChanges re-checks them the same way).
      for (const auto& d : n.dependents) {
        auto dep = nodes_.find(d);
        if (dep != nodes_.end() && dep->second.ref.namespace_ != obj.ref.namespace_)
          out.attemptToDelete.push_back(d);
      }
    }
    n.observed = true;
    n.ref = obj.ref;
    std::vector<OwnerRef> old = std::move(n.owners);
    n.owners = obj.owners;
    auto find = [](const std::vector<OwnerRef>& refs, const std::string& u) {
      return std::find_if(refs.begin(), refs.end(), [&](const OwnerRef& r) { return r.uid == u; });
    };
    for (const auto& o : old) {
      auto now = find(obj.owners, o.uid);
      if (now == obj.owners.end()) {
        removeDependentLocked(o, uid, out);
      } else if (o.blockOwnerDeletion && !now->blockOwnerDeletion) {
        // No longer blocking: a foreground owner may go now.
        auto owner = nodes_.find(o.uid);
        if (owner != nodes_.end() && owner->second.deletingDependents)
          out.attemptToDelete.push_back(o.uid);
      }
    }
    for (const auto& o : obj.owners)
      if (find(old, o.uid) == old.end()) addDependentLocked(o, obj.ref, out);
  }
  // Re-lookup: adding virtual owners may have rehashed the map.
  Node& n = nodes_.at(uid);
  n.beingDeleted = obj.beingDeleted;
  n.deletingDependents = obj.deletingDependents;
  // Level-triggered versions of upstream's processTransitions: the queues de-duplicate, and
  // the workers' actions are idempotent.
  if (obj.orphaning) out.attemptToOrphan.push_back(uid);
  if (obj.deletingDependents) {
    for (const auto& d : n.dependents) out.attemptToDelete.push_back(d);
    out.attemptToDelete.push_back(uid);
  }
  return out;
}

Actions Graph::forgetLocked(const std::string& uid) {
  Actions out;
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return out;
  Node n = std::move(it->second);
  nodes_.erase(it);
  for (const auto& o : n.owners) removeDependentLocked(o, uid, out);
  // Dependents of a deleted owner: each is checked for other, still existing owners.
  for (const auto& d : n.dependents) out.attemptToDelete.push_back(d);
  return out;
}

Actions Graph::forget(const std::string& uid) {
  std::lock_guard lock(mu_);
  return forgetLocked(uid);
}

Actions Graph::forgetVirtual(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(uid);
  if (it == nodes_.end() || it->second.observed) return {};
  return forgetLocked(uid);
}

std::optional<NodeView> Graph::node(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return std::nullopt;
  const Node& n = it->second;
  NodeView v{n.ref, n.observed, n.beingDeleted, n.deletingDependents, n.owners, {}, {}, false};
  for (const auto& d : n.dependents) {
    auto dep = nodes_.find(d);
    if (dep == nodes_.end()) continue;
    v.dependents.push_back(dep->second.ref);
    if (dep->second.deletingDependents) v.dependentDeletingDependents = true;
    for (const auto& o : dep->second.owners)
      if (o.uid == uid && o.blockOwnerDeletion) v.blockingDependents.push_back(dep->second.ref);
  }
  return v;
}

size_t Graph::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

}  // namespace berth::controllers::gc
