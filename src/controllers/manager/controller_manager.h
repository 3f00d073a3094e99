#pragma once
// ControllerManager: runs the controllers (src/controllers/<name>/) as one component, as
// kube-controller-manager does: one REST client and one SharedInformerFactory shared by every
// controller, started once this instance holds the `kube-controller-manager` Lease in
// kube-system (so only one of several servers reconciles), stopped when it loses it.
//
// Runs inside `berth server` (its own client identity, through the API like any client) and
// alone as `berth controller-manager --kubeconfig FILE` against a remote server.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/rest_client.h"
#include "core/status.h"
#include "metrics/metrics.h"

namespace berth::controllers {

struct ControllerManagerOptions {
  client::RestConfig rest;
  // Names to run; "*" = every default one, "-name" turns one off (upstream's --controllers).
  std::vector<std::string> controllers{"*"};
  bool leaderElect = true;
  std::string identity;  // holder identity; empty = hostname + random suffix
  int workers = 5;
  // Upstream's per-controller flags by name ("node-monitor-grace-period" → "40s").
  std::map<std::string, std::string> flags;
  // Where controllers register their metrics (the server's /metrics shows it when in-process).
  metrics::Registry* metrics = nullptr;
};

class ControllerManager {
 public:
  explicit ControllerManager(ControllerManagerOptions options);
  ~ControllerManager();
  core::Status start();
  void stop();
  bool leading() const;
  // Names of the controllers this build knows, for --help and validation.
  static std::vector<std::string> knownControllers();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::controllers
