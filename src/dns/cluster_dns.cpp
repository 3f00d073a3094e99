#include "dns/cluster_dns.h"

namespace berth::dns {

ClusterDns::ClusterDns(ClusterDnsOptions options) : o_(std::move(options)) {
  if (!o_.metrics) {
    ownMetrics_ = std::make_unique<metrics::Registry>();
    o_.metrics = ownMetrics_.get();
  }
}

ClusterDns::~ClusterDns() { stop(); }

core::Status ClusterDns::start() {
  auto config = o_.rest;
  if (config.userAgent.empty()) config.userAgent = "berth-dns/v0.1";
  auto rest = client::RestClient::create(config);
  if (!rest.ok()) return rest.status();
  rest_ = std::move(*rest);
  zone_ = std::make_unique<ClusterZone>(*rest_, o_.zone);
  if (auto st = zone_->start(); !st.ok()) return st;
  auto forward = o_.forward;
  if (forward.upstreams.empty()) forward.upstreams = resolvConfNameservers(o_.resolvConf);
  // Never our own addresses: the listen address and the cluster DNS IP that leads back here.
  forward.exclude.push_back(o_.server.listen);
  for (const auto& a : o_.server.alsoListen) forward.exclude.push_back(a);
  forward.exclude.push_back(o_.zone.dnsIp);
  forwarder_ = std::make_unique<Forwarder>(forward);
  ClusterZone* zone = zone_.get();
  server_ = std::make_unique<Server>(o_.server, [zone] { return zone->snapshot(); },
                                     forwarder_.get(), *o_.metrics);
  return server_->start();
}

void ClusterDns::stop() {
  if (server_) server_->stop();
  if (forwarder_) forwarder_->stop();
  if (zone_) zone_->stop();
}

}  // namespace berth::dns
