#pragma once
// The cluster DNS server: answers queries for the cluster zone from a ZoneData snapshot and
// forwards the rest, over UDP (several worker threads, each with its own SO_REUSEPORT socket so
// the kernel spreads clients over them, batched with recvmmsg/sendmmsg) and TCP (length-framed,
// several queries per connection, closed after an idle timeout), and serves CoreDNS's
// Prometheus metrics (coredns_dns_requests_total, coredns_dns_responses_total,
// coredns_dns_request_duration_seconds) on /metrics of its own HTTP port.
//
// Thread-safety: start()/stop() from the owner; handle() from any thread. stop() closes the
// sockets and waits for every thread (forwarded queries still queued are dropped).
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dns/forwarder.h"
#include "dns/socket_util.h"
#include "dns/zone.h"
#include "metrics/metrics.h"

namespace berth::dns {

struct ServerOptions {
  std::string listen = "0.0.0.0:53";  // UDP and TCP; port 0 = any free port (same for both)
  // More host addresses served on the listen port (e.g. a dual-stack node's IPv6 bridge
  // gateway): a TCP socket and one UDP worker each.
  std::vector<std::string> alsoListen;
  std::string metricsListen;          // "" = no metrics endpoint; e.g. "0.0.0.0:9153"
  int udpWorkers = 2;
  bool freeBind = false;  // bind even when the address is not on an interface yet
  std::chrono::milliseconds tcpIdleTimeout{10000};  // CoreDNS's default
  int maxTcpConnections = 256;
};

using ZoneSource = std::function<std::shared_ptr<const ZoneData>()>;

class Server {
 public:
  // `forwarder` may be null (then names outside the zone get SERVFAIL); it must outlive the
  // server. Metrics go into `metrics`.
  Server(ServerOptions options, ZoneSource zone, Forwarder* forwarder,
         metrics::Registry& metrics);
  ~Server();

  core::Status start();
  void stop();
  int port() const { return port_; }
  int metricsPort() const { return metricsPort_; }

  enum class Proto { kUdp, kTcp };
  using Reply = std::function<void(std::string)>;
  // Answers one query: the reply now (returned), later through the Reply that `deferred` makes
  // (a UDP query forwarded upstream; returns nullopt), or never (garbage, or a response sent to
  // us: nullopt). `deferred` is called only when needed, so the hot path allocates no closure.
  // `family` (AF_INET, AF_INET6) is the client's, for the metrics.
  std::optional<std::string> handle(std::string_view query, Proto proto,
                                    const std::function<Reply()>& deferred, int family);

 private:
  struct Metrics;
  struct TcpConnection;
  // Binds one more address on the listen port (after the first: port 0 resolved).
  core::Status bindAlso(const std::string& host, int udpWorkers);
  void udpLoop(int fd);
  void tcpAcceptLoop();
  void tcpConnection(TcpConnection* c);
  void metricsLoop();
  std::string finish(std::string reply, uint8_t rc, int plugin,
                     std::chrono::steady_clock::time_point start, uint16_t qtype);

  const ServerOptions o_;
  ZoneSource zone_;
  Forwarder* forwarder_;
  std::unique_ptr<Metrics> metrics_;
  metrics::Registry& registry_;
  int port_ = 0, metricsPort_ = 0;
  std::vector<UniqueFd> udp_;
  std::vector<UniqueFd> tcp_;  // the listen address's, then alsoListen's
  UniqueFd metricsFd_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex connMu_;
  std::list<TcpConnection> conns_;  // guarded by connMu_
};

}  // namespace berth::dns
