#pragma once
// ClusterDns: the whole DNS component as `berth dns` and the node agent run it: its own API
// client ("berth-dns"), the ClusterZone fed by informers, the forwarder to the node's upstream
// resolvers and the server, started and stopped together.
//
// Thread-safety: start()/stop() from the owner; accessors from any thread after start().
#include <memory>

#include "client/rest_client.h"
#include "dns/forwarder.h"
#include "dns/server.h"
#include "dns/zone.h"
#include "metrics/metrics.h"

namespace berth::dns {

struct ClusterDnsOptions {
  client::RestConfig rest;
  ZoneOptions zone;
  ServerOptions server;
  ForwarderOptions forward;  // upstreams empty = the nameservers of resolvConf
  std::string resolvConf = "/etc/resolv.conf";
  metrics::Registry* metrics = nullptr;  // null = a registry of its own
};

class ClusterDns {
 public:
  explicit ClusterDns(ClusterDnsOptions options);
  ~ClusterDns();

  core::Status start();
  void stop();
  int port() const { return server_ ? server_->port() : 0; }
  int metricsPort() const { return server_ ? server_->metricsPort() : 0; }
  ClusterZone& zone() { return *zone_; }
  size_t upstreamCount() const { return forwarder_ ? forwarder_->upstreamCount() : 0; }

 private:
  ClusterDnsOptions o_;
  std::unique_ptr<metrics::Registry> ownMetrics_;
  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<ClusterZone> zone_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<Server> server_;
};

}  // namespace berth::dns
