// `berth simulate --kubeconfig FILE --nodes N`: N simulated kubelets (no containers) against any
// API server, so the control plane can be exercised at the size of large clusters.
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "simulate/simulator.h"

namespace berth::cmd {

namespace {

struct SimulateFlags {
  std::string kubeconfig;
  simulate::SimulatorOptions options;
  double leaseRenewSeconds = 10;
  double statusUpdateSeconds = 10;
  double statusReportSeconds = 60;
  int statsSeconds = 30;
};

// Each node's pod watch holds a socket; the default soft limit (1024) would stop at ~1,000
// nodes.
void raiseOpenFileLimit(int nodes) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < static_cast<rlim_t>(nodes) + 256)
    std::cerr << "berth simulate: warning: the open-file limit (" << limit.rlim_cur
              << ") is below the " << nodes << " watch connections needed\n";
}

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

void printStats(const simulate::SimulatorStats& s) {
  std::cout << "berth simulate: nodes " << s.registered << "/" << s.nodes << " registered, "
            << s.watches << " pod watches, " << s.leaseRenewals << " lease renewals, "
            << s.statusPosts << " status posts, " << s.podsStarted << " pods started, "
            << s.podsDeleted << " pods deleted, " << s.errors << " errors" << std::endl;
}

int runSimulate(SimulateFlags& flags) {
  auto set = blockShutdownSignals();
  auto rest = client::loadKubeconfig(flags.kubeconfig);
  if (!rest.ok()) {
    std::cerr << "berth simulate: " << rest.status().message() << "\n";
    return 1;
  }
  raiseOpenFileLimit(flags.options.nodes);
  flags.options.rest = rest.value();
  flags.options.timing.leaseRenewInterval = millis(flags.leaseRenewSeconds);
  flags.options.timing.nodeStatusUpdateFrequency = millis(flags.statusUpdateSeconds);
  flags.options.timing.nodeStatusReportFrequency = millis(flags.statusReportSeconds);
  simulate::Simulator sim(flags.options);
  if (auto st = sim.start(); !st.ok()) {
    std::cerr << "berth simulate: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth simulate: " << flags.options.nodes << " nodes against "
            << flags.options.rest.server << std::endl;
  // Progress lines on a helper thread; the main thread waits for SIGINT/SIGTERM.
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    bool announced = false;
    auto last = std::chrono::steady_clock::now();
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto s = sim.stats();
      if (!announced && s.registered == s.nodes && s.watches == s.nodes) {
        announced = true;
        std::cout << "berth simulate: all " << s.nodes << " nodes registered and watching"
                  << std::endl;
      }
      if (flags.statsSeconds > 0 &&
          std::chrono::steady_clock::now() - last >= std::chrono::seconds(flags.statsSeconds)) {
        last = std::chrono::steady_clock::now();
        printStats(s);
      }
    }
  });
  waitForShutdownSignal(set);
  done = true;
  reporter.join();
  sim.stop();
  printStats(sim.stats());
  return 0;
}

}  // namespace

void addSimulateCommand(CLI::App& app) {
  auto flags = std::make_shared<SimulateFlags>();
  auto& o = flags->options;
  auto* cmd = app.add_subcommand(
      "simulate", "Run simulated nodes (kubelets without containers) against an API server");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--nodes", o.nodes, "Number of nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--name-prefix", o.namePrefix, "Node names are <prefix><index>")
      ->capture_default_str();
  cmd->add_option("--cpu", o.shape.cpu, "CPU capacity per node")->capture_default_str();
  cmd->add_option("--memory", o.shape.memory, "Memory capacity per node")->capture_default_str();
  cmd->add_option("--pods", o.shape.pods, "Pod capacity per node")->capture_default_str();
  cmd->add_option("--ephemeral-storage", o.shape.ephemeralStorage,
                  "Ephemeral-storage capacity per node")
      ->capture_default_str();
  cmd->add_option("--workers", o.workers, "Threads shared by all nodes for their API calls")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--pause-heartbeat-file", o.pauseHeartbeatFile,
                  "Nodes named in this file (one per line, re-read every second) stop renewing "
                  "their Lease and posting status");
  cmd->add_option("--lease-renew-interval", flags->leaseRenewSeconds,
                  "Seconds between Lease renewals (kubelet: 10)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--node-status-update-frequency", flags->statusUpdateSeconds,
                  "Seconds between checks of the Node status (kubelet: 10)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--node-status-report-frequency", flags->statusReportSeconds,
                  "Seconds between Node status heartbeats when nothing changed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stats-interval", flags->statsSeconds,
                  "Seconds between progress lines (0 = none)")
      ->capture_default_str();
  cmd->callback([flags] { exitCode = runSimulate(*flags); });
}

}  // namespace berth::cmd
