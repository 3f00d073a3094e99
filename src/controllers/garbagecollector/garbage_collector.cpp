#include "controllers/garbagecollector/garbage_collector.h"

#include <boost/json.hpp>

#include <iostream>

#include "core/json_access.h"

namespace berth::controllers {

namespace json = boost::json;
using core::Status;

namespace {

// Upstream re-reads discovery every 30 s; a kind met in an ownerReference (or an object of a
// resource not watched yet) asks for it sooner, so CRDs' objects are collected within seconds.
constexpr auto kRediscoverEvery = std::chrono::seconds(30);
constexpr auto kMinRediscoverGap = std::chrono::milliseconds(500);
constexpr size_t kUidSetMax = 10000;

// Upstream's default ignored resources: events change too often and own nothing.
bool ignored(const ApiResource& r) {
  return r.resource.resource == "events" &&
         (r.resource.group.empty() || r.resource.group == "events.k8s.io");
}

std::string uidOf(const json::value& obj) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  return meta ? core::stringField(*meta, "uid") : "";
}

std::string resourceVersionOf(const json::value& obj) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  return meta ? core::stringField(*meta, "resourceVersion") : "";
}

bool hasFinalizer(const json::value& obj, std::string_view f) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  auto* fs = meta ? meta->if_contains("finalizers") : nullptr;
  if (!fs || !fs->is_array()) return false;
  for (const auto& x : fs->as_array())
    if (x.is_string() && x.as_string() == f) return true;
  return false;
}

bool beingDeleted(const json::value& obj) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  return meta && meta->contains("deletionTimestamp");
}

// A merge patch of metadata pinned to `latest`'s resourceVersion, so a concurrent writer makes
// it fail with 409 (and the item is retried against fresh state) instead of being overwritten.
// An emptied list is removed (null), as upstream's omitempty serialization leaves no field.
std::string metadataPatch(const json::value& latest, const char* field, json::array value) {
  json::value v = value.empty() ? json::value(nullptr) : json::value(std::move(value));
  json::object meta{{field, std::move(v)}, {"resourceVersion", resourceVersionOf(latest)}};
  return json::serialize(json::object{{"metadata", std::move(meta)}});
}

// A copy of one of metadata's arrays (ownerReferences, finalizers); empty when absent.
json::array metaArray(const json::value& obj, std::string_view field) {
  const auto* meta = obj.is_object() ? core::objectField(obj.as_object(), "metadata") : nullptr;
  auto* v = meta ? meta->if_contains(field) : nullptr;
  return v && v->is_array() ? v->as_array() : json::array();
}

// Success, or an answer meaning the object is already gone or was replaced.
bool goneOrDone(const Status& st) { return st.ok() || st.isNotFound() || st.isConflict(); }

}  // namespace

GarbageCollector::GarbageCollector(ControllerContext& ctx)
    : ctx_(ctx),
      recorder_(ctx.client, "garbage-collector-controller"),
      deleteWorkers_("garbage_collector_attempt_to_delete", ctx.metrics,
                     [this](const std::string& uid) { return attemptToDelete(uid); }),
      orphanWorkers_("garbage_collector_attempt_to_orphan", ctx.metrics,
                     [this](const std::string& uid) { return attemptToOrphan(uid); }) {}

GarbageCollector::~GarbageCollector() { stop(); }

void GarbageCollector::run() {
  std::lock_guard lock(mu_);
  if (loop_.joinable() || stopping_) return;
  loop_ = std::thread([this] { discoveryLoop(); });
}

void GarbageCollector::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  deleteWorkers_.stop();
  orphanWorkers_.stop();
  std::lock_guard lock(mu_);
  for (auto& [key, m] : monitors_) m.first->removeEventHandler(m.second);
  monitors_.clear();
}

std::shared_ptr<const DiscoveryResult> GarbageCollector::discovery() const {
  std::lock_guard lock(mu_);
  return discovery_;
}

void GarbageCollector::discoveryLoop() {
  while (true) {
    syncMonitors();
    std::unique_lock lock(mu_);
    rediscover_ = false;
    if (cv_.wait_for(lock, kRediscoverEvery, [&] { return stopping_ || rediscover_; })) {
      if (stopping_) return;
      // Asked early (a new kind showed up): at most once per kMinRediscoverGap.
      if (cv_.wait_for(lock, kMinRediscoverGap, [&] { return stopping_; })) return;
    }
  }
}

void GarbageCollector::requestRediscovery() {
  {
    std::lock_guard lock(mu_);
    rediscover_ = true;
  }
  cv_.notify_all();
}

