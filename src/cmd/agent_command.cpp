// `berth agent --server URL --token T`: the node agent (kubelet) alone, joining a cluster whose
// API server runs elsewhere; and `berth shim`, the per-container process the agent starts.
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "apiserver/authz/bootstrap_policy.h"
#include "cmd/commands.h"
#include "cmd/network_policy_identity.h"
#include "cmd/signals.h"
#include "controllers/framework/flags.h"
#include "core/cluster_dns_ip.h"
#include "core/ip_cidr.h"
#include "kubelet/agent.h"
#include "kubelet/logs/log_files.h"
#include "kubelet/runtime/shim.h"
#include "kubelet/runtime/shim_args.h"

namespace berth::cmd {

namespace {

// A flag's callback storing a Go duration ("30s", "1m") the flag's check has accepted.
std::function<void(const std::string&)> setGoDuration(std::chrono::milliseconds& out) {
  return [&out](const std::string& v) { out = *controllers::parseGoDuration(v); };
}

// Upstream's kubelet flags of the same names (Go durations); the agent's SIGTERM/SIGINT is the
// shutdown they are for (kubelet/node_shutdown.h).
void addShutdownFlags(CLI::App& cmd, kubelet::ShutdownConfig& c) {
  auto valid = [](const std::string& v) {
    auto d = controllers::parseGoDuration(v);
    return d && d->count() >= 0 ? "" : "not a duration (e.g. 30s, 1m): " + v;
  };
  cmd.add_option_function<std::string>("--shutdown-grace-period", setGoDuration(c.gracePeriod),
                                       "On SIGTERM/SIGINT, how long the node takes to stop its "
                                       "pods, marking them Failed (0 = off: containers keep "
                                       "running when the agent stops)")
      ->check(valid);
  cmd.add_option_function<std::string>(
         "--shutdown-grace-period-critical-pods", setGoDuration(c.criticalGracePeriod),
         "The part of --shutdown-grace-period kept for critical pods (priority class "
         "system-cluster-critical or system-node-critical), which stop last")
      ->check(valid);
  cmd.add_option_function<std::string>(
         "--shutdown-grace-period-by-pod-priority",
         [&c](const std::string& v) { c.byPodPriority = *kubelet::parseShutdownPriorityBands(v); },
         "Instead of the two periods above, bands PRIORITY=SECONDS,... (upstream's "
         "shutdownGracePeriodByPodPriority): on shutdown the pods of the lowest band stop "
         "first, each band within its seconds, a pod in the highest band its priority reaches")
      ->check([](const std::string& v) {
        auto bands = kubelet::parseShutdownPriorityBands(v);
        return bands.ok() ? "" : bands.status().message();
      });
}

struct AgentFlags {
  std::string server, token, kubeconfig, caFile;
  std::string networkPolicyKubeconfig;
  kubelet::AgentOptions options;
};

// NetworkPolicy enforcement's own identity (network_policy_identity.h): the kubeconfig given,
// else a ServiceAccount token the server issues to the agent's credentials, else (an identity
// that may not ask for one, e.g. a node's) the agent's own, which enforcement then reports as
// not enough when it cannot list every pod.
core::Status networkPolicyCredentials(AgentFlags& flags) {
  auto& o = flags.options;
  if (!flags.networkPolicyKubeconfig.empty()) {
    auto rest = client::loadKubeconfig(flags.networkPolicyKubeconfig);
    if (!rest.ok()) return rest.status();
    o.networkPolicyRest = *rest;
    return {};
  }
  if (o.disableNetworkPolicy) return {};
  auto token = networkPolicyToken(o.rest);
  if (token.ok()) {
    o.networkPolicyRest = *token;
    std::cout << "berth agent: NetworkPolicy enforcement runs as kube-system/"
              << apiserver::authz::kNetworkPolicyServiceAccount << std::endl;
  } else {
    std::cerr << "berth agent: no NetworkPolicy token from the server (" << token.status().message()
              << "); enforcing with the agent's own credentials (--network-policy-kubeconfig "
                 "gives it its own)"
              << std::endl;
  }
  return {};
}

int runAgent(AgentFlags flags) {
  auto signals = blockShutdownSignals();
  auto& o = flags.options;
  if (!flags.kubeconfig.empty()) {
    auto rest = client::loadKubeconfig(flags.kubeconfig);
    if (!rest.ok()) {
      std::cerr << "berth agent: " << rest.status().message() << "\n";
      return 1;
    }
    o.rest = *rest;
  } else {
    if (flags.server.empty() || flags.token.empty()) {
      std::cerr << "berth agent: --server and --token (or --kubeconfig) are required\n";
      return 1;
    }
    o.rest.server = flags.server;
    o.rest.bearerToken = flags.token;
    if (flags.caFile.empty()) {
      o.rest.insecureSkipVerify = true;  // as `k3s agent` before it learns the CA: the token authenticates
    } else {
      std::ifstream in(flags.caFile);
      std::stringstream ss;
      ss << in.rdbuf();
      o.rest.caPem = ss.str();
    }
  }
  if (auto st = networkPolicyCredentials(flags); !st.ok()) {
    std::cerr << "berth agent: " << st.message() << "\n";
    return 1;
  }
  if (o.registryConfig.empty()) o.registryConfig = o.dataDir + "/registries.yaml";
  // The agent knows the Service range only from --service-cidr (the proxy's flag).
  // (Dual-stack: a pair; the DNS address comes from the first, primary range.)
  auto dns = core::clusterDnsIp(
      o.proxyRules.serviceCidr.substr(0, o.proxyRules.serviceCidr.find(',')), o.clusterDns);
  if (!dns.ok()) {
    std::cerr << "berth agent: " << dns.status().message() << "\n";
    return 1;
  }
  o.clusterDns = *dns;
  kubelet::Agent agent(o);
  if (auto st = agent.start(); !st.ok()) {
    std::cerr << "berth agent: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth agent: node " << agent.nodeName() << " running against " << o.rest.server
            << std::endl;
  waitForShutdownSignal(signals);
  agent.shutdownGracefully();
  agent.stop();
  return 0;
}

// As the kubelet's ParseNodeIPArgument: one IP, or an IPv4,IPv6 pair in either order.
std::string checkNodeIp(std::string& v) {
  auto family = [](const std::string& ip) -> std::string {
    auto c = core::parseIpCidr(ip + (ip.find(':') == ip.npos ? "/32" : "/128"));
    return c.ok() ? c->family() : "";
  };
  auto comma = v.find(',');
  std::string first = v.substr(0, comma);
  std::string second = comma == std::string::npos ? "" : v.substr(comma + 1);
  if (family(first).empty() || (comma != std::string::npos && family(second).empty()))
    return "could not parse --node-ip \"" + v + "\"";
  if (comma != std::string::npos && family(first) == family(second))
    return "--node-ip \"" + v + "\" must contain either a single IP or a dual-stack "
           "pair of IPs";
  return "";
}

// Who the node is: its name and addresses.
void addNodeIdentityFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  cmd.add_option("--node-name", o.nodeName, "Node name (default: the host name)");
  cmd.add_option("--pod-cidr", o.podCidr, "Pod CIDR while the Node has no spec.podCIDR")
      ->capture_default_str();
  cmd.add_option("--node-ip", o.nodeIP,
                 "The node's InternalIP, or an IPv4,IPv6 pair on a dual-stack node (default: "
                 "detected, an IPv6 address too when the node has a global one)")
      ->check(CLI::Validator(checkNodeIp, "IP[,IP]"));
}

// How the node gets and runs pods: images, the kubelet API, static pods, the OCI runtime.
void addPodRuntimeFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  cmd.add_option("--registry-config", o.registryConfig,
                 "registries.yaml (k3s format) for image pulls (default: <data-dir>/registries.yaml)");
  cmd.add_option("--kubelet-port", o.kubeletPort,
                 "Port of the kubelet API (logs, exec, attach, port-forward); 0 = any free port")
      ->capture_default_str();
  cmd.add_option("--client-ca-file", o.clientCaFile,
                 "CA of the API server's client certificate (default: the kubeconfig's CA)");
  cmd.add_option("--pod-manifest-path", o.podManifestPath,
                 "Directory of static pod manifests (YAML/JSON, one Pod per file), run by this node "
                 "and mirrored into the API (default: <agent data dir>/pod-manifests; none = off)");
  cmd.add_option("--container-runtime", o.containerRuntime,
                 "OCI runtime of the node's containers: runc, crun (run in a private mount "
                 "namespace on hosts with the hybrid cgroup layout), or auto (crun when a probe "
                 "container starts with it, else runc)")
      ->envname("BERTH_CONTAINER_RUNTIME")  // lets the e2e tests run under either runtime
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "runc", "crun"}));
  cmd.add_flag("--busybox-images", o.busyboxImages,
               "Run every image as the host's busybox (no image store; for tests and demos)");
}

