// Namespace deletion run by the API server (see the comment on finalizeNamespaceAsync).
#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "apiserver/crd/custom_resource.h"
#include "apiserver/patch/patch.h"
#include "apiserver/registry.h"
#include "apiserver/registry_internal.h"
#include "core/json_access.h"
#include "core/labels.h"
#include "core/resource_behavior.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::ResourceType;
using namespace registry_detail;

// Namespace deletion: remove every namespaced object in it, then the "kubernetes" finalizer
// (through finalize, as the namespace controller does), then the namespace itself. Upstream does
// this in the namespace controller; Berth runs the same loop in the server until that controller
// exists, through the same registry calls a controller would make. The loop runs until the
// namespace is gone (with backoff while objects wait on their own finalizers or grace periods),
// one per namespace; bootstrap() restarts it for namespaces left terminating by a restart.
void Registry::finalizeNamespaceAsync(const std::string& name) {
  std::lock_guard lock(bgMu_);
  if (stopping_ || !finalizing_.insert(name).second) return;
  background_.emplace_back([this, name] {
    auto backoff = std::chrono::milliseconds(50);
    while (true) {
      bool done = finalizeNamespaceOnce(name);
      std::unique_lock l(bgMu_);
      if (done || stopping_) {
        finalizing_.erase(name);
        return;
      }
      bgCv_.wait_for(l, backoff, [&] { return stopping_; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  });
}

// One round of namespace deletion; true when the namespace is gone (or no longer terminating).
bool Registry::finalizeNamespaceOnce(const std::string& name) {
  const auto* nsType = core::findResource("", "v1", "namespaces");
  std::string key = storageKey(*nsType, "", name);
  auto cur = readCurrent(*nsType, key, name);
  if (!cur.ok()) return cur.status().isNotFound();
  const auto* meta = core::objectField(cur->obj, "metadata");
  if (!meta || !meta->contains("deletionTimestamp")) return true;
  bool remaining = false;
  for (const auto& rt : core::allResources()) {
    if (!rt.namespaced || !rt.isStorageVersion() || rt.virtualResource) continue;
    ListRequest lr;
    lr.namespace_ = name;
    DeleteOptions d;
    d.gracePeriodSeconds = 0;
    auto listed = list(rt, lr);
    if (!listed.ok()) {
      remaining = true;
      continue;
    }
    for (const auto& o : listed->items) {
      remaining = true;
      (void)remove(rt, o->namespace_, o->name, d);
    }
  }
  if (remaining) return false;
  // Content gone: drop our "kubernetes" finalizer; the update deletes the namespace once no
  // other spec or metadata finalizer is left (shouldDeleteDuringUpdate).
  json::object req = cur->obj;
  json::array kept;
  if (const auto* spec = core::objectField(cur->obj, "spec")) {
    if (auto* f = spec->if_contains("finalizers"); f && f->is_array())
      for (const auto& x : f->as_array())
        if (!(x.is_string() && x.as_string() == "kubernetes")) kept.push_back(x);
  }
  bool hadKube = true;
  if (const auto* spec = core::objectField(cur->obj, "spec")) {
    auto* f = spec->if_contains("finalizers");
    hadKube = f && f->is_array() && f->as_array().size() != kept.size();
  }
  if (hadKube) {
    metaOf(req).erase("resourceVersion");
    auto& specV = req["spec"];
    if (!specV.is_object()) specV = json::object();
    specV.as_object()["finalizers"] = std::move(kept);
    WriteOptions wo;
    wo.subresource = "finalize";
    auto r = update(*nsType, "", name, std::move(req), wo);
    if (!r.ok()) return r.status().isNotFound();
    auto again = readCurrent(*nsType, key, name);
    return !again.ok() && again.status().isNotFound();
  }
  // Nothing of ours left: the namespace goes when its other finalizers do (their owners' updates
  // delete it); a namespace with none left (e.g. after a crash between the two) is removed here.
  if (!hasFinalizers(cur->obj) && kept.empty()) {
    auto gone = deleteNow(*nsType, key, name, cur->modRevision);
    return gone.ok() || gone.status().isNotFound();
  }
  return false;
}

}  // namespace berth::apiserver