// Starts an informer (with our handler) for every new deletable resource and drops the
// handlers of resources no longer served; the workers start once the first set has synced, so
// no orphaning decision is taken on a graph that has not seen every dependent yet.
void GarbageCollector::syncMonitors() {
  auto found = discoverResources(ctx_.client);
  if (!found.ok()) {
    std::cerr << "garbage collector: discovery failed: " << found.status().message() << "\n";
    return;
  }
  auto d = found.value();
  std::vector<const client::SharedInformer*> added;
  std::map<std::string, bool> wanted;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    discovery_ = d;
  }
  for (const auto& r : d->resources) {
    if (ignored(r) || !r.hasVerb("list") || !r.hasVerb("watch") || !r.hasVerb("delete")) continue;
    std::string key = r.resource.group + "/" + r.resource.version + "/" + r.resource.resource;
    wanted[key] = true;
    std::lock_guard lock(mu_);
    if (monitors_.count(key)) continue;
    auto& informer = ctx_.informers.forResource(r.resource);
    std::string apiVersion =
        r.resource.group.empty() ? r.resource.version : r.resource.group + "/" + r.resource.version;
    std::string kind = r.kind;
    auto observe = [this, apiVersion, kind](const client::ObjectPtr& obj) {
      if (auto o = gc::observedFrom(*obj, apiVersion, kind)) apply(graph_.observe(*o));
    };
    client::EventHandler h;
    h.onAdd = observe;
    h.onUpdate = [observe](const client::ObjectPtr&, const client::ObjectPtr& obj) {
      observe(obj);
    };
    h.onDelete = [this](const client::DeletedObject& del) {
      if (del.object) apply(graph_.forget(uidOf(*del.object)));
    };
    monitors_[key] = {&informer, informer.addEventHandler(std::move(h))};
    added.push_back(&informer);
  }
  {
    std::lock_guard lock(mu_);
    for (auto it = monitors_.begin(); it != monitors_.end();) {
      if (wanted.count(it->first)) {
        ++it;
        continue;
      }
      it->second.first->removeEventHandler(it->second.second);
      it = monitors_.erase(it);
    }
  }
  if (!added.empty()) {
    ctx_.informers.start();
    client::waitForCacheSync(added, std::chrono::seconds(30));
  }
  std::lock_guard lock(mu_);
  if (!workersStarted_ && !stopping_) {
    workersStarted_ = true;
    deleteWorkers_.start(std::max(ctx_.workers, 5));
    orphanWorkers_.start(2);
  }
}

bool GarbageCollector::UidSet::contains(const std::string& uid) const {
  std::lock_guard lock(mu_);
  return uids_.count(uid) > 0;
}

void GarbageCollector::UidSet::insert(const std::string& uid) {
  std::lock_guard lock(mu_);
  if (uids_.size() >= kUidSetMax) uids_.clear();
  uids_.insert(uid);
}

void GarbageCollector::apply(const gc::Actions& actions) {
  for (const auto& uid : actions.attemptToDelete) deleteWorkers_.enqueue(uid);
  for (const auto& uid : actions.attemptToOrphan) orphanWorkers_.enqueue(uid);
}

// Upstream's attemptToDeleteItem: read the item live, classify its owners by live reads
// (solid, dangling = gone or replaced, waiting = deleting in foreground) and either fix its
// references, or delete it.
Status GarbageCollector::attemptToDelete(const std::string& uid) {
  auto item = graph_.node(uid);
  if (!item) return {};
  auto d = discovery();
  if (!d) return Status::unavailable("discovery has not run yet");
  const ApiResource* m = d->forKind(item->ref.apiVersion, item->ref.kind);
  if (!m) {
    requestRediscovery();
    return Status::notFound("", item->ref.apiVersion + "/" + item->ref.kind);
  }
  std::string ns = m->resource.namespaced ? item->ref.namespace_ : "";
  auto forgetIt = [&] {
    apply(item->observed ? graph_.forget(uid) : graph_.forgetVirtual(uid));
    return Status();
  };
  // A namespaced owner named by a cluster-scoped dependent cannot exist (upstream: invalid).
  if (m->resource.namespaced && ns.empty()) return forgetIt();
  auto latest = ctx_.client.get(m->resource, ns, item->ref.name);
  if (!latest.ok() && !latest.status().isNotFound()) return latest.status();
  if (!latest.ok() || uidOf(*latest) != uid) return forgetIt();
  if (!item->observed) {
    // It exists; check again until an informer reports it (upstream requeues the same way).
    // Its resource may not be watched yet (a CRD created since the last discovery).
    requestRediscovery();
    deleteWorkers_.queue().addAfter(uid, std::chrono::seconds(1));
    return {};
  }
  // Being deleted is a one-way trip: its dependents are looked at when it is gone.
  if (item->beingDeleted && !item->deletingDependents) return {};
  if (item->deletingDependents) return processDeletingDependents(*item, *latest);

  if (gc::ownerRefsOf(*latest).empty()) return {};
  auto owners = classifyOwners(*d, ns, *latest);
  if (!owners.ok()) return owners.status();
  if (owners->invalid) return {};
  if (!owners->orphaned.empty()) {
    // Owners deleted with the Orphan policy: drop their references first (as attemptToOrphan
    // would have), then look at what is left.
    auto left = removeOwnerRefs(*m, ns, item->ref.name, *latest, owners->orphaned);
    if (!left.ok()) return left.status();
    if (*left > 0) deleteWorkers_.enqueue(uid);
    return {};
  }
  if (!owners->solid.empty()) {
    if (owners->dangling.empty() && owners->waiting.empty()) return {};
    // Still owned: drop only the references to owners that are gone or deleting in foreground.
    std::set<std::string> drop;
    for (const auto* list : {&owners->dangling, &owners->waiting})
      for (const auto& o : *list) drop.insert(o.uid);
    return removeOwnerRefs(*m, ns, item->ref.name, *latest, drop).status();
  }
  return deleteItem(*item, *m, ns, *latest, !owners->waiting.empty());
}