// The node's share of cluster networking: NetworkPolicy, DNS, the service proxy.
void addNodeNetworkFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  cmd.add_flag("--disable-network-policy", o.disableNetworkPolicy,
               "Enforce no NetworkPolicies on this node (run `berth netpol` instead, or none)");
  cmd.add_option("--cluster-dns", o.clusterDns,
                 "Cluster DNS address: the kube-dns Service's ClusterIP, pods' nameserver (default: "
                 "the 10th address of the Service range, 10.96.0.10 for 10.96.0.0/12)");
  cmd.add_flag("--disable-dns", o.disableDns,
               "Do not serve cluster DNS on this node's pod bridge gateway (53/udp+tcp, 9153)");
  cmd.add_flag("--allow-host-network-namespace", o.allowHostNetworkNamespace,
               "Attach pod networks (bridge berth0) and run the service proxy even in the host's "
               "own network namespace");
  cmd.add_flag("--disable-proxy", o.disableProxy,
               "Run no service proxy (nftables rules for Services) on this node");
  addProxyAddressFlags(cmd, o.proxyHealthzBindAddress, o.nodePortAddresses);
}

void addContainerLogFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  cmd.add_option("--container-log-max-size", o.containerLogMaxSize,
                 "Size at which a container's log file is rotated (e.g. 10Mi, 512Ki)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        return kubelet::logs::parseQuantityBytes(v) > 0
                   ? std::string()
                   : "invalid size \"" + v + "\" (a quantity such as 10Mi or 512Ki)";
      });
  cmd.add_option("--container-log-max-files", o.containerLogMaxFiles,
                 "Log files kept per container, the current one included (at least 2)")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
}

