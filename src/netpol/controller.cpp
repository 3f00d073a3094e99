#include "netpol/controller.h"

#include <boost/json.hpp>

#include <fstream>
#include <iostream>

#include "core/json_access.h"
#include "netpol/render.h"
#include "sys/process.h"

namespace json = boost::json;

namespace berth::netpol {

namespace {

const client::Resource kPolicies{"networking.k8s.io", "v1", "networkpolicies", true};
const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNamespaces{"", "v1", "namespaces", false};

// Coalescing window: events of one change (a pod's IP, then its Ready condition) in one sync.
constexpr auto kCoalesce = std::chrono::milliseconds(10);
constexpr auto kRetry = std::chrono::seconds(1);

}  // namespace

core::Status runNft(const std::string& script) {
  std::vector<std::string> argv{"nft", "-f", "-"};
  auto r = sys::runProcess(argv, {.stdinData = script, .timeout = std::chrono::seconds(10)});
  if (!r.ok()) return r.status();
  if (r->exitCode != 0) return core::Status::internal(sys::describeFailure(argv, *r));
  return {};
}

NetworkPolicyController::NetworkPolicyController(ControllerOptions options)
    : o_(std::move(options)) {
  if (!o_.applyScript) o_.applyScript = runNft;
  if (o_.metrics) {
    syncSeconds_ = &o_.metrics->histogram(
        "berth_netpol_sync_duration_seconds",
        "Time to rebuild and apply the node's NetworkPolicy nftables rules", {"kind"},
        {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    syncTotal_ =
        &o_.metrics->counter("berth_netpol_syncs_total",
                             "NetworkPolicy rule syncs by kind and result", {"kind", "result"});
  }
}

NetworkPolicyController::~NetworkPolicyController() { stop(); }

// Fails at once (not after the informers' sync timeout) when this identity may not read what
// the controller needs, e.g. a node credential without cluster-wide list rights: 401 and 403 are
// answers. Anything else (a connection cut while the server starts, 429, 5xx) is retried for
// about 15 s, or one transient error at start-up would leave the node unpoliced for good.
core::Status NetworkPolicyController::probeReadAccess() {
  auto delay = std::chrono::milliseconds(250);
  for (int attempt = 0;; ++attempt) {
    core::Status failed;
    for (const auto* r : {&kPolicies, &kPods, &kNamespaces}) {
      client::ListOptions probe;
      probe.limit = 1;
      if (auto l = rest_->list(*r, "", probe); !l.ok()) {
        failed = l.status();
        break;
      }
    }
    if (failed.ok()) return {};
    if (failed.code() == 401 || failed.code() == 403 || attempt == 6) return failed;
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, delay, [this] { return stopping_; })) return failed;
    delay *= 2;
  }
}

core::Status NetworkPolicyController::start() {
  auto config = o_.rest;
  config.userAgent = "berth-netpol/v0.1 (" + o_.nodeName + ")";
  auto rest = client::RestClient::create(config);
  if (!rest.ok()) return rest.status();
  rest_ = std::move(*rest);
  // Bridged pod-to-pod traffic passes the inet forward hook only through br_netfilter; turn it
  // on in this (the node's) namespace, for both families. Best effort: without it only routed
  // traffic is filtered.
  for (const char* family : {"iptables", "ip6tables"})
    if (std::ofstream f(std::string("/proc/sys/net/bridge/bridge-nf-call-") + family); f)
      f << "1\n";
  if (auto st = probeReadAccess(); !st.ok()) return st;
  policies_ = std::make_unique<client::SharedInformer>(*rest_, kPolicies);
  pods_ = std::make_unique<client::SharedInformer>(*rest_, kPods);
  namespaces_ = std::make_unique<client::SharedInformer>(*rest_, kNamespaces);
  for (auto* inf : {policies_.get(), pods_.get(), namespaces_.get()}) {
    inf->addEventHandler({[this](const client::ObjectPtr&) { changed(); },
                          [this](const client::ObjectPtr&, const client::ObjectPtr&) { changed(); },
                          [this](const client::DeletedObject&) { changed(); }});
    inf->start();
  }
  for (auto* inf : {policies_.get(), pods_.get(), namespaces_.get()})
    if (!inf->waitForSync(std::chrono::seconds(30)))
      return core::Status::unavailable("the NetworkPolicy controller's informers did not sync");
  thread_ = std::thread([this] { loop(); });
  return {};
}

void NetworkPolicyController::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto* inf : {policies_.get(), pods_.get(), namespaces_.get()})
    if (inf) inf->stop();
  if (o_.cleanupOnStop && haveApplied_) (void)o_.applyScript(deleteScript());
}

long long NetworkPolicyController::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

Ruleset NetworkPolicyController::applied() const {
  std::lock_guard lock(mu_);
  return applied_;
}

void NetworkPolicyController::changed() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

ClusterState NetworkPolicyController::snapshot() const {
  ClusterState s;
  for (const auto& p : policies_->lister().list(""))
    if (p->is_object()) s.policies.push_back(p->as_object());
  for (const auto& p : pods_->lister().list(""))
    if (p->is_object())
      if (auto info = podInfo(p->as_object(), o_.nodeName)) s.pods.push_back(std::move(*info));
  for (const auto& n : namespaces_->lister().list(""))
    if (n->is_object())
      if (const auto* meta = core::objectField(n->as_object(), "metadata"))
        s.namespaces[core::stringField(*meta, "name")] = core::labelsOf(n->as_object());
  return s;
}

void NetworkPolicyController::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait(lock, [this] { return dirty_ || stopping_; });
    if (stopping_) break;
    // Let the rest of a burst arrive, then take it all in one sync.
    cv_.wait_for(lock, kCoalesce, [this] { return stopping_; });
    if (stopping_) break;
    dirty_ = false;
    lock.unlock();
    auto st = syncOnce();
    lock.lock();
    if (!st.ok()) {
      std::cerr << "berth netpol: " << st.message() << std::endl;
      haveApplied_ = false;  // next time replace the whole table
      cv_.wait_for(lock, kRetry, [this] { return stopping_; });
      dirty_ = true;
    }
  }
}

core::Status NetworkPolicyController::syncOnce() {
  auto start = std::chrono::steady_clock::now();
  Ruleset next = buildRuleset(snapshot());
  bool full;
  std::string script;
  {
    std::lock_guard lock(mu_);
    full = !haveApplied_ || !applied_.sameStructure(next);
    script = full ? fullScript(next) : elementScript(applied_, next);
  }
  const char* kind = full ? "full" : "elements";
  core::Status st;
  if (!script.empty()) st = o_.applyScript(script);
  if (syncTotal_) syncTotal_->with({kind, st.ok() ? "success" : "error"}).inc();
  if (!st.ok()) return st;
  if (syncSeconds_)
    syncSeconds_->with({kind}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::lock_guard lock(mu_);
  applied_ = std::move(next);
  haveApplied_ = true;
  ++syncs_;
  return {};
}

}  // namespace berth::netpol
