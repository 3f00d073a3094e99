#include "controllers/manager/controller_manager.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "client/informer.h"
#include "client/leader_election.h"
#include "controllers/manager/controller_list.h"

namespace berth::controllers {

namespace {

bool wanted(const std::vector<std::string>& selection, const ControllerEntry& entry) {
  if (std::find(selection.begin(), selection.end(), "-" + entry.name) != selection.end())
    return false;
  if (std::find(selection.begin(), selection.end(), entry.name) != selection.end()) return true;
  return entry.enabledByDefault &&
         std::find(selection.begin(), selection.end(), "*") != selection.end();
}

std::string defaultIdentity() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", rd());
  return std::string(host) + suffix;
}

}  // namespace

struct ControllerManager::Impl {
  ControllerManagerOptions options;
  std::unique_ptr<client::RestClient> client;
  std::unique_ptr<metrics::Registry> ownMetrics;
  metrics::Registry* metrics = nullptr;
  std::unique_ptr<client::LeaderElector> elector;
  std::mutex starterMu;
  std::thread starter;  // runs startControllers() for the elector's callback

  std::mutex mu;  // guards the running set
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::vector<std::unique_ptr<Controller>> running;

  void startControllers() {
    std::lock_guard lock(mu);
    if (!running.empty()) return;
    informers = std::make_unique<client::SharedInformerFactory>(*client, std::chrono::minutes(10));
    ControllerContext ctx{*client, *informers, *metrics, options.workers, options.flags};
    for (const auto& entry : controllerList()) {
      if (wanted(options.controllers, entry)) running.push_back(entry.create(ctx));
    }
    informers->start();
    if (!informers->waitForCacheSync(std::chrono::seconds(60))) {
      std::cerr << "berth controller-manager: caches did not sync within 60 s; starting anyway\n";
    }
    for (auto& c : running) c->run();
  }

  void stopControllers() {
    std::lock_guard lock(mu);
    for (auto& c : running) c->stop();
    if (informers) informers->shutdown();
    running.clear();
    informers.reset();
  }
};

ControllerManager::ControllerManager(ControllerManagerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.identity.empty()) impl_->options.identity = defaultIdentity();
  if (impl_->options.metrics) {
    impl_->metrics = impl_->options.metrics;
  } else {
    impl_->ownMetrics = std::make_unique<metrics::Registry>();
    impl_->metrics = impl_->ownMetrics.get();
  }
}

ControllerManager::~ControllerManager() { stop(); }

core::Status ControllerManager::start() {
  for (const auto& name : impl_->options.controllers) {
    std::string bare = name.starts_with("-") ? name.substr(1) : name;
    if (bare == "*") continue;
    auto known = knownControllers();
    if (std::find(known.begin(), known.end(), bare) == known.end())
      return core::Status::badRequest("unknown controller \"" + bare + "\"");
  }
  auto rest = impl_->options.rest;
  if (rest.userAgent == "berth-client") rest.userAgent = "berth-controller-manager/v0.1";
  // Controllers write a lot on bulk changes: upstream's kube-controller-manager runs with
  // --kube-api-qps 20 / burst 30 by default and large clusters raise it. All our controllers
  // share this one client in the server's own process, and a 10,000-replica Deployment alone
  // is 10,000 creates plus status writes: at 200 QPS that was 50 s of throttling while the
  // server could accept ~1,000 creates/s. The limit stays only as a guard against a hot loop
  // (the scheduler's in-process client has the same).
  rest.qps = std::max(rest.qps, 5000.0);
  rest.burst = std::max(rest.burst, 10000);
  // Pooled connections for the ReplicaSet controller's 16 concurrent creates and the rest: a
  // request beyond the pool pays a new TLS handshake.
  rest.maxIdleConnections = std::max(rest.maxIdleConnections, 32);
  auto client = client::RestClient::create(rest);
  if (!client.ok()) return client.status();
  impl_->client = std::move(client.value());
  if (!impl_->options.leaderElect) {
    impl_->startControllers();
    return core::Status();
  }
  client::LeaderElectionConfig le;
  le.leaseNamespace = "kube-system";
  le.leaseName = "kube-controller-manager";
  le.identity = impl_->options.identity;
  // Callbacks must return promptly: cache sync can take a while, so start on a thread of ours.
  le.onStartedLeading = [this] {
    std::lock_guard lock(impl_->starterMu);
    if (impl_->starter.joinable()) impl_->starter.join();
    impl_->starter = std::thread([this] { impl_->startControllers(); });
  };
  le.onStoppedLeading = [this] { impl_->stopControllers(); };
  impl_->elector = std::make_unique<client::LeaderElector>(*impl_->client, le);
  impl_->elector->start();
  return core::Status();
}

void ControllerManager::stop() {
  if (impl_->elector) impl_->elector->stop();
  {
    std::lock_guard lock(impl_->starterMu);
    if (impl_->starter.joinable()) impl_->starter.join();
  }
  impl_->stopControllers();
}

bool ControllerManager::leading() const {
  return !impl_->options.leaderElect || (impl_->elector && impl_->elector->isLeader());
}

std::vector<std::string> ControllerManager::knownControllers() {
  std::vector<std::string> names;
  for (const auto& e : controllerList()) names.push_back(e.name);
  return names;
}

}  // namespace berth::controllers
