#pragma once
// The service health check server of kube-proxy (pkg/proxy/healthcheck/service_health.go): for
// every LoadBalancer Service with externalTrafficPolicy Local the API server gives the Service a
// spec.healthCheckNodePort, and the proxy of every node answers HTTP on that port, so an
// external load balancer sends traffic only to nodes with endpoints of their own:
//   200 when the node has ready local endpoints, 503 when it has none, with the JSON body
//   {"service":{"namespace":..,"name":..},"localEndpoints":N,"serviceProxyHealthy":true}
// (any path; upstream indents it with tabs) and X-Load-Balancing-Endpoint-Weight: N.
//
// Thread-safety: sync()/stop() from one thread (the proxier's sync thread); one server thread
// accepts and answers.
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace berth::proxy {

struct HealthCheckTarget {
  std::string ns, name;
  int localEndpoints = 0;  // distinct addresses of ready endpoints on this node
  bool operator==(const HealthCheckTarget&) const = default;
};

// The health check port and target of `service` on `nodeName`; nullopt when the Service has
// none (not a LoadBalancer with policy Local, or no port allocated yet).
std::optional<std::pair<int, HealthCheckTarget>> healthCheckOf(
    const boost::json::object& service, const std::vector<const boost::json::object*>& slices,
    const std::string& nodeName);

// The whole HTTP response for `target` (status line, headers, body), as upstream's handler.
std::string healthCheckResponse(const HealthCheckTarget& target, bool proxyHealthy = true);

class HealthCheckServer {
 public:
  // Listens on every one of `addresses` (all of the node's: 0.0.0.0; --nodeport-addresses: the
  // node's addresses in those CIDRs; tests: 127.0.0.1). None: listens nowhere.
  explicit HealthCheckServer(std::vector<std::string> addresses = {"0.0.0.0"});
  ~HealthCheckServer();

  // Serves exactly `targets` (port → target) from now on: listens on new ports, closes dropped
  // ones and answers with the new counts. A port that cannot be bound is reported (and retried
  // at the next sync); the others are served all the same.
  core::Status sync(const std::map<int, HealthCheckTarget>& targets);
  void stop();
  // The ports listened on (tests).
  std::vector<int> ports() const;

 private:
  struct Listener;
  void loop();

  const std::vector<std::string> addresses_;
  mutable std::mutex mu_;
  std::map<int, std::unique_ptr<Listener>> listeners_;  // guarded by mu_
  // Dropped listeners, closed by the loop when its poll() no longer watches them (closing a
  // descriptor another thread polls could hand its number to a new socket mid-poll).
  std::vector<std::unique_ptr<Listener>> closing_;  // guarded by mu_
  int wake_[2] = {-1, -1};                          // pipe: sync() and stop() wake the poll loop
  bool stopping_ = false;                           // guarded by mu_
  std::thread thread_;
};

}  // namespace berth::proxy