// Upstream's classifyReferences, by live reads: solid owners exist, dangling ones are gone or
// replaced (a new uid), waiting ones are deleting in foreground; orphaned ones were deleted
// with the Orphan policy. `invalid` when the item is cluster-scoped and names a namespaced owner.
core::Result<GarbageCollector::OwnerClasses> GarbageCollector::classifyOwners(
    const DiscoveryResult& d, const std::string& ns, const json::value& latest) {
  OwnerClasses out;
  for (const auto& o : gc::ownerRefsOf(latest)) {
    if (orphanedOwners_.contains(o.uid)) {
      out.orphaned.insert(o.uid);
      continue;
    }
    const ApiResource* om = d.forKind(o.apiVersion, o.kind);
    if (!om) {
      requestRediscovery();
      return Status::notFound("", o.apiVersion + "/" + o.kind);
    }
    if (om->resource.namespaced && ns.empty()) {
      // A cluster-scoped object naming a namespaced owner: an error no retry resolves. Upstream
      // reports it and leaves the object alone (it is never collected).
      reportInvalidNamespaceOwnerRef(latest, o);
      out.invalid = true;
      return out;
    }
    if (absentOwners_.contains(o.uid)) {
      out.dangling.push_back(o);
      continue;
    }
    auto owner = ctx_.client.get(om->resource, om->resource.namespaced ? ns : "", o.name);
    if (!owner.ok() && !owner.status().isNotFound()) return owner.status();
    if (!owner.ok() || uidOf(*owner) != o.uid) {
      // The owner's uid known in another namespace: a cross-namespace reference, treated as
      // absent, and reported as upstream's graph builder does.
      if (auto known = graph_.node(o.uid);
          om->resource.namespaced && known && known->observed && known->ref.namespace_ != ns) {
        reportInvalidNamespaceOwnerRef(latest, o);
      }
      absentOwners_.insert(o.uid);
      out.dangling.push_back(o);
    } else if (beingDeleted(*owner) && hasFinalizer(*owner, "foregroundDeletion")) {
      out.waiting.push_back(o);
    } else {
      out.solid.push_back(o);
    }
  }
  return out;
}

// No owner is left standing: delete the item, with the policy its own state asks for.
Status GarbageCollector::deleteItem(const gc::NodeView& item, const ApiResource& m,
                                    const std::string& ns, const json::value& latest,
                                    bool ownerWaiting) {
  std::string policy = "Background";
  if (ownerWaiting && !item.dependents.empty()) {
    // An owner waits for us and we have dependents of our own: go in foreground too. A
    // dependent doing the same may be a cycle; unblock our references first (upstream does).
    if (item.dependentDeletingDependents) {
      json::array refs;
      for (const auto& v : metaArray(latest, "ownerReferences")) {
        json::value c = v;
        if (c.is_object()) c.as_object()["blockOwnerDeletion"] = false;
        refs.push_back(std::move(c));
      }
      auto r = ctx_.client.patch(m.resource, ns, item.ref.name, client::PatchType::kMerge,
                                 metadataPatch(latest, "ownerReferences", std::move(refs)));
      if (!goneOrDone(r.status())) return r.status();
    }
    policy = "Foreground";
  } else if (hasFinalizer(latest, "orphan")) {
    policy = "Orphan";
  } else if (hasFinalizer(latest, "foregroundDeletion")) {
    policy = "Foreground";
  }
  json::value options = json::object{{"kind", "DeleteOptions"},
                                     {"apiVersion", "v1"},
                                     {"propagationPolicy", policy},
                                     {"preconditions", json::object{{"uid", uidOf(latest)}}}};
  auto r = ctx_.client.remove(m.resource, ns, item.ref.name, &options);
  return goneOrDone(r.status()) ? Status() : r.status();
}

