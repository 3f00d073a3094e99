#pragma once
// NetworkPolicyController: enforces NetworkPolicies for the pods of one node in the network
// namespace it runs in (the node's). It watches NetworkPolicies, Pods and Namespaces (shared
// informers) and, after each change, rebuilds the node's Ruleset (ruleset.h) and applies the
// difference with one `nft -f -` transaction: set elements only when just pods or namespace
// labels changed, the whole `inet berth-netpol` table otherwise. Changes are coalesced for a few
// milliseconds, so a burst of events costs one transaction; a failed transaction is retried
// with a full replacement a second later.
//
// Thread-safety: start()/stop() from the owning thread; everything else runs on its own thread.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/informer.h"
#include "client/rest_client.h"
#include "core/result.h"
#include "metrics/metrics.h"
#include "netpol/ruleset.h"

namespace berth::netpol {

struct ControllerOptions {
  client::RestConfig rest;
  std::string nodeName;
  metrics::Registry* metrics = nullptr;
  // Runs one nft script (stdin of `nft -f -`); empty = the real nft. Tests replace it.
  std::function<core::Status(const std::string& script)> applyScript;
  // Remove the table on stop (the agent keeps it: pods stay protected across restarts).
  bool cleanupOnStop = false;
};

class NetworkPolicyController {
 public:
  explicit NetworkPolicyController(ControllerOptions options);
  ~NetworkPolicyController();

  core::Status start();
  void stop();
  // Syncs so far (for tests), and the last applied ruleset.
  long long syncs() const;
  Ruleset applied() const;

 private:
  void changed();
  core::Status probeReadAccess();
  void loop();
  core::Status syncOnce();
  ClusterState snapshot() const;

  ControllerOptions o_;
  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<client::SharedInformer> policies_, pods_, namespaces_;
  metrics::HistogramFamily* syncSeconds_ = nullptr;
  metrics::CounterFamily* syncTotal_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stopping_ = false, haveApplied_ = false;
  long long syncs_ = 0;
  Ruleset applied_;
  std::thread thread_;
};

// `nft -f -` with the script on stdin; an error with nft's message when it fails.
core::Status runNft(const std::string& script);

}  // namespace berth::netpol
