#include "proxy/proxier.h"

#include <boost/json.hpp>

#include <iostream>

#include "proxy/node_addresses.h"
#include "sys/process.h"

namespace json = boost::json;

namespace berth::proxy {

namespace {

const client::Resource kServices{"", "v1", "services", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
constexpr const char* kByService = "service";

std::string sliceService(const json::value& slice) {
  if (!slice.is_object()) return {};
  const auto* meta = slice.as_object().if_contains("metadata");
  if (!meta || !meta->is_object()) return {};
  const auto* labels = meta->as_object().if_contains("labels");
  if (!labels || !labels->is_object()) return {};
  const auto* name = labels->as_object().if_contains(kServiceNameLabel);
  if (!name || !name->is_string() || name->as_string().empty()) return {};
  return std::string(client::objectNamespace(slice)) + "/" + std::string(name->as_string());
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

NftRunner commandRunner(const std::string& nftBinary) {
  return [nftBinary](const std::string& transaction) -> core::Status {
    sys::ProcessOptions po;
    po.stdinData = transaction;
    po.timeout = std::chrono::minutes(2);
    std::vector<std::string> argv{nftBinary, "-f", "-"};
    auto r = sys::runProcess(argv, po);
    if (!r.ok()) return r.status();
    if (r->exitCode != 0) return core::Status::internal(sys::describeFailure(argv, *r));
    return {};
  };
}

Proxier::Proxier(client::RestClient& rest, ProxierOptions options, NftRunner runner)
    : o_(std::move(options)),
      runner_(runner ? std::move(runner) : commandRunner(o_.nftBinary)),
      state_(o_.rules) {
  if (o_.rules6) state6_.emplace(*o_.rules6);
  ownServices_ = std::make_unique<client::SharedInformer>(rest, kServices);
  ownSlices_ = std::make_unique<client::SharedInformer>(rest, kSlices);
  services_ = ownServices_.get();
  slices_ = ownSlices_.get();
}

Proxier::Proxier(client::SharedInformer& services, client::SharedInformer& slices,
                 ProxierOptions options, NftRunner runner)
    : o_(std::move(options)),
      runner_(runner ? std::move(runner) : commandRunner(o_.nftBinary)),
      state_(o_.rules),
      services_(&services),
      slices_(&slices) {
  if (o_.rules6) state6_.emplace(*o_.rules6);
}

Proxier::~Proxier() { stop(); }

void Proxier::watch() {
  services_->addEventHandler(
      {[this](const client::ObjectPtr& o) { markDirty(o, false); },
       [this](const client::ObjectPtr&, const client::ObjectPtr& n) { markDirty(n, false); },
       [this](const client::DeletedObject& d) { markDirty(d.object, false); }});
  slices_->addEventHandler({[this](const client::ObjectPtr& o) { markDirty(o, true); },
                            [this](const client::ObjectPtr& old, const client::ObjectPtr& n) {
                              markDirty(old, true);  // its Service label may have changed
                              markDirty(n, true);
                            },
                            [this](const client::DeletedObject& d) { markDirty(d.object, true); }});
}

core::Status Proxier::start() {
  if (o_.metrics) {
    syncLatency_ = &o_.metrics->histogram(
        "kubeproxy_sync_proxy_rules_duration_seconds",
        "SyncProxyRules latency in seconds (full and partial syncs)", {},
        {0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048,
         4.096, 8.192, 16.384}).get();
  }
  (void)slices_->addIndexers({{kByService, [](const json::value& v) {
                                 auto key = sliceService(v);
                                 return key.empty() ? std::vector<std::string>{}
                                                    : std::vector<std::string>{key};
                               }}});
  if (ownServices_) {
    watch();
    ownServices_->start();
    ownSlices_->start();
  }
  if (!client::waitForCacheSync({services_, slices_}, std::chrono::seconds(30)))
    return core::Status::unavailable("proxy: the Service and EndpointSlice informers did not sync");
  if (o_.ensureServiceRoute) {
    // Without any route to the service range, the node's own connections to a ClusterIP fail
    // before nat-output could rewrite them.
    std::string first = o_.rules.serviceCidr.substr(0, o_.rules.serviceCidr.find('/'));
    auto got = sys::runProcess({"ip", "route", "get", first});
    if (got.ok() && got->exitCode != 0)
      (void)sys::runProcess({"ip", "route", "add", o_.rules.serviceCidr, "dev", "lo"});
    if (o_.rules6) {
      const auto& cidr6 = o_.rules6->serviceCidr;
      auto got6 = sys::runProcess({"ip", "-6", "route", "get", cidr6.substr(0, cidr6.find('/'))});
      if (got6.ok() && got6->exitCode != 0)
        (void)sys::runProcess({"ip", "-6", "route", "add", cidr6, "dev", "lo"});
    }
  }
  if (auto st = validateNodePortAddresses(o_.nodePortAddresses); !st.ok()) return st;
  if (!o_.nodePortAddresses.empty()) {
    refreshNodePortAddresses();
  } else if (!o_.healthCheckAddress.empty()) {
    health_ = std::make_unique<HealthCheckServer>(std::vector<std::string>{o_.healthCheckAddress});
  }
  if (!syncOnce(true)) return core::Status::internal("proxy: the first full sync failed");
  if (!o_.healthzBindAddress.empty()) {
    healthz_ =
        std::make_unique<ProxyHealthzServer>(o_.healthzBindAddress, [this] { return health(); });
    // As upstream, a proxy whose health port is taken still proxies; the error is logged.
    if (auto st = healthz_->start(); !st.ok()) {
      std::cerr << "berth proxy: " << st.message() << std::endl;
      healthz_.reset();
    }
  }
  thread_ = std::thread([this] { syncLoop(); });
  return {};
}

void Proxier::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (health_) health_->stop();
  if (healthz_) healthz_->stop();
  if (ownServices_) ownServices_->stop();
  if (ownSlices_) ownSlices_->stop();
  // The rules stay: traffic to Services keeps flowing while the proxy restarts, as upstream.
}

void Proxier::markDirty(const client::ObjectPtr& obj, bool isSlice) {
  if (!obj) return;
  std::string key = isSlice ? sliceService(*obj) : client::metaNamespaceKey(*obj);
  if (!key.empty()) serviceChanged(key);
}

void Proxier::serviceChanged(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    dirty_.insert(key);
    ++changesSeen_;
    if (!pendingSince_) pendingSince_ = std::chrono::steady_clock::now();
  }
  cv_.notify_all();
}

ProxyHealth Proxier::health() const {
  std::lock_guard lock(mu_);
  ProxyHealth h;
  h.lastUpdated = lastUpdated_;
  h.healthy = synced_ && (!pendingSince_ ||
                          std::chrono::steady_clock::now() - *pendingSince_ < o_.healthTimeout);
  return h;
}

Proxier::Stats Proxier::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Proxier::waitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  long long target = changesSeen_;
  return cv_.wait_for(lock, timeout, [&] {
    return stopping_ || (changesApplied_ >= target && !needFull_ && dirty_.empty());
  });
}

client::ObjectPtr Proxier::lookup(const std::string& serviceKey,
                                  std::vector<const json::object*>& sliceObjects,
                                  std::vector<client::ObjectPtr>& keepAlive) const {
  auto slash = serviceKey.find('/');
  auto svc = services_->indexer().get(serviceKey.substr(0, slash), serviceKey.substr(slash + 1));
  if (!svc || !svc->is_object()) return nullptr;
  auto slices = slices_->indexer().byIndex(kByService, serviceKey);
  if (slices.ok()) {
    keepAlive = std::move(*slices);
    for (const auto& s : keepAlive)
      if (s && s->is_object()) sliceObjects.push_back(&s->as_object());
  }
  return svc;
}

Contribution Proxier::contributionFor(const std::string& serviceKey, const RulesetConfig& rules,
                                      const std::string& family) const {
  std::vector<const json::object*> slices;
  std::vector<client::ObjectPtr> keepAlive;
  auto svc = lookup(serviceKey, slices, keepAlive);
  if (!svc) return {};
  return contribute(servicePorts(svc->as_object(), slices, family), rules);
}

void Proxier::syncHealthChecks(const std::set<std::string>& keys, bool all) {
  if (!health_) return;
  bool changed = false;
  auto refresh = [&](const std::string& key) {
    std::vector<const json::object*> slices;
    std::vector<client::ObjectPtr> keepAlive;
    auto svc = lookup(key, slices, keepAlive);
    auto hc = svc ? healthCheckOf(svc->as_object(), slices, o_.rules.nodeName) : std::nullopt;
    auto it = healthChecks_.find(key);
    if (!hc && it != healthChecks_.end()) {
      healthChecks_.erase(it);
      changed = true;
    } else if (hc && (it == healthChecks_.end() || it->second != *hc)) {
      healthChecks_[key] = std::move(*hc);
      changed = true;
    }
  };
  if (all) {
    std::set<std::string> every;
    for (const auto& key : services_->indexer().listKeys()) every.insert(key);
    for (const auto& [key, hc] : healthChecks_) every.insert(key);
    for (const auto& key : every) refresh(key);
  } else {
    for (const auto& key : keys) refresh(key);
  }
  // A port that could not be bound is retried with every later change.
  if (!changed && lastHealthError_.empty()) return;
  std::map<int, HealthCheckTarget> targets;
  for (const auto& [key, hc] : healthChecks_) targets[hc.first] = hc.second;
  auto st = health_->sync(targets);
  std::string error = st.ok() ? "" : st.message();
  if (!error.empty() && error != lastHealthError_)
    std::cerr << "berth proxy: " << error << std::endl;
  lastHealthError_ = error;
}

std::optional<std::vector<std::string>> Proxier::changedNodePortAddresses() const {
  if (o_.nodePortAddresses.empty()) return std::nullopt;
  auto local = o_.localAddresses ? o_.localAddresses() : localAddresses();
  auto selected = selectNodePortAddresses(o_.nodePortAddresses, local, o_.nodeIP);
  if (nodePortIps_ && *nodePortIps_ == selected) return std::nullopt;
  return selected;
}

bool Proxier::refreshNodePortAddresses() {
  auto selected = changedNodePortAddresses();
  if (!selected) return false;
  if (selected->empty())
    std::cerr << "berth proxy: --nodeport-addresses selects no address of this node; "
                 "NodePorts answer nowhere"
              << std::endl;
  else if (nodePortIps_)
    std::cerr << "berth proxy: NodePorts now answer on " << selected->size()
              << " node address(es) --nodeport-addresses selects" << std::endl;
  nodePortIps_ = *selected;
  // The sets' elements are part of the base rules: new states, and the caller syncs in full.
  auto rules = o_.rules;
  rules.nodePortIps = selected;
  state_ = RuleState(rules);
  if (o_.rules6) {
    auto rules6 = *o_.rules6;
    rules6.nodePortIps = selected;
    state6_.emplace(rules6);
  }
  if (!o_.healthCheckAddress.empty()) {
    // The health check nodePorts listen on the selected addresses: a new server on the new ones,
    // given every target again at the next syncHealthChecks.
    if (health_) health_->stop();
    health_ = std::make_unique<HealthCheckServer>(*selected);
    lastHealthError_ = "node addresses changed";
  }
  return true;
}

bool Proxier::syncOnce(bool full) {
  // Upstream re-reads the node's addresses on every sync: one that appeared or went away
  // changes where NodePorts answer.
  if (refreshNodePortAddresses()) full = true;
  std::set<std::string> dirty;
  long long seen;
  {
    std::lock_guard lock(mu_);
    dirty.swap(dirty_);
    seen = changesSeen_;
    if (needFull_) full = true;
    needFull_ = false;
  }
  auto begin = std::chrono::steady_clock::now();
  std::string transaction;
  // The state moves ahead of the kernel; if the transaction fails, the next sync is a full one,
  // which rebuilds the state from the informers (copying it here would cost more than a sync).
  // One transaction for both tables of a dual-stack node: the families never disagree.
  struct Family {
    RuleState* state;
    std::string name;  // "IPv4" / "IPv6"
  };
  // An IPv6-only node's one table is IPv6 (splitDualStack).
  std::vector<Family> families{{&state_, o_.rules.family == "ip6" ? "IPv6" : "IPv4"}};
  if (state6_) families.push_back({&*state6_, "IPv6"});
  if (!full) {
    for (const auto& f : families) {
      std::map<std::string, std::optional<Contribution>> changes;
      for (const auto& key : dirty) {
        auto c = contributionFor(key, f.state->config(), f.name);
        changes[key] = c.elements.empty() ? std::nullopt : std::optional(std::move(c));
      }
      auto partial = f.state->update(changes);
      if (!partial) {
        full = true;
        break;
      }
      transaction += *partial;
    }
  }
  if (full) {
    transaction.clear();
    for (const auto& f : families) {
      std::map<std::string, Contribution> all;
      for (const auto& key : services_->indexer().listKeys()) {
        auto c = contributionFor(key, f.state->config(), f.name);
        if (!c.elements.empty()) all.emplace(key, std::move(c));
      }
      transaction += f.state->fullSync(std::move(all));
    }
  }
  syncHealthChecks(dirty, full);
  core::Status st;
  if (!transaction.empty()) st = runner_(transaction);
  auto took = std::chrono::steady_clock::now() - begin;
  std::lock_guard lock(mu_);
  if (!st.ok()) {
    std::cerr << "berth proxy: " << (full ? "full" : "partial")
              << " sync failed: " << st.message().substr(0, 2000) << std::endl;
    ++stats_.failures;
    needFull_ = true;  // the kernel is unchanged; rebuild everything next time
    return false;
  }
  if (!transaction.empty()) {
    ++stats_.generation;
    ++(full ? stats_.fullSyncs : stats_.partialSyncs);
    stats_.lastSync = std::chrono::duration_cast<std::chrono::microseconds>(took);
    if (syncLatency_) syncLatency_->observe(seconds(took));
  }
  changesApplied_ = seen;
  synced_ = true;
  lastUpdated_ = std::chrono::system_clock::now();
  // Changes that came in during this sync are still waiting; they count from now.
  pendingSince_ =
      changesSeen_ > seen ? std::optional(std::chrono::steady_clock::now()) : std::nullopt;
  cv_.notify_all();
  return true;
}

void Proxier::syncLoop() {
  auto lastSync = std::chrono::steady_clock::now();
  auto lastFull = lastSync;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto fullDue = lastFull + o_.fullSyncPeriod;
    auto wake = fullDue;
    if (!o_.nodePortAddresses.empty())
      wake = std::min(wake, std::chrono::steady_clock::now() + o_.nodeAddressCheckPeriod);
    cv_.wait_until(lock, wake, [&] { return stopping_ || !dirty_.empty() || needFull_; });
    if (stopping_) break;
    if (dirty_.empty() && !needFull_ && std::chrono::steady_clock::now() < fullDue) {
      // Nothing changed in the API: only a look at the node's addresses (a getifaddrs).
      lock.unlock();
      bool moved = changedNodePortAddresses().has_value();
      lock.lock();
      if (!moved) continue;
    }
    // Batch a burst of changes: at most one sync per minSyncPeriod.
    auto earliest = lastSync + o_.minSyncPeriod;
    if (std::chrono::steady_clock::now() < earliest) {
      cv_.wait_until(lock, earliest, [&] { return stopping_; });
      if (stopping_) break;
    }
    bool full = needFull_ || std::chrono::steady_clock::now() >= fullDue;
    lock.unlock();
    bool ok = syncOnce(full);
    lastSync = std::chrono::steady_clock::now();
    if (full && ok) lastFull = lastSync;
    lock.lock();
    // After a failure, retry no faster than once a second.
    if (!ok) cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
  }
}

}  // namespace berth::proxy
