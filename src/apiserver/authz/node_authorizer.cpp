#include "apiserver/authz/node_authorizer.h"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac_rules.h"
#include "core/json_access.h"
#include "core/local_path.h"

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

constexpr std::string_view kNodePrefix = "system:node:";
using Ref = NodeGraph::Ref;

using core::arrayField;

template <typename Fn>
void eachObject(const json::object* o, std::string_view key, Fn&& fn) {
  if (o == nullptr) return;
  if (const json::array* a = arrayField(*o, key))
    for (const auto& e : *a)
      if (e.is_object()) fn(e.as_object());
}

// What a pod's spec references: volumes, env, envFrom, image pull secrets, its ServiceAccount
// (upstream graph_populator's podutil.VisitPodSecretNames / VisitPodConfigmapNames).
std::vector<std::pair<Ref, std::string>> podRefs(const std::string& ns, const json::object& spec) {
  std::vector<std::pair<Ref, std::string>> refs;
  auto add = [&](Ref r, const std::string& name) {
    if (!name.empty()) refs.emplace_back(r, ns + "/" + name);
  };
  eachObject(&spec, "imagePullSecrets", [&](const json::object& s) {
    add(Ref::kSecret, core::stringField(s, "name"));
  });
  eachObject(&spec, "volumes", [&](const json::object& v) {
    if (auto* s = core::objectField(v, "secret")) add(Ref::kSecret, core::stringField(*s, "secretName"));
    if (auto* c = core::objectField(v, "configMap")) add(Ref::kConfigMap, core::stringField(*c, "name"));
    if (auto* p = core::objectField(v, "persistentVolumeClaim"))
      add(Ref::kPvc, core::stringField(*p, "claimName"));
    eachObject(core::objectField(v, "projected"), "sources", [&](const json::object& src) {
      if (auto* s = core::objectField(src, "secret")) add(Ref::kSecret, core::stringField(*s, "name"));
      if (auto* c = core::objectField(src, "configMap"))
        add(Ref::kConfigMap, core::stringField(*c, "name"));
    });
    for (const char* plugin : {"cephfs", "rbd", "iscsi", "flexVolume", "azureFile", "scaleIO",
                               "storageos", "csi"}) {
      if (auto* p = core::objectField(v, plugin)) {
        std::string key = std::string(plugin) == "azureFile" ? "secretName" : "";
        if (!key.empty()) add(Ref::kSecret, core::stringField(*p, key));
        if (auto* ref = core::objectField(*p, "secretRef")) add(Ref::kSecret, core::stringField(*ref, "name"));
        if (auto* ref = core::objectField(*p, "nodePublishSecretRef"))
          add(Ref::kSecret, core::stringField(*ref, "name"));
      }
    }
  });
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    eachObject(&spec, list, [&](const json::object& c) {
      eachObject(&c, "env", [&](const json::object& e) {
        const json::object* from = core::objectField(e, "valueFrom");
        if (from == nullptr) return;
        if (auto* s = core::objectField(*from, "secretKeyRef")) add(Ref::kSecret, core::stringField(*s, "name"));
        if (auto* m = core::objectField(*from, "configMapKeyRef"))
          add(Ref::kConfigMap, core::stringField(*m, "name"));
      });
      eachObject(&c, "envFrom", [&](const json::object& e) {
        if (auto* s = core::objectField(e, "secretRef")) add(Ref::kSecret, core::stringField(*s, "name"));
        if (auto* m = core::objectField(e, "configMapRef")) add(Ref::kConfigMap, core::stringField(*m, "name"));
      });
    });
  }
  std::string sa = core::stringField(spec, "serviceAccountName");
  add(Ref::kServiceAccount, sa.empty() ? "default" : sa);
  return refs;
}

bool hasGroup(const std::vector<std::string>& groups, std::string_view g) {
  return std::find(groups.begin(), groups.end(), g) != groups.end();
}

Verdict noRelationship(const std::string& node) {
  return {Decision::kNoOpinion, "no relationship found between node '" + node + "' and this object"};
}

// A parsed field selector requirement pinning spec.nodeName to exactly `node` (upstream looks
// at the requirements only, so an unparsable selector never selects a node).
bool selectsNode(const Attributes& a, const std::string& node) {
  for (const auto& r : a.fieldRequirements)
    if (r.field == "spec.nodeName" && r.equals && r.value == node) return true;
  return false;
}

// A label selector requirement pinning the local-path clean-up label to exactly `node`.
bool selectsCleanupNode(const Attributes& a, const std::string& node) {
  using Op = core::LabelSelector::Op;
  for (const auto& r : a.labelRequirements)
    if (r.key == core::localpath::kLabelCleanupNode && (r.op == Op::kEquals || r.op == Op::kIn) &&
        r.values.size() == 1 && r.values[0] == node)
      return true;
  return false;
}

}  // namespace

