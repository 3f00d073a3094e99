#include "kubelet/agent_streaming.h"

#include <filesystem>
#include <fstream>

#include "apiserver/http/pki.h"

namespace berth::kubelet {

namespace fs = std::filesystem;

core::Result<std::unique_ptr<streaming::StreamingServer>> startAgentStreaming(
    const AgentStreamingOptions& o, streaming::ContainerLocator& locator) {
  std::string dir = o.dataDir + "/streaming";
  std::error_code ec;
  fs::create_directories(dir + "/scratch", ec);
  if (ec) return core::Status::internal("cannot create " + dir + ": " + ec.message());
  std::string clientCa = o.clientCaFile;
  if (clientCa.empty()) {
    // Without a CA nothing could authenticate the API server: refuse to serve at all rather
    // than serve unauthenticated exec.
    if (o.clientCaPem.empty())
      return core::Status::badRequest(
          "no client CA for the kubelet API (give --client-ca-file or a kubeconfig with a CA)");
    clientCa = dir + "/client-ca.crt";
    std::ofstream out(clientCa, std::ios::trunc);
    out << o.clientCaPem;
    if (!out) return core::Status::internal("cannot write " + clientCa);
  }
  // The node's own self-signed CA and serving certificate (upstream's kubelet self-signs too);
  // the API server does not verify it, it authenticates itself with its client certificate.
  std::string pkiDir = dir + "/pki";
  std::vector<std::string> sans = {o.internalIP, "127.0.0.1", "localhost"};
  if (!o.nodeName.empty()) sans.push_back(o.nodeName);
  if (auto st = apiserver::http::ensurePki(pkiDir, sans); !st.ok()) return st;
  auto paths = apiserver::http::pkiPathsIn(pkiDir);

  streaming::StreamingServerConfig config;
  // The address the Node advertises as InternalIP, which is what the API server dials.
  config.bindAddress = o.internalIP;
  config.port = static_cast<uint16_t>(o.port);
  config.certFile = paths.servingCert;
  config.keyFile = paths.servingKey;
  config.clientCaFile = clientCa;
  if (!o.runcBinary.empty()) config.runcBinary = o.runcBinary;
  config.scratchDir = dir + "/scratch";
  config.endpoints = o.endpoints;
  auto server = std::make_unique<streaming::StreamingServer>(config, locator);
  if (auto st = server->start(); !st.ok()) return st;
  return server;
}

}  // namespace berth::kubelet