// How often the node measures usage for the summary API and resource metrics.
void addStatsFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  auto positive = [](const std::string& v) {
    auto d = controllers::parseGoDuration(v);
    return d && d->count() > 0 ? "" : "not a positive duration (e.g. 10s, 1m): " + v;
  };
  cmd.add_option_function<std::string>("--housekeeping-interval",
                                       setGoDuration(o.statsHousekeeping),
                                       "How often the node samples container, pod and node stats "
                                       "for the summary API and resource metrics (cadvisor's "
                                       "housekeeping; default 10s)")
      ->check(positive);
  cmd.add_option_function<std::string>("--volume-stats-agg-period",
                                       setGoDuration(o.volumeStatsPeriod),
                                       "How often volume, writable-layer and log directory usage "
                                       "is walked again (default 1m)")
      ->check(positive);
}

}  // namespace

void addAgentFlags(CLI::App& cmd, kubelet::AgentOptions& o) {
  addNodeIdentityFlags(cmd, o);
  addPodRuntimeFlags(cmd, o);
  addNodeNetworkFlags(cmd, o);
  addContainerLogFlags(cmd, o);
  addShutdownFlags(cmd, o.shutdown);
  addStatsFlags(cmd, o);
}

void addAgentCommand(CLI::App& app) {
  auto flags = std::make_shared<AgentFlags>();
  auto& o = flags->options;
  o.dataDir = "/var/lib/berth/agent";
  auto* cmd = app.add_subcommand("agent", "Run the node agent (kubelet) against an API server");
  cmd->add_option("--server", flags->server, "API server URL (https://host:port)");
  cmd->add_option("--token", flags->token, "Bearer token for the API server");
  cmd->add_option("--certificate-authority", flags->caFile, "CA of the API server (PEM file)");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig instead of --server/--token");
  cmd->add_option("--network-policy-kubeconfig", flags->networkPolicyKubeconfig,
                  "Kubeconfig NetworkPolicy enforcement reads all pods with (e.g. the server's "
                  "<data-dir>/network-policy.kubeconfig; default: a ServiceAccount token the "
                  "server issues to the agent's credentials)");
  cmd->add_option("--data-dir", o.dataDir, "State directory")->capture_default_str();
  // (berth server's agent shares the provisioner's flag of the same name.)
  cmd->add_option("--local-path-dir", o.localPathDir,
                  "Directory of this node's local-path volumes, announced to the provisioner; the "
                  "only place whose volume directories the node removes (default: "
                  "<data-dir>/storage)");
  addAgentFlags(*cmd, o);
  addProxyFlags(*cmd, o.proxyRules);
  cmd->callback([flags] { exitCode = runAgent(*flags); });

  // `berth-shim` (kubelet/runtime/bin) is what the agent starts; this subcommand is the same shim
  // for installs without it and for shims started by an older agent. One parser for both.
  auto* s = app.add_subcommand("shim", "(internal) hold one container's stdio and exit status");
  s->group("");  // hidden: started by the agent only
  s->prefix_command();
  s->set_help_flag();
  s->callback([s] { exitCode = kubelet::runtime::shimMain(s->remaining(), "berth shim"); });
}

}  // namespace berth::cmd
