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

// What the Node authorizer allows a node outside the objects it restricts to the node's own
// graph (upstream NodeRules()).
const std::vector<PolicyRule>& nodeRules();

}  // namespace berth::apiserver::authz
