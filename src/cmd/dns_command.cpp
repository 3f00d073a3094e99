// `berth dns --kubeconfig FILE`: the cluster DNS server alone, against any API server (the node
// agent runs the same component in-process on its pod bridge's gateway).
#include <iostream>
#include <memory>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "dns/cluster_dns.h"

namespace berth::cmd {

namespace {

struct DnsFlags {
  std::string kubeconfig;
  dns::ClusterDnsOptions options;
};

int runDns(DnsFlags flags) {
  auto signals = blockShutdownSignals();
  auto rest = client::loadKubeconfig(flags.kubeconfig);
  if (!rest.ok()) {
    std::cerr << "berth dns: " << rest.status().message() << "\n";
    return 1;
  }
  flags.options.rest = *rest;
  dns::ClusterDns server(flags.options);
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "berth dns: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth dns: serving " << flags.options.zone.domain << " on port " << server.port()
            << " (udp, tcp), metrics on port " << server.metricsPort() << ", "
            << server.upstreamCount() << " upstream resolver(s)" << std::endl;
  waitForShutdownSignal(signals);
  server.stop();
  return 0;
}

}  // namespace

void addDnsCommand(CLI::App& app) {
  auto flags = std::make_shared<DnsFlags>();
  auto& o = flags->options;
  o.server.metricsListen = "0.0.0.0:9153";
  auto* cmd = app.add_subcommand("dns", "Run the cluster DNS server against an API server");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--listen", o.server.listen, "UDP and TCP address (port 0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--metrics", o.server.metricsListen,
                  "Address of the Prometheus /metrics endpoint (empty = none)")
      ->capture_default_str();
  cmd->add_option("--cluster-domain", o.zone.domain, "The cluster's DNS domain")
      ->capture_default_str();
  cmd->add_option("--cluster-dns", o.zone.dnsIp, "The kube-dns Service's IP (ns.dns.<domain>)")
      ->capture_default_str();
  cmd->add_option("--ttl", o.zone.ttl, "TTL of the cluster zone's records, in seconds")
      ->capture_default_str();
  cmd->add_option("--upstream", o.forward.upstreams,
                  "Upstream resolver ip[:port] for other names (repeatable; default: those of "
                  "--resolv-conf)");
  cmd->add_option("--resolv-conf", o.resolvConf, "Where the upstream resolvers come from")
      ->capture_default_str();
  cmd->add_option("--udp-workers", o.server.udpWorkers, "UDP worker threads (SO_REUSEPORT)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->callback([flags] { exitCode = runDns(*flags); });
}

}  // namespace berth::cmd
