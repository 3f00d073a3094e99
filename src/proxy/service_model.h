#pragma once
// The proxy's view of one Service port: its virtual addresses and the endpoints its
// EndpointSlices list, read from the API objects as kube-proxy's ServicePort/Endpoint caches do
// (pkg/proxy/servicechangetracker.go, endpointschangetracker.go). Pure functions, no I/O.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace berth::proxy {

struct Endpoint {
  std::string ip;
  int port = 0;
  bool ready = true;        // conditions.ready; nil means true
  bool serving = true;      // conditions.serving; nil means the value of ready
  bool terminating = false;
  std::string nodeName;
};

struct ServicePort {
  std::string ns, name, portName;
  std::string protocol;  // "tcp", "udp" or "sctp" (nft's spelling)
  std::string clusterIP;  // empty for headless and ExternalName Services
  int port = 0;
  int nodePort = 0;  // 0 = none
  std::vector<std::string> externalIPs;
  std::vector<std::string> loadBalancerIPs;  // status.loadBalancer.ingress[].ip
  bool sessionAffinity = false;              // ClientIP
  int affinityTimeoutSeconds = 10800;
  bool internalLocal = false;  // internalTrafficPolicy: Local
  bool externalLocal = false;  // externalTrafficPolicy: Local (NodePort, LoadBalancer)
  std::vector<Endpoint> endpoints;  // every endpoint of this port, deduplicated by ip:port

  std::string key() const { return ns + "/" + name + ":" + portName + "/" + protocol; }
};

// The ports of `service` with their endpoints from `slices` (the Service's EndpointSlices of
// `family`, "IPv4" or "IPv6"; its ClusterIP, external and load balancer IPs of that family).
// ExternalName and headless Services (no ClusterIP) give none: the proxy does nothing for them.
std::vector<ServicePort> servicePorts(const boost::json::object& service,
                                      const std::vector<const boost::json::object*>& slices,
                                      const std::string& family = "IPv4");

// Which endpoints take traffic, as upstream's CategorizeEndpoints: the ready ones, or when none
// is ready the serving-and-terminating ones (so draining pods still answer during a rollout);
// with `localOnly` only those on `nodeName`.
std::vector<Endpoint> usableEndpoints(const std::vector<Endpoint>& all, bool localOnly,
                                      const std::string& nodeName);

}  // namespace berth::proxy
