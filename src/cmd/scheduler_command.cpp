// `berth scheduler --kubeconfig FILE`: the scheduler alone, against any API server.
#include <iostream>
#include <memory>

#include "cmd/commands.h"
#include "cmd/signals.h"
#include "scheduler/scheduler.h"

namespace berth::cmd {

namespace {

struct SchedulerFlags {
  std::string kubeconfig;
  bool leaderElect = true;
  int percentageOfNodesToScore = 0;
};

int runScheduler(const SchedulerFlags& flags) {
  auto set = blockShutdownSignals();
  auto rest = client::loadKubeconfig(flags.kubeconfig);
  if (!rest.ok()) {
    std::cerr << "berth scheduler: " << rest.status().message() << "\n";
    return 1;
  }
  scheduler::SchedulerOptions options;
  options.rest = rest.value();
  options.leaderElect = flags.leaderElect;
  options.percentageOfNodesToScore = flags.percentageOfNodesToScore;
  scheduler::Scheduler sched(options);
  if (auto st = sched.start(); !st.ok()) {
    std::cerr << "berth scheduler: " << st.message() << "\n";
    return 1;
  }
  std::cout << "berth scheduler: running against " << options.rest.server << std::endl;
  waitForShutdownSignal(set);
  sched.stop();
  return 0;
}

}  // namespace

void addSchedulerCommand(CLI::App& app) {
  auto flags = std::make_shared<SchedulerFlags>();
  auto* cmd = app.add_subcommand("scheduler", "Run the scheduler against an API server (kubeconfig)");
  cmd->add_option("--kubeconfig", flags->kubeconfig, "Kubeconfig of the API server")->required();
  cmd->add_option("--leader-elect", flags->leaderElect,
                  "Run only while holding the kube-system/kube-scheduler Lease")
      ->capture_default_str();
  cmd->add_option("--percentage-of-nodes-to-score", flags->percentageOfNodesToScore,
                  "Feasible nodes to find before scoring, in % of all (0 = adaptive, as upstream)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  cmd->callback([flags] { exitCode = runScheduler(*flags); });
}

}  // namespace berth::cmd
