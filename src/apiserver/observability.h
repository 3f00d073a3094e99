#pragma once
// The API server's own health and metrics endpoints, in front of the REST handler:
// /livez, /readyz, /healthz with named checks (health::Checks) and /metrics (upstream's
// apiserver_* families, apiserver_storage_objects and the process_* collector), plus the request
// accounting that wraps every request (RequestMetrics).
//
// Checks, as upstream names them where one exists: ping; etcd (the store answers a read,
// whichever backend it is, named as upstream so existing probes and dashboards work);
// poststarthook/bootstrap-controller (default namespaces and the kubernetes Service exist);
// readyz only: informer-sync (the watch cache has caught up with the store) and shutdown (fails
// once the server begins to stop, so load balancers drain it first).
//
// Thread-safety: handle() from any number of connection threads; the mark*() calls from the
// owner's thread.
#include <atomic>
#include <memory>

#include "apiserver/health/health.h"
#include "apiserver/http/server.h"
#include "apiserver/request_metrics.h"
#include "apiserver/watch_cache.h"
#include "metrics/metrics.h"
#include "store/interface.h"

namespace berth::apiserver {

class Observability {
 public:
  Observability(store::Interface& store, CacheSet& cache);

  // Answers the health and metrics paths; passes everything else to `next`. Every request is
  // accounted for in the metrics.
  void handle(http::Request& request, http::ResponseWriter& writer, const http::Handler& next);

  void markBootstrapped() { bootstrapped_.store(true); }
  void markShuttingDown() { shuttingDown_.store(true); }
  metrics::Registry& registry() { return registry_; }
  // Registries of in-process components, appended to /metrics (set before serving).
  void addExtraMetrics(std::vector<const metrics::Registry*> extra) { extra_ = std::move(extra); }

 private:
  void serveMetrics(const http::Request& request, http::ResponseWriter& writer);

  metrics::Registry registry_;
  std::vector<const metrics::Registry*> extra_;
  RequestMetrics requests_;
  health::Checks checks_;
  std::atomic<bool> bootstrapped_{false};
  std::atomic<bool> shuttingDown_{false};
};

}  // namespace berth::apiserver