void GarbageCollector::reportInvalidNamespaceOwnerRef(const json::value& dependent,
                                                      const gc::OwnerRef& o) {
  std::string ns(client::objectNamespace(dependent));
  // upstream objectReference.String(): "[apiVersion/kind, namespace: ns, name: n, uid: u]",
  // with the dependent's namespace.
  recorder_.record(dependent, "Warning", "OwnerRefInvalidNamespace",
                   "ownerRef [" + o.apiVersion + "/" + o.kind + ", namespace: " + ns + ", name: " +
                       o.name + ", uid: " + o.uid + "] does not exist in namespace \"" + ns + "\"");
}

// An owner deleting in foreground: its finalizer goes once no blocking dependent is left;
// until then the blocking dependents are (re)queued for deletion.
Status GarbageCollector::processDeletingDependents(const gc::NodeView& item,
                                                   const json::value& latest) {
  if (!item.blockingDependents.empty()) {
    for (const auto& dep : item.blockingDependents) deleteWorkers_.enqueue(dep.uid);
    return {};
  }
  auto d = discovery();
  const ApiResource* m = d ? d->forKind(item.ref.apiVersion, item.ref.kind) : nullptr;
  if (!m) return Status::notFound("", item.ref.apiVersion + "/" + item.ref.kind);
  return removeFinalizer(*m, m->resource.namespaced ? item.ref.namespace_ : "", item.ref.name,
                         latest, "foregroundDeletion");
}

Status GarbageCollector::removeFinalizer(const ApiResource& m, const std::string& ns,
                                         const std::string& name, const json::value& latest,
                                         std::string_view finalizer) {
  json::array kept;
  for (const auto& f : metaArray(latest, "finalizers"))
    if (!(f.is_string() && f.as_string() == finalizer)) kept.push_back(f);
  auto r = ctx_.client.patch(m.resource, ns, name, client::PatchType::kMerge,
                             metadataPatch(latest, "finalizers", std::move(kept)));
  return r.ok() || r.status().isNotFound() ? Status() : r.status();
}

// Patches `latest`'s ownerReferences without those naming `uids` (pinned to its
// resourceVersion; no patch when none does). The references left, 0 once the object is gone.
core::Result<size_t> GarbageCollector::removeOwnerRefs(const ApiResource& m, const std::string& ns,
                                                       const std::string& name,
                                                       const json::value& latest,
                                                       const std::set<std::string>& uids) {
  json::array refs = metaArray(latest, "ownerReferences"), kept;
  for (const auto& v : refs)
    if (!(v.is_object() && uids.count(core::stringField(v.as_object(), "uid")))) kept.push_back(v);
  size_t left = kept.size();
  if (left == refs.size()) return left;
  auto r = ctx_.client.patch(m.resource, ns, name, client::PatchType::kMerge,
                             metadataPatch(latest, "ownerReferences", std::move(kept)));
  if (!r.ok()) {
    if (r.status().isNotFound()) return size_t{0};
    return r.status();
  }
  return left;
}

// Upstream's attemptToOrphan: remove the owner's reference from each dependent, then the
// owner's `orphan` finalizer (which lets the API server delete it).
Status GarbageCollector::attemptToOrphan(const std::string& uid) {
  auto owner = graph_.node(uid);
  if (!owner) return {};
  auto d = discovery();
  if (!d) return Status::unavailable("discovery has not run yet");
  for (const auto& dep : owner->dependents) {
    const ApiResource* m = d->forKind(dep.apiVersion, dep.kind);
    if (!m) continue;
    std::string ns = m->resource.namespaced ? dep.namespace_ : "";
    auto latest = ctx_.client.get(m->resource, ns, dep.name);
    if (!latest.ok() && latest.status().isNotFound()) continue;
    if (!latest.ok()) return latest.status();
    if (uidOf(*latest) != dep.uid) continue;
    if (auto left = removeOwnerRefs(*m, ns, dep.name, *latest, {uid}); !left.ok())
      return left.status();
  }
  const ApiResource* m = d->forKind(owner->ref.apiVersion, owner->ref.kind);
  if (!m) return Status::notFound("", owner->ref.apiVersion + "/" + owner->ref.kind);
  std::string ns = m->resource.namespaced ? owner->ref.namespace_ : "";
  auto latest = ctx_.client.get(m->resource, ns, owner->ref.name);
  if (!latest.ok()) return latest.status().isNotFound() ? Status() : latest.status();
  if (uidOf(*latest) != uid || !hasFinalizer(*latest, "orphan")) return {};
  orphanedOwners_.insert(uid);
  return removeFinalizer(*m, ns, owner->ref.name, *latest, "orphan");
}

}  // namespace berth::controllers
