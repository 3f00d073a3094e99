#pragma once
// Proxier: the service proxy of one node (kube-proxy's role, nftables mode). It watches Services
// and EndpointSlices, turns them into the rule set of ruleset.h and programs it with `nft -f -`,
// one atomic transaction per sync:
// - on start (and every fullSyncPeriod) a full sync deletes and recreates its table, so rules a
//   previous run left behind are gone;
// - in between, a change of one Service or EndpointSlice rewrites only that Service's elements
//   and chains; changes are batched, at most one sync per minSyncPeriod (upstream's
//   --iptables-min-sync-period idea, small here);
// - a failed transaction leaves the kernel unchanged and schedules a full sync.
// It runs in the node's network namespace. If the node has no route to the service range it adds
// one via `lo`, so processes on the node reach ClusterIPs (the DNAT happens in nat-output).
//
// Thread-safety: start()/stop() from the owning thread; the informers' dispatch threads only mark
// Services dirty; one sync thread owns the rule state.
#include <chrono>
#include <functional>
#include <map>
#include <condition_variable>
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "client/informer.h"
#include "client/rest_client.h"
#include "core/status.h"
#include "metrics/metrics.h"
#include "proxy/health_check_server.h"
#include "proxy/proxy_healthz.h"
#include "proxy/ruleset.h"

namespace berth::proxy {

struct ProxierOptions {
  RulesetConfig rules;  // nodeName, table, CIDRs
  // Dual-stack: the IPv6 table (family "ip6", IPv6 CIDRs), programmed in the same transactions
  // from the Services' IPv6 ClusterIPs and IPv6 EndpointSlices.
  std::optional<RulesetConfig> rules6;
  std::string nftBinary = "nft";
  std::chrono::milliseconds minSyncPeriod{10};
  std::chrono::milliseconds fullSyncPeriod{std::chrono::hours(1)};
  bool ensureServiceRoute = true;
  // Where the health check nodePorts of LoadBalancer Services with externalTrafficPolicy Local
  // are served (health_check_server.h) while nodePortAddresses is empty; "" = not at all.
  std::string healthCheckAddress = "0.0.0.0";
  // --nodeport-addresses (node_addresses.h): CIDRs or "primary" (nodeIP); NodePorts and health
  // check nodePorts answer only on the node addresses they select. Empty = all. As upstream,
  // the addresses are re-read on every sync; between syncs, every nodeAddressCheckPeriod.
  std::vector<std::string> nodePortAddresses;
  std::string nodeIP;
  std::chrono::milliseconds nodeAddressCheckPeriod{std::chrono::seconds(1)};
  // Where the node's addresses come from (null: this namespace's interfaces, localAddresses()).
  std::function<std::vector<std::string>()> localAddresses;
  // --healthz-bind-address ("0.0.0.0:10256"): the proxy's /healthz and /livez
  // (proxy_healthz.h); "" = off. Unhealthy once a change waits longer than healthTimeout.
  std::string healthzBindAddress;
  std::chrono::milliseconds healthTimeout{std::chrono::seconds(60)};
  metrics::Registry* metrics = nullptr;
};

// Applies one nft transaction (the text of `nft -f -`); the seam tests use to capture rules.
using NftRunner = std::function<core::Status(const std::string& transaction)>;
NftRunner commandRunner(const std::string& nftBinary);

class Proxier {
 public:
  // Watches through `rest`, which must outlive the proxier.
  Proxier(client::RestClient& rest, ProxierOptions options, NftRunner runner = nullptr);
  // Reads informers the caller owns and feeds (tests, the benchmark): their handlers are not
  // used; the caller reports changes with serviceChanged().
  Proxier(client::SharedInformer& services, client::SharedInformer& slices, ProxierOptions options,
          NftRunner runner = nullptr);
  ~Proxier();

  // Starts the informers (when owned) and waits for them, runs the first full sync (an error if
  // it fails: nft missing, no permission) and starts the sync thread.
  core::Status start();
  void stop();
  // The Service (or one of its EndpointSlices) "ns/name" changed; it is synced soon.
  void serviceChanged(const std::string& key);

  struct Stats {
    long long fullSyncs = 0, partialSyncs = 0, failures = 0;
    std::chrono::microseconds lastSync{0};  // wall time of the last applied transaction
    long long generation = 0;               // syncs applied so far (both kinds)
  };
  Stats stats() const;
  // What the proxy's /healthz reports now.
  ProxyHealth health() const;
  // Blocks until every change seen so far is applied or the timeout passes (tests, benchmarks).
  bool waitForSync(std::chrono::milliseconds timeout);

 private:
  void watch();
  void markDirty(const client::ObjectPtr& obj, bool isSlice);
  void syncLoop();
  bool syncOnce(bool full);
  // The Service "ns/name" (null when gone) and its EndpointSlices, from the informers.
  client::ObjectPtr lookup(const std::string& serviceKey,
                           std::vector<const boost::json::object*>& slices,
                           std::vector<client::ObjectPtr>& keepAlive) const;
  Contribution contributionFor(const std::string& serviceKey, const RulesetConfig& rules,
                               const std::string& family) const;
  // Recomputes the health checks of `keys` (all Services when `all`) and hands them to the
  // health check server.
  void syncHealthChecks(const std::set<std::string>& keys, bool all);
  // The node addresses --nodeport-addresses selects now, when they differ from those
  // programmed; nullopt when unchanged or the flag is unset.
  std::optional<std::vector<std::string>> changedNodePortAddresses() const;
  // Takes a changed selection into new rule states (and health check server); true when it did,
  // so the caller syncs in full.
  bool refreshNodePortAddresses();

  ProxierOptions o_;
  NftRunner runner_;
  RuleState state_;                  // sync thread only
  std::optional<RuleState> state6_;  // sync thread only; dual-stack
  std::unique_ptr<HealthCheckServer> health_;
  std::unique_ptr<ProxyHealthzServer> healthz_;
  std::map<std::string, std::pair<int, HealthCheckTarget>> healthChecks_;  // sync thread only
  std::string lastHealthError_;                                            // sync thread only
  std::optional<std::vector<std::string>> nodePortIps_;  // sync thread only; as programmed
  std::unique_ptr<client::SharedInformer> ownServices_, ownSlices_;
  client::SharedInformer* services_;
  client::SharedInformer* slices_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;  // service keys "ns/name"
  bool needFull_ = true;
  bool stopping_ = false;
  long long changesSeen_ = 0, changesApplied_ = 0;
  bool synced_ = false;  // a sync has been applied
  std::chrono::system_clock::time_point lastUpdated_;
  // When the oldest change not yet applied came in (nullopt: none waiting).
  std::optional<std::chrono::steady_clock::time_point> pendingSince_;
  Stats stats_;
  std::thread thread_;
  metrics::Histogram* syncLatency_ = nullptr;
};

}  // namespace berth::proxy
