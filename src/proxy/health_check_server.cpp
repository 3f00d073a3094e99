#include "proxy/health_check_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "core/json_access.h"
#include "proxy/http_reply.h"
#include "proxy/service_model.h"

namespace berth::proxy {

namespace json = boost::json;

namespace {

std::string jsonQuote(const std::string& s) { return json::serialize(json::value(s)); }

}  // namespace

std::optional<std::pair<int, HealthCheckTarget>> healthCheckOf(
    const json::object& service, const std::vector<const json::object*>& slices,
    const std::string& nodeName) {
  const auto* specV = service.if_contains("spec");
  if (!specV || !specV->is_object()) return std::nullopt;
  const auto& spec = specV->as_object();
  if (core::stringField(spec, "type") != "LoadBalancer" ||
      core::stringField(spec, "externalTrafficPolicy") != "Local")
    return std::nullopt;
  const auto* hc = spec.if_contains("healthCheckNodePort");
  if (!hc || !hc->is_int64() || hc->as_int64() <= 0 || hc->as_int64() > 65535) return std::nullopt;
  HealthCheckTarget t;
  if (const auto* m = service.if_contains("metadata"); m && m->is_object()) {
    t.ns = core::stringField(m->as_object(), "namespace");
    t.name = core::stringField(m->as_object(), "name");
  }
  // Upstream counts distinct addresses: a pod behind ports 80 and 443 is one endpoint. Only
  // ready ones: a node left with terminating endpoints only should fail the check.
  std::set<std::string> local;
  for (const auto& port : servicePorts(service, slices))
    for (const auto& e : port.endpoints)
      if (e.ready && !e.terminating && e.nodeName == nodeName) local.insert(e.ip);
  t.localEndpoints = static_cast<int>(local.size());
  return std::make_pair(static_cast<int>(hc->as_int64()), std::move(t));
}

std::string healthCheckResponse(const HealthCheckTarget& target, bool proxyHealthy) {
  bool ok = target.localEndpoints != 0 && proxyHealthy;
  std::string body = "{\n\t\"service\": {\n\t\t\"namespace\": " + jsonQuote(target.ns) +
                     ",\n\t\t\"name\": " + jsonQuote(target.name) +
                     "\n\t},\n\t\"localEndpoints\": " + std::to_string(target.localEndpoints) +
                     ",\n\t\"serviceProxyHealthy\": " + (proxyHealthy ? "true" : "false") + "\n}";
  return jsonResponse(
      ok ? 200 : 503, body,
      "X-Load-Balancing-Endpoint-Weight: " + std::to_string(target.localEndpoints) + "\r\n");
}

struct HealthCheckServer::Listener {
  std::vector<int> fds;  // one per address
  HealthCheckTarget target;
  ~Listener() {
    for (int fd : fds) ::close(fd);
  }
};

HealthCheckServer::HealthCheckServer(std::vector<std::string> addresses)
    : addresses_(std::move(addresses)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) == 0) thread_ = std::thread([this] { loop(); });
}

HealthCheckServer::~HealthCheckServer() {
  stop();
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

core::Status HealthCheckServer::sync(const std::map<int, HealthCheckTarget>& targets) {
  std::string failed;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return {};
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (targets.count(it->first)) {
        ++it;
      } else {
        closing_.push_back(std::move(it->second));  // closed by the loop, once out of poll()
        it = listeners_.erase(it);
      }
    }
    for (const auto& [port, target] : targets) {
      if (auto it = listeners_.find(port); it != listeners_.end()) {
        it->second->target = target;
        continue;
      }
      auto l = std::make_unique<Listener>();
      l->target = target;
      std::string notServed;
      for (const auto& address : addresses_) {
        std::string error;
        int fd = listenTcp(address, port, error);
        if (fd < 0) {
          notServed += (notServed.empty() ? "" : ", ") +
                       (address.find(':') != std::string::npos ? "[" + address + "]" : address) +
                       ":" + std::to_string(port) + " (" + error + ")";
          continue;
        }
        l->fds.push_back(fd);
      }
      if (!notServed.empty()) {
        // All or nothing per port, so the next sync retries the whole port.
        failed += (failed.empty() ? "" : ", ") + notServed;
        continue;
      }
      listeners_[port] = std::move(l);
    }
  }
  char c = 1;
  (void)!::write(wake_[1], &c, 1);
  if (!failed.empty())
    return core::Status::unavailable("health check nodePorts not served: cannot listen on " +
                                     failed);
  return {};
}

void HealthCheckServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  char c = 1;
  if (wake_[1] >= 0) (void)!::write(wake_[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  listeners_.clear();
  closing_.clear();
}

std::vector<int> HealthCheckServer::ports() const {
  std::lock_guard lock(mu_);
  std::vector<int> out;
  for (const auto& [port, l] : listeners_) out.push_back(port);
  return out;
}

void HealthCheckServer::loop() {
  while (true) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
    std::vector<int> ports{0};
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      closing_.clear();  // no poll() of this thread holds them any more
      for (const auto& [port, l] : listeners_)
        for (int fd : l->fds) {
          fds.push_back({fd, POLLIN, 0});
          ports.push_back(port);
        }
    }
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    if (fds[0].revents) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      int conn = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      (void)readRequestHead(conn);  // upstream answers the same on every path
      std::string response;
      {
        std::lock_guard lock(mu_);
        if (auto it = listeners_.find(ports[i]); it != listeners_.end())
          response = healthCheckResponse(it->second->target);
      }
      if (!response.empty()) writeAll(conn, response);
      ::close(conn);
    }
  }
}

}  // namespace berth::proxy
