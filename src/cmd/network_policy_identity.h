#pragma once
// Credentials for a node agent's NetworkPolicy enforcement (src/netpol), which lists and watches
// every pod, namespace and NetworkPolicy: its own identity, never the node's (the Node
// authorizer lets a node read only its own pods), as k3s's policy controller runs on its
// controller credentials rather than the kubelet's.
//   - `berth server`'s in-process agent: a client certificate for the user
//     system:berth:network-policy (componentCredentials; <data-dir>/network-policy.kubeconfig,
//     which also serves `berth netpol --kubeconfig` and remote agents).
//   - `berth agent`: --network-policy-kubeconfig when given; else networkPolicyToken below.
//
// Thread-safety: plain functions.
#include "client/rest_client.h"
#include "core/result.h"

namespace berth::cmd {

// How long a token from networkPolicyToken is valid: as k3s's controller certificate, a year;
// the agent asks for a new one on every start.
inline constexpr long long kNetworkPolicyTokenSeconds = 365LL * 24 * 3600;

// Asks the server, with the agent's credentials, for a token of the ServiceAccount
// kube-system/berth-network-policy (a TokenRequest) and returns `agent`'s configuration with
// that token instead of its own credentials. Fails when the agent's identity may not create
// such tokens (a node's may not: it must then be given a kubeconfig).
core::Result<client::RestConfig> networkPolicyToken(const client::RestConfig& agent);

}  // namespace berth::cmd
