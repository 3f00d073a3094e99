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
#include "proxy/service_model.h"

namespace berth::proxy {

namespace json = boost::json;

namespace {

std::string jsonQuote(const std::string& s) { return json::serialize(json::value(s)); }

// Reads the request head (the path does not matter: upstream serves the same on every path),
// giving up after a short while so one stalled client does not hold up the others.
void drainRequest(int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
}

void writeAll(int fd, const std::string& data) {
  size_t off = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (off < data.size() && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 50);
    } else {
      return;
    }
  }
}

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
  return std::string("HTTP/1.1 ") + (ok ? "200 OK" : "503 Service Unavailable") +
         "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
         "X-Load-Balancing-Endpoint-Weight: " +
         std::to_string(target.localEndpoints) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

struct HealthCheckServer::Listener {
  int fd = -1;
  HealthCheckTarget target;
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
};

HealthCheckServer::HealthCheckServer(std::string address) : address_(std::move(address)) {
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
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      auto l = std::make_unique<Listener>();
      l->target = target;
      l->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      int one = 1;
      if (l->fd >= 0) ::setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (l->fd < 0 || ::inet_pton(AF_INET, address_.c_str(), &a.sin_addr) != 1 ||
          ::bind(l->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::listen(l->fd, 64) != 0) {
        failed += (failed.empty() ? "" : ", ") + address_ + ":" + std::to_string(port) + " (" +
                  std::strerror(errno) + ")";
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
      for (const auto& [port, l] : listeners_) {
        fds.push_back({l->fd, POLLIN, 0});
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
      drainRequest(conn);
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
