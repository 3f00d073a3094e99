#pragma once
// Simulator: `berth simulate`'s engine. N simulated kubelets (SimNode) in one process share a
// REST client for their writes, a WatchMux for their pod watches (one connection each, as real
// kubelets) and a small TaskPool for everything else: no thread per node, so 5,000 nodes cost
// a few threads, their sockets and their small per-node state.
//
// Thread-safety: start()/stop() from one thread; stats() from any.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/rest_client.h"
#include "core/status.h"
#include "simulate/node_objects.h"
#include "simulate/sim_node.h"
#include "simulate/task_pool.h"
#include "simulate/watch_mux.h"

namespace berth::simulate {

struct SimulatorOptions {
  client::RestConfig rest;
  int nodes = 1;
  std::string namePrefix = "sim-node-";
  NodeShape shape;  // name and internalIp are set per node
  int workers = 4;
  SimTiming timing;
  // Nodes named in this file (one per line) stop renewing Leases and posting status; re-read
  // every second. Empty = none.
  std::string pauseHeartbeatFile;
};

struct SimulatorStats {
  long long nodes = 0, registered = 0, watches = 0, leaseRenewals = 0, statusPosts = 0,
            podsStarted = 0, podsDeleted = 0, errors = 0;
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);
  ~Simulator();  // stop()

  core::Status start();
  void stop();
  SimulatorStats stats() const;

  // Node i's name and InternalIP: addresses in 10.128.0.0/12 (clear of the default pod range
  // 10.244.0.0/16 and service range 10.96.0.0/12), offset by a hash of the prefix so several
  // simulate processes with different prefixes rarely collide.
  static std::string nodeName(const std::string& prefix, int i);
  static std::string nodeIp(const std::string& prefix, int i);

 private:
  void pollPauseFile();

  SimulatorOptions options_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<TaskPool> pool_;
  std::unique_ptr<WatchMux> mux_;
  std::unique_ptr<SimContext> ctx_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::atomic<bool> stopped_{false};
};

}  // namespace berth::simulate
