// berth: one binary, a subcommand per role (server, controller-manager, ...). Each subcommand
// lives in its own *_command.cpp.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cmd/commands.h"

namespace berth::cmd {
int exitCode = 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Berth: a small Kubernetes-compatible container orchestrator"};
  app.require_subcommand(1);

  berth::cmd::addServerCommand(app);
  berth::cmd::addControllerManagerCommand(app);
  berth::cmd::addSchedulerCommand(app);
  berth::cmd::addSimulateCommand(app);
  berth::cmd::addImagesCommand(app);
  berth::cmd::addStreamingHarnessCommand(app);
  berth::cmd::addAgentCommand(app);
  berth::cmd::addNetpolCommand(app);
  berth::cmd::addDnsCommand(app);

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::cout << "berth v0.1.0 (Kubernetes API v1.32)\n"; });

  CLI11_PARSE(app, argc, argv);
  return berth::cmd::exitCode;
}
