#pragma once
// The kubeconfig files Berth writes for its own users: the server's admin kubeconfig (a bearer
// token) and the in-process components' (a client certificate each). One cluster, one user and
// one context, all named so that `loadKubeconfig` and kubectl read them back as written.
//
// Thread-safety: free functions; concurrent writes of one path race (last rename wins).
#include <string>

#include "core/status.h"

namespace berth::client {

struct KubeconfigEntry {
  std::string server;  // https://host:port
  std::string caPem;   // embedded as certificate-authority-data
  std::string userName;
  // The credential: a bearer token, or a client certificate and its key.
  std::string bearerToken;
  std::string clientCertPem, clientKeyPem;
  std::string defaultNamespace;  // empty: the context names none
};

// The kubeconfig's YAML text (cluster and context both named "berth").
std::string kubeconfigYaml(const KubeconfigEntry& entry);

// Writes kubeconfigYaml(entry) to `path`, readable by the owner only (0600 before the credential
// is in it), through a temporary file renamed into place so a reader never sees half a file.
core::Status writeKubeconfig(const std::string& path, const KubeconfigEntry& entry);

}  // namespace berth::client
