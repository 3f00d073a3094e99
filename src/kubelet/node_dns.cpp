#include "kubelet/node_dns.h"

#include <boost/json.hpp>

#include <iostream>

#include "core/ipv4_cidr.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
constexpr const char* kNamespace = "kube-system";
}  // namespace

core::Result<std::string> podCidrGateway(const std::string& podCidr) {
  auto cidr = core::parseIpv4Cidr(podCidr);
  if (!cidr.ok()) return cidr.status();
  if (cidr->prefix > 30) return core::Status::badRequest("podCIDR " + podCidr + " is too small");
  return core::formatIpv4(cidr->base + 1);
}

NodeDns::NodeDns(NodeDnsOptions options, client::RestClient& rest)
    : o_(std::move(options)), rest_(rest) {}

NodeDns::~NodeDns() { stop(); }

std::string NodeDns::address() const {
  std::lock_guard lock(mu_);
  return gateway_;
}

core::Status NodeDns::start(const std::string& podCidr) {
  std::lock_guard lock(mu_);
  return startLocked(podCidr);
}

core::Status NodeDns::startLocked(const std::string& podCidr) {
  auto gateway = podCidrGateway(podCidr);
  if (!gateway.ok()) return gateway.status();
  dns::ClusterDnsOptions o;
  o.rest = o_.rest;
  o.rest.userAgent = "berth-dns/v0.1 (" + o_.nodeName + ")";
  o.zone.domain = o_.clusterDomain;
  o.zone.dnsIp = o_.clusterDns;
  o.server.listen = *gateway + ":53";
  o.server.metricsListen = *gateway + ":9153";
  o.server.freeBind = true;
  auto server = std::make_unique<dns::ClusterDns>(o);
  if (auto st = server->start(); !st.ok()) return st;
  dns_ = std::move(server);
  podCidr_ = podCidr;
  gateway_ = *gateway;
  return publishSlice();
}

core::Status NodeDns::publishSlice() {
  auto port = [](const char* name, int number, const char* protocol) {
    return json::object{{"name", name}, {"port", number}, {"protocol", protocol}};
  };
  std::string name = "kube-dns-" + o_.nodeName;
  json::object slice{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata",
       {{"name", name},
        {"namespace", kNamespace},
        {"labels",
         {{"kubernetes.io/service-name", "kube-dns"},
          {"endpointslice.kubernetes.io/managed-by", "berth-agent"}}}}},
      {"addressType", "IPv4"},
      {"endpoints",
       json::array{json::object{
           {"addresses", json::array{json::string(gateway_)}},
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

void NodeDns::updatePodCidr(const std::string& podCidr) {
  std::lock_guard lock(mu_);
  if (!dns_ || podCidr == podCidr_) return;
  stopLocked();
  if (auto st = startLocked(podCidr); !st.ok())
    std::cerr << "berth agent: cluster DNS on the new podCIDR " << podCidr
              << " not served: " << st.message() << std::endl;
}

void NodeDns::stopLocked() {
  if (!dns_) return;
  dns_->stop();
  dns_.reset();
  (void)rest_.remove(kSlices, kNamespace, "kube-dns-" + o_.nodeName);
}

void NodeDns::stop() {
  std::lock_guard lock(mu_);
  stopLocked();
}

}  // namespace berth::kubelet