// Upstream lets a node get the PVs its pods use. Berth's nodes also remove the directories of
// released local-path volumes they hold (core/local_path.h): for that, and nothing more, a node
// lists and watches the PVs labelled for it (only with that label selector) and updates one
// such PV (NodeRestriction then allows nothing but dropping the clean-up finalizer).
Verdict NodeAuthorizer::authorizeVolume(const Attributes& a, const std::string& node) const {
  if (!a.subresource.empty())
    return {Decision::kNoOpinion, "can only get individual resources of this type"};
  if ((a.verb == "list" || a.verb == "watch") && a.name.empty()) {
    if (selectsCleanupNode(a, node)) return {Decision::kAllow, ""};
    return {Decision::kNoOpinion, "can only list/watch persistentvolumes with the " +
                                      std::string(core::localpath::kLabelCleanupNode) +
                                      " label selector"};
  }
  if (a.verb == "update")
    return graph_.pvCleanupOnNode(node, a.name) ? Verdict{Decision::kAllow, ""}
                                                : noRelationship(node);
  if (a.verb != "get")
    return {Decision::kNoOpinion, "can only get individual resources of this type"};
  return graph_.pvOnNode(node, a.name) ? Verdict{Decision::kAllow, ""} : noRelationship(node);
}

std::string nodeNameOf(const std::string& name, const std::vector<std::string>& groups) {
  if (name.size() <= kNodePrefix.size() || name.compare(0, kNodePrefix.size(), kNodePrefix) != 0)
    return "";
  if (!hasGroup(groups, "system:nodes")) return "";
  return name.substr(kNodePrefix.size());
}

std::string nodeNameOf(const http::UserInfo& user) { return nodeNameOf(user.name, user.groups); }

void NodeGraph::unlink(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  auto& counts = byNode_[it->second.node];
  for (const auto& ref : it->second.refs)
    if (--counts[ref] <= 0) counts.erase(ref);
  if (counts.empty()) byNode_.erase(it->second.node);
  pods_.erase(it);
}

void NodeGraph::podChanged(const std::string& key, std::string_view text) {
  // Every pod write comes here; one not bound to a node (no nodeName anywhere in the stored
  // JSON, which the server itself serialized) belongs to no node: skip the parse.
  if (text.find("\"nodeName\"") == std::string_view::npos) {
    podDeleted(key);
    return;
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  std::unique_lock lock(mu_);
  unlink(key);
  if (ec || !v.is_object()) return;
  const json::object* spec = core::objectField(v.as_object(), "spec");
  if (spec == nullptr) return;
  std::string node = core::stringField(*spec, "nodeName");
  if (node.empty()) return;  // unscheduled pods belong to no node
  std::string ns = key.substr(0, key.find('/'));
  Pod pod{node, podRefs(ns, *spec)};
  auto& counts = byNode_[node];
  for (const auto& ref : pod.refs) ++counts[ref];
  pods_[key] = std::move(pod);
}

void NodeGraph::podDeleted(const std::string& key) {
  std::unique_lock lock(mu_);
  unlink(key);
}

void NodeGraph::pvcChanged(const std::string& key, std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  std::string volume;
  if (!ec && v.is_object())
    if (const json::object* spec = core::objectField(v.as_object(), "spec"))
      volume = core::stringField(*spec, "volumeName");
  std::unique_lock lock(mu_);
  pvcVolume_[key] = volume;
}

void NodeGraph::pvcDeleted(const std::string& key) {
  std::unique_lock lock(mu_);
  pvcVolume_.erase(key);
}

void NodeGraph::pvChanged(const std::string& name, std::string_view text) {
  std::string node;
  // Most PVs carry no clean-up label: skip their parse (the server serialized the JSON).
  if (text.find(core::localpath::kLabelCleanupNode) != std::string_view::npos) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    const json::object* meta =
        !ec && v.is_object() ? core::objectField(v.as_object(), "metadata") : nullptr;
    const json::object* labels = meta ? core::objectField(*meta, "labels") : nullptr;
    if (labels) node = core::stringField(*labels, core::localpath::kLabelCleanupNode);
  }
  std::unique_lock lock(mu_);
  if (node.empty()) {
    pvCleanupNode_.erase(name);
  } else {
    pvCleanupNode_[name] = node;
  }
}

void NodeGraph::pvDeleted(const std::string& name) {
  std::unique_lock lock(mu_);
  pvCleanupNode_.erase(name);
}

