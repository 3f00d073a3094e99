// `berth proxy --kubeconfig FILE --node-name N`: the service proxy alone (kube-proxy's role),
// programming nftables in the network namespace it runs in.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "client/rest_client.h"
#include "cmd/commands.h"
#include "cmd/signals.h"
#include "kubelet/network/cni.h"
#include "proxy/node_addresses.h"
#include "proxy/proxier.h"
#include "proxy/proxy_healthz.h"

namespace berth::cmd {

namespace {

struct ProxyFlags {
  std::string kubeconfig;
  proxy::ProxierOptions options;
  int minSyncMs = 10;
  int fullSyncSeconds = 3600;
  bool allowHostNetworkNamespace = false;
};

int runProxy(ProxyFlags flags) {
  auto signals = blockShutdownSignals();
  if (!flags.allowHostNetworkNamespace && kubelet::network::inHostNetworkNamespace()) {
    std::cerr << "berth proxy: refusing to program nftables in the host's network namespace "
                 "(run it in the node's namespace, or pass --allow-host-network-namespace)\n";
    return 1;
  }
  auto config = client::loadKubeconfig(flags.kubeconfig);
  if (!config.ok()) {
    std::cerr << "berth proxy: " << config.status().message() << "\n";
    return 1;
  }
  config->userAgent = "berth-proxy/v0.1";
  auto rest = client::RestClient::create(*config);
  if (!rest.ok()) {
    std::cerr << "berth proxy: " << rest.status().message() << "\n";
    return 1;
  }
  auto& o = flags.options;
  if (o.rules.nodeName.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o.rules.nodeName = host;
  }
  o.rules6 = proxy::splitDualStack(o.rules);
  o.minSyncPeriod = std::chrono::milliseconds(flags.minSyncMs);
  o.fullSyncPeriod = std::chrono::seconds(flags.fullSyncSeconds);
  proxy::Proxier proxier(**rest, o);
  if (auto st = proxier.start(); !st.ok()) {
    std::cerr << "berth proxy: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth proxy: node " << o.rules.nodeName << ", table " << o.rules.family << " "
            << o.rules.table << (o.rules6 ? " and ip6 " + o.rules.table : "") << " programmed"
            << std::endl;
  waitForShutdownSignal(signals);
  proxier.stop();
  return 0;
}

}  // namespace

void addProxyFlags(CLI::App& cmd, proxy::RulesetConfig& rules) {
  cmd.add_option("--cluster-cidr", rules.clusterCidr,
                 "Pod network; ClusterIP clients outside it are masqueraded (empty = all)")
      ->capture_default_str();
  cmd.add_option("--service-cidr", rules.serviceCidr,
                 "Service range (an IPv6 one: the ip6 table only; dual-stack: IPv4,IPv6, both "
                 "tables); packets to it that no Service takes are dropped")
      ->capture_default_str();
}

void addProxyAddressFlags(CLI::App& cmd, std::string& healthzBindAddress,
                          std::vector<std::string>& nodePortAddresses) {
  cmd.add_option("--healthz-bind-address", healthzBindAddress,
                 "IP:port of the proxy's /healthz and /livez (\"\" = off)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        auto p = proxy::parseBindAddress(v);
        return v.empty() || p.ok() ? std::string() : p.status().message();
      });
  cmd.add_option("--nodeport-addresses", nodePortAddresses,
                 "CIDRs (comma-separated) of the node addresses NodePorts and health check "
                 "nodePorts answer on, or \"primary\" (the node IP); default: every address")
      ->delimiter(',')
      ->check([](const std::string& v) {
        if (v == "primary") return std::string();
        auto st = proxy::validateNodePortAddresses({v});
        return st.ok() ? std::string() : st.message();
      });
}

void addProxyCommand(CLI::App& app) {
  auto flags = std::make_shared<ProxyFlags>();
  auto* cmd = app.add_subcommand("proxy", "Run the service proxy (nftables) against an API server");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--node-name", flags->options.rules.nodeName,
                  "This node's name, for Local traffic policies (default: the host name)");
  cmd->add_option("--table", flags->options.rules.table, "nftables table (family ip)")
      ->capture_default_str();
  cmd->add_option("--min-sync-period", flags->minSyncMs,
                  "Milliseconds between syncs at least (a burst of changes is one sync)")
      ->capture_default_str();
  cmd->add_option("--full-sync-period", flags->fullSyncSeconds,
                  "Seconds between full resyncs (the table is recreated)")
      ->capture_default_str();
  cmd->add_option("--nft", flags->options.nftBinary, "The nft program")->capture_default_str();
  cmd->add_flag("--allow-host-network-namespace", flags->allowHostNetworkNamespace,
                "Program nftables even in the host's own network namespace");
  addProxyFlags(*cmd, flags->options.rules);
  flags->options.healthzBindAddress = "0.0.0.0:10256";
  addProxyAddressFlags(*cmd, flags->options.healthzBindAddress, flags->options.nodePortAddresses);
  cmd->add_option("--node-ip", flags->options.nodeIP,
                  "This node's IP, the address --nodeport-addresses=primary selects");
  cmd->callback([flags] { exitCode = runProxy(*flags); });
}

}  // namespace berth::cmd
