// The registry's subresources with their own body kinds: scale, pods/binding (pods/eviction:
// registry_eviction.cpp).
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

// ---------------------------------------------------------------- scale, binding, eviction

namespace {
int64_t replicasOf(const json::object& obj, std::string_view section) {
  if (const auto* s = core::objectField(obj, section)) {
    if (auto* r = s->if_contains("replicas"); r && r->is_int64()) return r->as_int64();
  }
  return 0;
}
}  // namespace

Result<json::object> Registry::getScale(const ResourceType& rt, const std::string& ns,
                                        const std::string& name) {
  auto obj = get(rt, ns, name);
  if (!obj.ok()) return obj.status();
  auto servedObj = served(rt, **obj);
  if (!servedObj.ok()) return servedObj.status();
  json::object o = std::move(*servedObj);
  if (const auto* paths = rt.behavior ? rt.behavior->scalePaths() : nullptr)
    return crd::scaleOf(*paths, o);
  const auto& meta = metaOf(o);
  json::object scale;
  scale["kind"] = "Scale";
  scale["apiVersion"] = "autoscaling/v1";
  json::object sm;
  sm["name"] = name;
  sm["namespace"] = ns;
  for (const char* k : {"uid", "resourceVersion", "creationTimestamp"})
    if (meta.contains(k)) sm[k] = meta.at(k);
  scale["metadata"] = std::move(sm);
  scale["spec"] = json::object{{"replicas", replicasOf(o, "spec")}};
  std::string selector;
  if (const auto* spec = core::objectField(o, "spec")) {
    if (const auto* sel = core::objectField(*spec, "selector")) {
      if (rt.group.empty()) {  // ReplicationController: a plain map
        core::Labels l;
        for (auto& [k, v] : *sel)
          if (v.is_string()) l[std::string(k)] = std::string(v.as_string());
        for (auto& [k, v] : l) selector += (selector.empty() ? "" : ",") + k + "=" + v;
      } else if (auto s = core::LabelSelector::fromJson(*sel); s.ok()) {
        selector = s->toString();
      }
    }
  }
  json::object status{{"replicas", replicasOf(o, "status")}};
  if (!selector.empty()) status["selector"] = selector;
  scale["status"] = std::move(status);
  return scale;
}

Result<json::object> Registry::updateScale(const ResourceType& rt, const std::string& ns,
                                           const std::string& name, const json::object& scale,
                                           const WriteOptions& opts) {
  const auto* spec = core::objectField(scale, "spec");
  auto* r = spec ? spec->if_contains("replicas") : nullptr;
  int64_t replicas = r && r->is_int64() ? r->as_int64() : 0;
  if (replicas < 0) {
    return Status::invalid("autoscaling", "Scale", name,
                           {cause("FieldValueInvalid", "spec.replicas",
                                  "Invalid value: " + std::to_string(replicas) +
                                      ": must be greater than or equal to 0")});
  }
  std::string wantRv;
  if (const auto* m = core::objectField(scale, "metadata"))
    wantRv = core::stringField(*m, "resourceVersion");
  PatchRequest pr;
  pr.type = PatchType::kMerge;
  json::object meta;
  if (!wantRv.empty()) meta["resourceVersion"] = wantRv;
  pr.patch = json::object{{"spec", json::object{{"replicas", replicas}}}};
  if (const auto* paths = rt.behavior ? rt.behavior->scalePaths() : nullptr)
    pr.patch = crd::replicasPatch(*paths, replicas);
  if (!wantRv.empty()) pr.patch.as_object()["metadata"] = meta;
  WriteOptions wo = opts;
  wo.subresource = "";
  auto res = patch(rt, ns, name, pr, wo);
  if (!res.ok()) return res.status();
  return getScale(rt, ns, name);
}

Result<json::object> Registry::patchScale(const ResourceType& rt, const std::string& ns,
                                          const std::string& name, const PatchRequest& req,
                                          const WriteOptions& opts) {
  // Like any patch: applied to the newest Scale and redone when a concurrent writer wins, unless
  // the patch itself pins a resourceVersion.
  for (int attempt = 0;; ++attempt) {
    auto cur = getScale(rt, ns, name);
    if (!cur.ok()) return cur;
    json::value doc = *cur;
    Result<json::value> patched = Status::badRequest("unsupported patch type for scale");
    if (req.type == PatchType::kJson)
      patched = patch::applyJsonPatch(doc, req.patch);
    else if (req.type == PatchType::kMerge || req.type == PatchType::kStrategic ||
             req.type == PatchType::kApply)
      patched = patch::applyMergePatch(doc, req.patch);
    if (!patched.ok()) return patched.status();
    if (!patched->is_object()) return Status::badRequest("patch result is not an object");
    const auto* pm = core::objectField(patched->as_object(), "metadata");
    const auto* cm = core::objectField(*cur, "metadata");
    if (pm && cm &&
        core::stringField(*pm, "resourceVersion") != core::stringField(*cm, "resourceVersion"))
      return Status::staleResourceVersion(rt.qualifiedResource(), name);
    auto res = updateScale(rt, ns, name, patched->as_object(), opts);
    if (!res.ok() && res.status().isConflict() && res.status().causes().empty() &&
        attempt < kMaxWriteRetries)
      continue;
    return res;
  }
}

Result<json::object> Registry::bind(const std::string& ns, const std::string& name,
                                    const json::object& binding, const WriteOptions& opts) {
  const auto* podType = core::findResource("", "v1", "pods");
  const auto* target = core::objectField(binding, "target");
  std::string node = target ? core::stringField(*target, "name") : "";
  if (node.empty()) {
    return Status::invalid("", "Binding", name,
                           {cause("FieldValueRequired", "target.name", "Required value")});
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto cur = readCurrent(*podType, storageKey(*podType, ns, name), name);
    if (!cur.ok()) return cur.status();
    json::object pod = std::move(cur->obj);
    auto& specV = pod["spec"];
    if (!specV.is_object()) specV = json::object();
    auto& spec = specV.as_object();
    std::string existing = core::stringField(spec, "nodeName");
    if (!existing.empty()) {
      return Status::conflict("pods/binding", name,
                              "pod " + name + " is already assigned to node \"" + existing + "\"");
    }
    if (metaOf(pod).contains("deletionTimestamp")) {
      return Status::conflict("pods/binding", name,
                              "pod " + name + " is being deleted, cannot be assigned to a host");
    }
    spec["nodeName"] = node;
    auto& stV = pod["status"];
    if (!stV.is_object()) stV = json::object();
    auto& conds = stV.as_object()["conditions"];
    if (!conds.is_array()) conds = json::array();
    json::array kept;
    for (auto& c : conds.as_array())
      if (!(c.is_object() && core::stringField(c.as_object(), "type") == "PodScheduled"))
        kept.push_back(c);
    kept.push_back(json::object{{"type", "PodScheduled"},
                                {"status", "True"},
                                {"lastProbeTime", nullptr},
                                {"lastTransitionTime", nowRfc3339()}});
    conds = std::move(kept);
    auto written = persistUpdate(*podType, std::move(pod), cur->modRevision, opts.dryRun);
    if (!written.ok() && written.status().isConflict()) continue;
    if (!written.ok()) return written.status();
    Status ok = Status::generic(201, "", "");
    json::object st = ok.toJson();
    st["status"] = "Success";
    st["code"] = 201;
    st.erase("reason");
    return st;
  }
  return Status::staleResourceVersion("pods", name);
}

}  // namespace berth::apiserver
