#include "apiserver/authz/node_restriction.h"

#include <boost/json.hpp>

#include <set>
#include <vector>

#include "apiserver/authz/node_authorizer.h"
#include "core/json_access.h"
#include "core/local_path.h"

namespace berth::apiserver::authz {
namespace json = boost::json;
using admission::Operation;
namespace {

constexpr std::string_view kRestrictedPrefix = "node-restriction.kubernetes.io/";

std::string podNode(const json::object* pod) {
  if (pod == nullptr) return "";
  const json::object* spec = core::objectField(*pod, "spec");
  return spec ? core::stringField(*spec, "nodeName") : "";
}

std::map<std::string, std::string> labels(const json::object* obj) {
  std::map<std::string, std::string> out;
  const json::object* meta = obj ? core::objectField(*obj, "metadata") : nullptr;
  const json::object* l = meta ? core::objectField(*meta, "labels") : nullptr;
  if (l == nullptr) return out;
  for (const auto& kv : *l)
    if (kv.value().is_string()) out[std::string(kv.key())] = std::string(kv.value().as_string());
  return out;
}

bool restrictedKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return false;
  std::string domain = key.substr(0, slash + 1);
  // node-restriction.kubernetes.io/ and any subdomain of it.
  return domain == kRestrictedPrefix ||
         (domain.size() > kRestrictedPrefix.size() &&
          domain.compare(domain.size() - kRestrictedPrefix.size() - 1, std::string::npos,
                         "." + std::string(kRestrictedPrefix)) == 0);
}

std::string joinKeys(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

core::Status forbidden(std::string message) { return core::Status::forbidden(std::move(message)); }

using core::arrayField;

// What upstream's NodeRestriction asks of a mirror pod beyond its annotation and node: owned by
// its own Node only (as a controller, without blockOwnerDeletion), and no reference to a service
// account, secret, configMap or claim (a node could read them through the pod otherwise).

core::Status checkMirrorPod(const json::object& pod, const std::string& nodeName) {
  const std::string q = "node \"" + nodeName + "\"";
  const json::object* meta = core::objectField(pod, "metadata");
  const json::array* owners = meta ? arrayField(*meta, "ownerReferences") : nullptr;
  if (owners && !owners->empty()) {
    if (owners->size() > 1)
      return forbidden(q + " can only create pods with a single owner reference set to itself");
    const json::object* o = owners->front().if_object();
    if (!o || core::stringField(*o, "apiVersion") != "v1" ||
        core::stringField(*o, "kind") != "Node" || core::stringField(*o, "name") != nodeName)
      return forbidden(q + " can only create pods with an owner reference set to itself");
    const json::value* controller = o->if_contains("controller");
    if (!controller || !controller->is_bool() || !controller->as_bool())
      return forbidden(q + " can only create pods with a controller owner reference set to itself");
    const json::value* block = o->if_contains("blockOwnerDeletion");
    if (block && block->is_bool() && block->as_bool())
      return forbidden(q + " must not set blockOwnerDeletion on an owner reference");
  }
  const json::object* spec = core::objectField(pod, "spec");
  if (spec == nullptr) return {};
  if (!core::stringField(*spec, "serviceAccountName").empty())
    return forbidden(q + " can not create pods that use service accounts");
  bool secrets = false, configMaps = false, claims = false;
  if (const json::array* vols = arrayField(*spec, "volumes"))
    for (const auto& v : *vols) {
      const json::object* vol = v.if_object();
      if (!vol) continue;
      secrets |= vol->contains("secret");
      configMaps |= vol->contains("configMap");
      claims |= vol->contains("persistentVolumeClaim") || vol->contains("ephemeral");
      if (const json::object* proj = core::objectField(*vol, "projected"))
        if (const json::array* sources = arrayField(*proj, "sources"))
          for (const auto& src : *sources)
            if (const json::object* so = src.if_object()) {
              secrets |= so->contains("secret");
              configMaps |= so->contains("configMap");
            }
    }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"})
    if (const json::array* cs = arrayField(*spec, list))
      for (const auto& cv : *cs) {
        const json::object* c = cv.if_object();
        if (!c) continue;
        if (const json::array* env = arrayField(*c, "env"))
          for (const auto& e : *env)
            if (const json::object* eo = e.if_object())
              if (const json::object* from = core::objectField(*eo, "valueFrom")) {
                secrets |= from->contains("secretKeyRef");
                configMaps |= from->contains("configMapKeyRef");
              }
        if (const json::array* envFrom = arrayField(*c, "envFrom"))
          for (const auto& e : *envFrom)
            if (const json::object* eo = e.if_object()) {
              secrets |= eo->contains("secretRef");
              configMaps |= eo->contains("configMapRef");
            }
      }
  if (secrets) return forbidden(q + " can not create pods that reference secrets");
  if (configMaps) return forbidden(q + " can not create pods that reference configmaps");
  if (claims) return forbidden(q + " can not create pods that reference persistentvolumeclaims");
  return {};
}

core::Status checkPod(const admission::Attributes& a, const std::string& node) {
  const std::string q = "node \"" + node + "\"";
  if (a.subresource == "status") {
    if (podNode(a.oldObject) != node)
      return forbidden(q + " can only update pod status for pods with spec.nodeName set to itself");
    return {};
  }
  if (a.subresource == "eviction") {
    if (podNode(a.oldObject) != node && podNode(a.object) != node)
      return forbidden(q + " can only evict pods with spec.nodeName set to itself");
    return {};
  }
  if (!a.subresource.empty()) return {};
  switch (a.operation) {
    case Operation::kCreate: {
      const json::object* meta = core::objectField(*a.object, "metadata");
      const json::object* ann = meta ? core::objectField(*meta, "annotations") : nullptr;
      if (ann == nullptr || !ann->contains("kubernetes.io/config.mirror"))
        return forbidden("pod does not have \"kubernetes.io/config.mirror\" annotation, " + q +
                         " can only create mirror pods");
      if (podNode(a.object) != node)
        return forbidden(q + " can only create pods with spec.nodeName set to itself");
      return checkMirrorPod(*a.object, node);
    }
    case Operation::kDelete:
      if (podNode(a.oldObject) != node)
        return forbidden(q + " can only delete pods with spec.nodeName set to itself");
      return {};
    default:
      return forbidden(q + " can only update pod status");
  }
}

core::Status checkNode(const admission::Attributes& a, const std::string& node) {
  const std::string q = "node \"" + node + "\"";
  if (a.name != node) return forbidden(q + " is not allowed to modify node \"" + a.name + "\"");
  if (a.operation == Operation::kDelete) return {};
  auto now = labels(a.object);
  auto before = labels(a.oldObject);
  std::set<std::string> bad;
  for (const auto& [k, v] : now) {
    auto it = before.find(k);
    if (restrictedKey(k) && (it == before.end() || it->second != v)) bad.insert(k);
  }
  for (const auto& [k, v] : before)
    if (restrictedKey(k) && !now.count(k)) bad.insert(k);
  if (bad.empty()) return {};
  if (a.operation == Operation::kCreate)
    return forbidden("node \"" + node + "\" is not allowed to set the following labels: " +
                     joinKeys(bad));
  return forbidden("node \"" + node + "\" is not allowed to modify labels: " + joinKeys(bad));
}

// The object without what a finalizer removal may change (the server's bookkeeping and the
// finalizers themselves).
json::object withoutFinalizers(const json::object& o) {
  json::object copy = o;
  if (auto* meta = copy.if_contains("metadata"); meta && meta->is_object()) {
    for (const char* key : {"finalizers", "resourceVersion", "managedFields", "generation"})
      meta->as_object().erase(key);
  }
  return copy;
}

std::vector<std::string> finalizers(const json::object* obj) {
  std::vector<std::string> out;
  const json::object* meta = obj ? core::objectField(*obj, "metadata") : nullptr;
  if (const json::array* f = meta ? arrayField(*meta, "finalizers") : nullptr)
    for (const auto& v : *f)
      if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

// A node writes a PersistentVolume only to say it removed a released local-path volume's
// directory (core/local_path.h): on a PV labelled for it, dropping the clean-up finalizer and
// changing nothing else.
core::Status checkVolume(const admission::Attributes& a, const std::string& node) {
  const std::string q = "node \"" + node + "\"";
  if (a.operation != Operation::kUpdate || a.object == nullptr || a.oldObject == nullptr ||
      !a.subresource.empty())
    return forbidden(q + " can only remove the " + core::localpath::kCleanupFinalizer +
                     " finalizer of persistentvolumes");
  auto owner = labels(a.oldObject);
  auto it = owner.find(core::localpath::kLabelCleanupNode);
  if (it == owner.end() || it->second != node)
    return forbidden(q + " can only update persistentvolumes labelled " +
                     core::localpath::kLabelCleanupNode + "=" + node);
  std::vector<std::string> expected;
  for (const auto& f : finalizers(a.oldObject))
    if (f != core::localpath::kCleanupFinalizer) expected.push_back(f);
  if (finalizers(a.object) != expected ||
      withoutFinalizers(*a.object) != withoutFinalizers(*a.oldObject))
    return forbidden(q + " can only remove the " + core::localpath::kCleanupFinalizer +
                     " finalizer of persistentvolume \"" + a.name + "\"");
  return {};
}

}  // namespace

core::Status NodeRestrictionPlugin::validate(const admission::Attributes& a) {
  std::string node = nodeNameOf(a.user.name, a.user.groups);
  if (node.empty() || a.resource == nullptr) return {};
  const std::string& group = a.resource->group;
  const std::string& plural = a.resource->plural;
  if (group.empty() && plural == "pods") return checkPod(a, node);
  if (group.empty() && plural == "nodes") return checkNode(a, node);
  if (group.empty() && plural == "persistentvolumes") return checkVolume(a, node);
  // A dual-stack node's DNS server has an address of each family: one slice per addressType.
  if (group == "discovery.k8s.io" && plural == "endpointslices" &&
      a.name != "kube-dns-" + node && a.name != "kube-dns-" + node + "-ipv6") {
    return forbidden("node \"" + node + "\" may only write the EndpointSlice \"kube-dns-" + node +
                     "\" (and its IPv6 twin \"kube-dns-" + node + "-ipv6\")");
  }
  if (group == "coordination.k8s.io" && plural == "leases") {
    if (a.ns != "kube-node-lease" || a.name != node)
      return forbidden("can only access node lease with the same name as the requesting node");
  }
  return {};
}

}  // namespace berth::apiserver::authz
