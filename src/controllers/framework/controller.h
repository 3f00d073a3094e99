#pragma once
// The shape every controller has (one folder per controller under src/controllers/): an API
// client like any other (DESIGN.md's one rule), fed by the process's shared informers, draining
// a rate-limited work queue of keys with an idempotent, level-triggered sync.
//
// Lifecycle, driven by the ControllerManager:
//   1. construction (from a ControllerContext): take informers from `ctx.informers`, add event
//      handlers that enqueue keys; do no API calls yet;
//   2. the manager starts the informers and waits for their caches to sync;
//   3. run(): start the workers (QueueWorkers::start) and any periodic loops; return promptly;
//   4. stop(): stop workers and loops; no sync runs after it returns.
#include <map>
#include <memory>
#include <string>

#include "client/informer.h"
#include "client/rest_client.h"
#include "metrics/metrics.h"

namespace berth::controllers {

struct ControllerContext {
  client::RestClient& client;
  client::SharedInformerFactory& informers;
  metrics::Registry& metrics;
  // Workers per controller (upstream's --concurrent-*-syncs; 5 for replicaset/deployment).
  int workers = 5;
  // Upstream's per-controller flags by name, e.g. {"node-monitor-grace-period", "40s"}
  // (controllers/framework/flags.h reads them).
  std::map<std::string, std::string> flags = {};
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual void run() = 0;
  virtual void stop() = 0;
};

}  // namespace berth::controllers
