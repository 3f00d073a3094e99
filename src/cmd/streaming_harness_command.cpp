// `berth streaming-harness` (hidden, for tests): the kubelet's streaming server over pods run
// with runc by a RuncSandbox, registered with an API server as a Node and bound, Running Pods.
// It stands in for the kubelet until the pod workers exist, so the e2e test can drive logs,
// exec, attach and port-forward through the real API server with real clients.
#include <boost/json.hpp>

#include <iostream>
#include <map>
#include <memory>

#include "apiserver/http/pki.h"
#include "client/rest_client.h"
#include "cmd/commands.h"
#include "cmd/signals.h"
#include "kubelet/streaming/runc_sandbox.h"
#include "kubelet/streaming/streaming_server.h"

namespace berth::cmd {
namespace {
namespace json = boost::json;
namespace ks = kubelet::streaming;

struct HarnessFlags {
  std::string kubeconfig, clientCa, workDir, nodeName = "harness-node";
  std::vector<std::string> containers;   // ns/pod/container=shell command
  std::vector<std::string> restartOnce;  // ns/pod/container
};

core::Status registerObjects(client::RestClient& rest, const std::string& node, int port,
                             const std::map<std::string, std::vector<ks::SandboxContainer>>& pods) {
  client::Resource nodes{"", "v1", "nodes"}, podsRes{"", "v1", "pods"};
  auto created = rest.create(
      nodes, "",
      json::value{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", node}}}});
  if (!created.ok()) return created.status();
  json::value n = *created;
  // The in-process controllers (node IPAM, taints) may update the new Node first: re-read and
  // retry on a conflict.
  for (int attempt = 0;; ++attempt) {
    n.as_object()["status"] = json::object{
        {"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
        {"daemonEndpoints", json::object{{"kubeletEndpoint", json::object{{"Port", port}}}}},
        {"conditions", json::array{json::object{{"type", "Ready"}, {"status", "True"}}}}};
    auto st = rest.updateStatus(nodes, "", n);
    if (st.ok()) break;
    if (!st.status().isConflict() || attempt >= 5) return st.status();
    auto again = rest.get(nodes, "", node);
    if (!again.ok()) return again.status();
    n = *again;
  }
  for (const auto& [key, containers] : pods) {
    std::string ns = key.substr(0, key.find('/'));
    std::string name = key.substr(key.find('/') + 1);
    json::array specs, statuses;
    for (const auto& c : containers) {
      specs.push_back(json::object{{"name", c.name}, {"image", "busybox"}});
      statuses.push_back(json::object{
          {"name", c.name},
          {"ready", true},
          {"restartCount", c.restartOnce ? 1 : 0},
          {"image", "busybox"},
          {"imageID", ""},
          {"state",
           json::object{{"running", json::object{{"startedAt", "2026-01-01T00:00:00Z"}}}}}});
    }
    auto pod = rest.create(podsRes, ns,
                           json::value{{"apiVersion", "v1"},
                                       {"kind", "Pod"},
                                       {"metadata", {{"name", name}, {"namespace", ns}}},
                                       {"spec", {{"nodeName", node}, {"containers", specs}}}});
    if (!pod.ok()) return pod.status();
    json::value p = *pod;
    p.as_object()["status"] =
        json::object{{"phase", "Running"}, {"podIP", "127.0.0.1"}, {"containerStatuses", statuses}};
    if (auto st = rest.updateStatus(podsRes, ns, p); !st.ok()) return st.status();
  }
  return {};
}

int runHarness(const HarnessFlags& flags) {
  auto set = blockShutdownSignals();
  std::map<std::string, std::vector<ks::SandboxContainer>> pods;
  for (const auto& spec : flags.containers) {
    size_t eq = spec.find('=');
    std::string path = spec.substr(0, eq);
    size_t slash = path.rfind('/');
    if (eq == std::string::npos || slash == std::string::npos) {
      std::cerr << "streaming-harness: --container wants ns/pod/container=command\n";
      return 2;
    }
    ks::SandboxContainer c{path.substr(slash + 1), spec.substr(eq + 1), false, true};
    for (const auto& r : flags.restartOnce) c.restartOnce = c.restartOnce || r == path;
    pods[path.substr(0, slash)].push_back(c);
  }
  auto sandbox = ks::RuncSandbox::create(flags.workDir + "/sandbox");
  if (!sandbox.ok()) {
    std::cerr << "streaming-harness: " << sandbox.status().message() << "\n";
    return 1;
  }
  for (const auto& [key, containers] : pods) {
    if (auto st = (*sandbox)->addPod(key.substr(0, key.find('/')), key.substr(key.find('/') + 1),
                                     containers);
        !st.ok()) {
      std::cerr << "streaming-harness: " << st.message() << "\n";
      return 1;
    }
  }
  std::string pkiDir = flags.workDir + "/pki";
  if (auto st = apiserver::http::ensurePki(pkiDir, {"127.0.0.1", "localhost"}); !st.ok()) {
    std::cerr << "streaming-harness: " << st.message() << "\n";
    return 1;
  }
  auto paths = apiserver::http::pkiPathsIn(pkiDir);
  ks::StreamingServerConfig config;
  config.port = 0;
  config.certFile = paths.servingCert;
  config.keyFile = paths.servingKey;
  config.clientCaFile = flags.clientCa;
  config.scratchDir = flags.workDir + "/scratch";
  ks::StreamingServer server(config, **sandbox);
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "streaming-harness: " << st.message() << "\n";
    return 1;
  }
  if (!flags.kubeconfig.empty()) {
    auto rest = client::loadKubeconfig(flags.kubeconfig);
    auto client = rest.ok() ? client::RestClient::create(*rest)
                            : core::Result<std::unique_ptr<client::RestClient>>(rest.status());
    core::Status st = client.ok() ? registerObjects(**client, flags.nodeName, server.port(), pods)
                                  : client.status();
    if (!st.ok()) {
      std::cerr << "streaming-harness: registering: " << st.message() << "\n";
      return 1;
    }
  }
  std::cout << "ready port=" << server.port() << std::endl;
  waitForShutdownSignal(set);
  server.stop();
  return 0;
}

}  // namespace

void addStreamingHarnessCommand(CLI::App& app) {
  auto flags = std::make_shared<HarnessFlags>();
  auto* cmd = app.add_subcommand("streaming-harness", "");  // hidden: empty description
  cmd->group("");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "API server to register Node and Pods with");
  cmd->add_option("--client-ca", flags->clientCa, "CA of the API server's client cert")->required();
  cmd->add_option("--work-dir", flags->workDir, "Scratch directory (removed at exit)")->required();
  cmd->add_option("--node-name", flags->nodeName, "Node name");
  cmd->add_option("--container", flags->containers, "ns/pod/container=shell command");
  cmd->add_option("--restart-once", flags->restartOnce, "ns/pod/container to run twice");
  cmd->callback([flags] { exitCode = runHarness(*flags); });
}

}  // namespace berth::cmd
