#pragma once
// The agent's streaming server (logs, exec, attach, port-forward): its serving certificate and
// the client CA it trusts, set up in the agent's data dir, listening where the Node's
// InternalIP and daemonEndpoints.kubeletEndpoint.Port tell the API server to dial.
//
// Thread-safety: called from Agent::start only.
#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "kubelet/streaming/streaming_server.h"

namespace berth::kubelet {

struct AgentStreamingOptions {
  std::string dataDir;      // <agent data>/streaming gets pki/, client-ca.crt, scratch/
  std::string nodeName;
  std::string internalIP;   // bind address and serving certificate SAN
  int port = 10250;         // 0 = any free port
  std::string clientCaFile; // empty = `clientCaPem` written to a file
  std::string clientCaPem;  // the cluster CA from the agent's kubeconfig
  std::string runcBinary;
  // Read-only endpoints beside the streaming API (/stats/summary, /metrics/resource).
  std::map<std::string, streaming::StreamingServerConfig::Endpoint> endpoints;
};

core::Result<std::unique_ptr<streaming::StreamingServer>> startAgentStreaming(
    const AgentStreamingOptions& o, streaming::ContainerLocator& locator);

}  // namespace berth::kubelet