bool NodeGraph::pvCleanupOnNode(const std::string& node, const std::string& pv) const {
  std::shared_lock lock(mu_);
  auto it = pvCleanupNode_.find(pv);
  return it != pvCleanupNode_.end() && it->second == node;
}

bool NodeGraph::podOnNode(const std::string& node, const std::string& ns,
                          const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = pods_.find(ns + "/" + name);
  return it != pods_.end() && it->second.node == node;
}

bool NodeGraph::references(const std::string& node, Ref kind, const std::string& ns,
                           const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = byNode_.find(node);
  return it != byNode_.end() && it->second.count({kind, ns + "/" + name}) > 0;
}

bool NodeGraph::pvOnNode(const std::string& node, const std::string& pv) const {
  std::shared_lock lock(mu_);
  auto it = byNode_.find(node);
  if (it == byNode_.end() || pv.empty()) return false;
  for (const auto& [ref, count] : it->second) {
    if (ref.first != Ref::kPvc) continue;
    auto vol = pvcVolume_.find(ref.second);
    if (vol != pvcVolume_.end() && vol->second == pv) return true;
  }
  return false;
}

void NodeAuthorizer::rulesFor(const http::UserInfo& user, const std::string& ns,
                              RuleSet& out) const {
  (void)ns;
  if (nodeNameOf(user).empty()) return;
  out.incomplete = true;
  out.errors.push_back("node authorizer does not support user rule resolution");
}

Verdict NodeAuthorizer::authorize(const Attributes& a) const {
  std::string node = nodeNameOf(a.user);
  if (node.empty()) return {};
  if (a.resourceRequest && a.apiGroup.empty()) {
    const bool read = a.verb == "get" || a.verb == "list" || a.verb == "watch";
    auto graphRead = [&](Ref kind) -> Verdict {
      if (!read || a.name.empty() || !a.subresource.empty())
        return {Decision::kNoOpinion, "can only read individual objects"};
      if (graph_.references(node, kind, a.ns, a.name)) return {Decision::kAllow, ""};
      return noRelationship(node);
    };
    if (a.resource == "secrets") return graphRead(Ref::kSecret);
    if (a.resource == "configmaps") return graphRead(Ref::kConfigMap);
    if (a.resource == "persistentvolumeclaims") {
      if (a.subresource == "status") {
        if ((a.verb == "update" || a.verb == "patch") &&
            graph_.references(node, Ref::kPvc, a.ns, a.name))
          return {Decision::kAllow, ""};
        return noRelationship(node);
      }
      if (a.verb != "get" || !a.subresource.empty()) return {Decision::kNoOpinion, "can only get individual resources of this type"};
      return graph_.references(node, Ref::kPvc, a.ns, a.name) ? Verdict{Decision::kAllow, ""}
                                                               : noRelationship(node);
    }
    if (a.resource == "persistentvolumes") return authorizeVolume(a, node);
    if (a.resource == "serviceaccounts" && a.subresource == "token") {
      if (a.verb != "create") return {Decision::kNoOpinion, "can only create tokens for individual service accounts"};
      return graph_.references(node, Ref::kServiceAccount, a.ns, a.name)
                 ? Verdict{Decision::kAllow, ""}
                 : noRelationship(node);
    }
    if (a.resource == "pods") {
      if (a.verb == "get" && a.subresource.empty()) {
        return graph_.podOnNode(node, a.ns, a.name) ? Verdict{Decision::kAllow, ""}
                                                    : noRelationship(node);
      }
      // A node lists and watches only the pods bound to it (upstream 1.32's
      // AuthorizeNodeWithSelectors), or one pod (metadata.name) known to be on it.
      if (a.subresource.empty() && (a.verb == "list" || a.verb == "watch")) {
        if (selectsNode(a, node)) return {Decision::kAllow, ""};
        if (!a.name.empty())
          return graph_.podOnNode(node, a.ns, a.name) ? Verdict{Decision::kAllow, ""}
                                                      : noRelationship(node);
        return {Decision::kNoOpinion,
                "can only list/watch pods with spec.nodeName field selector"};
      }
      if (a.subresource == "status" && !graph_.podOnNode(node, a.ns, a.name))
        return noRelationship(node);
    }
  }
  if (a.resourceRequest && a.apiGroup == "coordination.k8s.io" && a.resource == "leases") {
    if (a.ns != "kube-node-lease")
      return {Decision::kNoOpinion, "can only access leases in the kube-node-lease namespace"};
    if (a.verb != "create" && a.name != node)
      return {Decision::kNoOpinion, "can only access node lease with the same name as the requesting node"};
  }
  if (rulesAllow(nodeRules(), a)) return {Decision::kAllow, ""};
  return {};
}

}  // namespace berth::apiserver::authz
