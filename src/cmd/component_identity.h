#pragma once
// Credentials of the components `berth server` runs in-process: each acts as its own user, as
// upstream's do (system:kube-scheduler, system:kube-controller-manager, and a node agent as
// system:node:<name> in group system:nodes), never as the admin. A client certificate from the
// cluster CA per component, written as a kubeconfig (0600) in the data dir so the same
// component can also run out of process (`berth scheduler --kubeconfig ...`).
//
// Thread-safety: call from the starting thread only.
#include <string>
#include <vector>

#include "client/rest_client.h"
#include "core/result.h"

namespace berth::cmd {

// Issues a certificate for `user` (O = `groups`) from the CA in <dataDir>/tls, writes
// <dataDir>/<fileStem>.kubeconfig with the server and CA of `admin`, and returns its client
// configuration.
core::Result<client::RestConfig> componentCredentials(const std::string& dataDir,
                                                      const client::RestConfig& admin,
                                                      const std::string& fileStem,
                                                      const std::string& user,
                                                      const std::vector<std::string>& groups);

// The name a node agent registers under: `name`, or the host name, lower-cased (as the agent).
std::string nodeNameOrHost(std::string name);

}  // namespace berth::cmd
