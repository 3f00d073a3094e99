#include "kubelet/node_dns.h"

#include <boost/json.hpp>

#include <iostream>

#include "core/ip_cidr.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
constexpr const char* kNamespace = "kube-system";
}  // namespace

core::Result<std::string> podCidrGateway(const std::string& podCidr) {
  auto cidr = core::parseIpCidr(podCidr);
  if (!cidr.ok()) return cidr.status();
  if (cidr->prefix > cidr->bits() - 2)
    return core::Status::badRequest("podCIDR " + podCidr + " is too small");
  return core::formatIp(cidr->base + 1, cidr->ipv6);
}

NodeDns::NodeDns(NodeDnsOptions options, client::RestClient& rest)
    : o_(std::move(options)), rest_(rest) {}

NodeDns::~NodeDns() { stop(); }

std::string NodeDns::address() const {
  std::lock_guard lock(mu_);
  return gateway_;
}

core::Status NodeDns::start(const std::string& podCidr, const std::string& podCidr6) {
  std::lock_guard lock(mu_);
  return startLocked(podCidr, podCidr6);
}

core::Status NodeDns::startLocked(const std::string& podCidr, const std::string& podCidr6) {
  std::string gateway, gateway6;
  if (!podCidr.empty() || podCidr6.empty()) {
    auto g = podCidrGateway(podCidr);
    if (!g.ok()) return g.status();
    gateway = *g;
  }
  if (!podCidr6.empty()) {
    auto g = podCidrGateway(podCidr6);
    if (!g.ok()) return g.status();
    gateway6 = *g;
  }
  dns::ClusterDnsOptions o;
  o.rest = o_.rest;
  o.rest.userAgent = "berth-dns/v0.1 (" + o_.nodeName + ")";
  o.zone.domain = o_.clusterDomain;
  o.zone.dnsIp = o_.clusterDns;
  // The IPv4 gateway first when there is one; a dual-stack node's IPv6 gateway on the same port
  // serves pods whose nameserver (the kube-dns ClusterIP of an IPv6-primary cluster) is IPv6.
  std::string primary = gateway.empty() ? "[" + gateway6 + "]" : gateway;
  o.server.listen = primary + ":53";
  o.server.metricsListen = primary + ":9153";
  if (!gateway.empty() && !gateway6.empty()) o.server.alsoListen = {gateway6};
  o.server.freeBind = true;
  auto server = std::make_unique<dns::ClusterDns>(o);
  if (auto st = server->start(); !st.ok()) return st;
  dns_ = std::move(server);
  podCidr_ = podCidr;
  podCidr6_ = podCidr6;
  gateway_ = gateway;
  gateway6_ = gateway6;
  if (!gateway.empty())
    if (auto st = publishSlice("kube-dns-" + o_.nodeName, "IPv4", gateway); !st.ok()) return st;
  if (!gateway6.empty())
    return publishSlice("kube-dns-" + o_.nodeName + "-ipv6", "IPv6", gateway6);
  return {};
}

core::Status NodeDns::publishSlice(const std::string& name, const char* addressType,
                                   const std::string& address) {
  auto port = [](const char* name, int number, const char* protocol) {
    return json::object{{"name", name}, {"port", number}, {"protocol", protocol}};
  };
  json::object slice{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata",
       {{"name", name},
        {"namespace", kNamespace},
        {"labels",
         {{"kubernetes.io/service-name", "kube-dns"},
          {"endpointslice.kubernetes.io/managed-by", "berth-agent"}}}}},
      {"addressType", addressType},
      {"endpoints",
       json::array{json::object{
           {"addresses", json::array{json::string(address)}},
           {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
           {"nodeName", o_.nodeName}}}},
      {"ports", json::array{port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"),
                            port("metrics", 9153, "TCP")}}};
  auto existing = rest_.get(kSlices, kNamespace, name);
  if (existing.ok() && existing->is_object()) {
    slice["metadata"].as_object()["resourceVersion"] =
        existing->at("metadata").at("resourceVersion");
    auto r = rest_.update(kSlices, kNamespace, slice);
    return r.ok() ? core::Status() : r.status();
  }
  auto r = rest_.create(kSlices, kNamespace, slice);
  return r.ok() || r.status().isAlreadyExists() ? core::Status() : r.status();
}

void NodeDns::updatePodCidr(const std::string& podCidr, const std::string& podCidr6) {
  std::lock_guard lock(mu_);
  if (!dns_ || (podCidr == podCidr_ && podCidr6 == podCidr6_)) return;
  stopLocked();
  if (auto st = startLocked(podCidr, podCidr6); !st.ok())
    std::cerr << "berth agent: cluster DNS on the new podCIDRs " << podCidr << " " << podCidr6
              << " not served: " << st.message() << std::endl;
}

void NodeDns::stopLocked() {
  if (!dns_) return;
  dns_->stop();
  dns_.reset();
  if (!gateway_.empty()) (void)rest_.remove(kSlices, kNamespace, "kube-dns-" + o_.nodeName);
  if (!gateway6_.empty())
    (void)rest_.remove(kSlices, kNamespace, "kube-dns-" + o_.nodeName + "-ipv6");
}

void NodeDns::stop() {
  std::lock_guard lock(mu_);
  stopLocked();
}

}  // namespace berth::kubelet
