#pragma once
// The proxy's own health server, kube-proxy's --healthz-bind-address (default 0.0.0.0:10256,
// pkg/proxy/healthcheck/proxy_health.go): GET /healthz and /livez answer
//   {"lastUpdated": "...","currentTime": "...", "nodeEligible": true}
// with 200 while the proxy keeps its rules in sync (no change waiting longer than the health
// timeout) and 503 otherwise; other paths 404. Load balancers probe it for nodes of Services
// with externalTrafficPolicy Cluster.
//
// Thread-safety: start()/stop() from the owning thread; one server thread answers; the health
// callback is called from it.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "core/result.h"
#include "core/status.h"

namespace berth::proxy {

struct ProxyHealth {
  bool healthy = false;
  std::chrono::system_clock::time_point lastUpdated;  // the last applied sync
};

// "host:port" / "[v6]:port" / ":port" (all IPv4 addresses) → host and port; BadRequest naming
// --healthz-bind-address when malformed.
core::Result<std::pair<std::string, int>> parseBindAddress(const std::string& value);

// The response to a request for `path` (status line, headers, body), at time `now`.
std::string proxyHealthzResponse(const std::string& path, const ProxyHealth& health,
                                 std::chrono::system_clock::time_point now);

class ProxyHealthzServer {
 public:
  ProxyHealthzServer(std::string bindAddress, std::function<ProxyHealth()> health);
  ~ProxyHealthzServer();
  // Binds and starts answering; an error (the address and why) when it cannot bind.
  core::Status start();
  void stop();
  int port() const { return port_; }  // the bound port (tests bind port 0)

 private:
  void loop();

  const std::string bindAddress_;
  const std::function<ProxyHealth()> health_;
  int fd_ = -1, port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace berth::proxy
