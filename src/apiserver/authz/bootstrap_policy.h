#pragma once
// The bootstrap RBAC policy: the ClusterRoles, ClusterRoleBindings, Roles and RoleBindings every
// cluster starts with, after upstream's plugin/pkg/auth/authorizer/rbac/bootstrappolicy (policy.go,
// controller_policy.go, namespace_policy.go) as of Kubernetes 1.32, restricted to what Berth
// serves. Every object is labelled kubernetes.io/bootstrapping=rbac-defaults and annotated
// rbac.authorization.k8s.io/autoupdate=true; the server reconciles them on every start.
//
// Berth-specific differences (docs/decisions.md): the in-process controller manager runs every
// controller under the one identity system:kube-controller-manager, so that user is a subject of
// each system:controller:* binding next to the controller's ServiceAccount; node agents run the
// service proxy and cluster DNS, so system:node-proxier and system:kube-dns are also bound to the
// group system:nodes.
#include <boost/json/object.hpp>

#include <vector>

#include "apiserver/authz/rbac_rules.h"

namespace berth::apiserver::authz {

struct BootstrapPolicy {
  std::vector<boost::json::object> clusterRoles;
  std::vector<boost::json::object> clusterRoleBindings;
  std::vector<boost::json::object> roles;         // metadata.namespace set
  std::vector<boost::json::object> roleBindings;  // metadata.namespace set
};

const BootstrapPolicy& bootstrapPolicy();

// NetworkPolicy enforcement's identity (Berth-specific): the ClusterRole and ClusterRoleBinding
// of this name let it list and watch pods, namespaces and NetworkPolicies; the subjects are the
// user (client certificates the server issues) and the ServiceAccount kube-system/<account>
// (tokens for agents that join with a token).
inline constexpr const char* kNetworkPolicyRole = "system:berth:network-policy";
inline constexpr const char* kNetworkPolicyUser = "system:berth:network-policy";
inline constexpr const char* kNetworkPolicyServiceAccount = "berth-network-policy";

// Bootstrap objects earlier Berth versions created and this one no longer wants, as
// {plural, name} of cluster-scoped RBAC objects: the server deletes them on start unless an
// administrator took them over (autoupdate "false"). The binding that let every node list all
// pods for NetworkPolicy is one.
struct RetiredObject {
  const char* plural;
  const char* name;
};
const std::vector<RetiredObject>& retiredBootstrapObjects();

// What the Node authorizer allows a node outside the objects it restricts to the node's own
// graph (upstream NodeRules()).
const std::vector<PolicyRule>& nodeRules();

}  // namespace berth::apiserver::authz
