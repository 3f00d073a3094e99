// `berth netpol --kubeconfig F --node-name N`: NetworkPolicy enforcement for one node alone (the
// agent runs the same controller unless --disable-network-policy), in the network namespace it
// is started in, which must be the node's.
#include <iostream>
#include <memory>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "netpol/controller.h"

namespace berth::cmd {

namespace {

struct NetpolFlags {
  std::string kubeconfig, nodeName;
  bool cleanup = false;
};

int runNetpol(const NetpolFlags& flags) {
  auto signals = blockShutdownSignals();
  auto rest = client::loadKubeconfig(flags.kubeconfig);
  if (!rest.ok()) {
    std::cerr << "berth netpol: " << rest.status().message() << "\n";
    return 1;
  }
  netpol::ControllerOptions o;
  o.rest = *rest;
  o.nodeName = flags.nodeName;
  o.cleanupOnStop = flags.cleanup;
  netpol::NetworkPolicyController controller(o);
  if (auto st = controller.start(); !st.ok()) {
    std::cerr << "berth netpol: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth netpol: enforcing NetworkPolicies for node " << flags.nodeName << std::endl;
  waitForShutdownSignal(signals);
  controller.stop();
  return 0;
}

}  // namespace

void addNetpolCommand(CLI::App& app) {
  auto flags = std::make_shared<NetpolFlags>();
  auto* cmd = app.add_subcommand(
      "netpol",
      "Enforce NetworkPolicies for one node's pods with nftables (table inet berth-netpol)");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--node-name", flags->nodeName, "The node whose pods to protect")->required();
  cmd->add_flag("--cleanup-on-exit", flags->cleanup,
                "Remove the nftables table on exit (default: keep enforcing the last rules)");
  cmd->callback([flags] { exitCode = runNetpol(*flags); });
}

}  // namespace berth::cmd
