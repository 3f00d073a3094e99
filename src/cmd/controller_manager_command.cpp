// `berth controller-manager --kubeconfig FILE`: the controllers alone, against any API server.
#include <iostream>
#include <memory>

#include "cmd/commands.h"
#include "cmd/controller_flags.h"
#include "cmd/signals.h"
#include "controllers/manager/controller_manager.h"

namespace berth::cmd {

namespace {

struct ControllerManagerFlags {
  std::string kubeconfig;
  std::vector<std::string> controllers{"*"};
  bool leaderElect = true;
  int workers = 5;
  std::map<std::string, std::string> controllerFlags;
};

int runControllerManager(const ControllerManagerFlags& flags) {
  auto set = blockShutdownSignals();
  if (auto why = checkControllerFlags(flags.controllerFlags); !why.empty()) {
    std::cerr << "berth controller-manager: " << why << "\n";
    return 1;
  }
  auto rest = client::loadKubeconfig(flags.kubeconfig);
  if (!rest.ok()) {
    std::cerr << "berth controller-manager: " << rest.status().message() << "\n";
    return 1;
  }
  controllers::ControllerManagerOptions options;
  options.rest = rest.value();
  options.controllers = flags.controllers;
  options.leaderElect = flags.leaderElect;
  options.workers = flags.workers;
  options.flags = flags.controllerFlags;
  controllers::ControllerManager manager(options);
  if (auto st = manager.start(); !st.ok()) {
    std::cerr << "berth controller-manager: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth controller-manager: running against " << options.rest.server << std::endl;
  waitForShutdownSignal(set);
  manager.stop();
  return 0;
}

}  // namespace

void addControllerManagerCommand(CLI::App& app) {
  auto flags = std::make_shared<ControllerManagerFlags>();
  auto* cmd = app.add_subcommand("controller-manager",
                                 "Run the controllers against an API server (kubeconfig)");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--controllers", flags->controllers,
                  "Controllers to run: * = the defaults, name = also this one, -name = not this")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--leader-elect", flags->leaderElect,
                  "Run only while holding the kube-system/kube-controller-manager Lease")
      ->capture_default_str();
  cmd->add_option("--concurrent-syncs", flags->workers, "Workers per controller")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  addControllerFlags(cmd, flags->controllerFlags);
  cmd->callback([flags] { exitCode = runControllerManager(*flags); });
}

}  // namespace berth::cmd
