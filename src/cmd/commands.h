#pragma once
// One function per `berth` subcommand, each in its own <name>_command.cpp: it adds the
// subcommand and its flags to the app and sets the callback that runs it. A callback that ends
// the process's work sets `exitCode`.
#include <CLI/CLI.hpp>

namespace berth::kubelet {
struct AgentOptions;
}
namespace berth::proxy {
struct RulesetConfig;
}

namespace berth::cmd {

extern int exitCode;

void addServerCommand(CLI::App& app);
void addControllerManagerCommand(CLI::App& app);
void addSchedulerCommand(CLI::App& app);
void addSimulateCommand(CLI::App& app);
void addImagesCommand(CLI::App& app);
void addStreamingHarnessCommand(CLI::App& app);  // hidden, tests only
void addAgentCommand(CLI::App& app);  // also `berth shim`
void addNetpolCommand(CLI::App& app);
void addDnsCommand(CLI::App& app);
// The agent's node flags, shared by `berth agent` and `berth server`.
void addAgentFlags(CLI::App& cmd, kubelet::AgentOptions& options);
void addProxyCommand(CLI::App& app);
// The proxy's network flags, shared by `berth proxy`, `berth agent` and `berth server`.
void addProxyFlags(CLI::App& cmd, proxy::RulesetConfig& rules);
// kube-proxy's --healthz-bind-address and --nodeport-addresses, same three commands.
void addProxyAddressFlags(CLI::App& cmd, std::string& healthzBindAddress,
                          std::vector<std::string>& nodePortAddresses);

}  // namespace berth::cmd
