#pragma once
// The Node authorizer (upstream plugin/pkg/auth/authorizer/node): a node — user
// system:node:<name> in group system:nodes — reads only the pods bound to it and the Secrets,
// ConfigMaps, PersistentVolumeClaims, PersistentVolumes and ServiceAccount tokens those pods
// use, and touches only its own Lease; everything else it may do is upstream's NodeRules()
// (bootstrap_policy.h), with writes narrowed further by the NodeRestriction admission plugin.
//
// NodeGraph is the small graph behind it (pods → node, pods → the objects they reference,
// PVC → PV, and PV → the node that is to remove its local-path directory), fed with pod, PVC
// and PV objects from the watch cache.
//
// Thread-safety: the graph is updated from the cache's feed thread and read from request
// threads under one shared mutex.
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authz/authorizer.h"

namespace berth::apiserver::authz {

// "system:node:<name>" in group system:nodes → "<name>"; else "".
std::string nodeNameOf(const http::UserInfo& user);
std::string nodeNameOf(const std::string& name, const std::vector<std::string>& groups);

class NodeGraph {
 public:
  enum class Ref { kSecret, kConfigMap, kPvc, kServiceAccount };

  // Keys are "<namespace>/<name>". `json` is the stored object.
  void podChanged(const std::string& key, std::string_view json);
  void podDeleted(const std::string& key);
  void pvcChanged(const std::string& key, std::string_view json);
  void pvcDeleted(const std::string& key);
  // PVs: only the local-path clean-up label (core/local_path.h) is kept.
  void pvChanged(const std::string& name, std::string_view json);
  void pvDeleted(const std::string& name);

  bool podOnNode(const std::string& node, const std::string& ns, const std::string& name) const;
  bool references(const std::string& node, Ref kind, const std::string& ns,
                  const std::string& name) const;
  bool pvOnNode(const std::string& node, const std::string& pv) const;
  // The PV is labelled for its local-path directory to be removed by `node`.
  bool pvCleanupOnNode(const std::string& node, const std::string& pv) const;

 private:
  struct Pod {
    std::string node;
    std::vector<std::pair<Ref, std::string>> refs;  // (kind, "ns/name")
  };
  void unlink(const std::string& key);

  mutable std::shared_mutex mu_;
  std::map<std::string, Pod> pods_;
  // node → (kind, "ns/name") → how many of its pods reference it.
  std::map<std::string, std::map<std::pair<Ref, std::string>, int>> byNode_;
  std::map<std::string, std::string> pvcVolume_;  // "ns/name" → spec.volumeName
  std::map<std::string, std::string> pvCleanupNode_;  // PV name → node (only labelled PVs)
};

class NodeAuthorizer : public Authorizer {
 public:
  explicit NodeAuthorizer(const NodeGraph& graph) : graph_(graph) {}
  Verdict authorize(const Attributes& a) const override;
  // A node's permissions depend on its pods: not enumerable (upstream says the same).
  void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const override;

 private:
  Verdict authorizeVolume(const Attributes& a, const std::string& node) const;

  const NodeGraph& graph_;
};

}  // namespace berth::apiserver::authz
