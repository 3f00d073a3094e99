#include "kubelet/probes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>

#include "kubelet/container_config.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

int portOf(const json::object& o) {
  auto* p = o.if_contains("port");
  if (p && p->is_int64()) return static_cast<int>(p->as_int64());
  return 0;  // named ports are resolved by the caller into a number
}

// A connected socket to ip:port within the timeout, or -1 with `error` set.
int connectWithin(const std::string& ip, int port, int timeoutMs, std::string& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
    error = "invalid address " + ip;
    ::close(fd);
    return -1;
  }
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, timeoutMs);
    if (rc == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    } else {
      rc = -1;
      errno = ETIMEDOUT;
    }
  }
  if (rc != 0) {
    error = "dial tcp " + ip + ":" + std::to_string(port) + ": connect: " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

ProbeResult httpProbe(const json::object& h, const std::string& podIP, int timeoutMs) {
  std::string host = str(h, "host").empty() ? podIP : str(h, "host");
  int port = portOf(h);
  std::string path = str(h, "path").empty() ? "/" : str(h, "path");
  std::string error;
  int fd = connectWithin(host, port, timeoutMs, error);
  if (fd < 0) return {false, "Get \"http://" + host + ":" + std::to_string(port) + path + "\": " + error};
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n";
  if (const auto* headers = arr(h, "httpHeaders"))
    for (const auto& hv : *headers)
      if (hv.is_object())
        req += str(hv.as_object(), "name") + ": " + str(hv.as_object(), "value") + "\r\n";
  req += "\r\n";
  ::fcntl(fd, F_SETFL, 0);
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  (void)!::write(fd, req.data(), req.size());
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return {false, "Get \"http://" + host + ":" + std::to_string(port) + path +
                                 "\": context deadline exceeded"};
  buf[n] = 0;
  int code = 0;
  std::sscanf(buf, "HTTP/%*s %d", &code);
  if (code >= 200 && code < 400) return {true, "", code};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(code), code};
}

}  // namespace

ProbeResult runProbe(const json::object& probe, const runtime::Runc& runc,
                     const std::string& containerId, const std::string& podIP) {
  int timeoutMs = static_cast<int>(intField(probe, "timeoutSeconds", 1)) * 1000;
  if (const auto* e = obj(probe, "exec")) {
    std::vector<std::string> cmd;
    if (const auto* c = arr(*e, "command"))
      for (const auto& s : *c)
        if (s.is_string()) cmd.emplace_back(s.as_string());
    auto r = runc.exec(containerId, cmd, std::chrono::milliseconds(timeoutMs));
    if (!r.ok())
      return {false, "command timed out after " + std::to_string(timeoutMs / 1000) + "s"};
    std::string out = r->out + r->err;
    if (r->exitCode == 0) return {true, "", 0, 0, out};
    return {false,
            out.empty() ? "command failed with exit code " + std::to_string(r->exitCode) : out, 0,
            r->exitCode, out};
  }
  if (const auto* h = obj(probe, "httpGet")) return httpProbe(*h, podIP, timeoutMs);
  if (const auto* t = obj(probe, "tcpSocket")) {
    std::string error;
    std::string host = str(*t, "host").empty() ? podIP : str(*t, "host");
    int fd = connectWithin(host, portOf(*t), timeoutMs, error);
    if (fd < 0) return {false, error};
    ::close(fd);
    return {true, ""};
  }
  return {false, "probe has no handler"};
}

json::object resolveNamedPorts(json::object handler, const json::object& spec) {
  for (const char* h : {"httpGet", "tcpSocket"}) {
    auto* action = handler.if_contains(h);
    if (!action || !action->is_object()) continue;
    auto* port = action->as_object().if_contains("port");
    if (!port || !port->is_string()) continue;
    std::string name(port->as_string());
    long long number = std::atoll(name.c_str());
    if (const auto* ports = arr(spec, "ports"))
      for (const auto& p : *ports)
        if (p.is_object() && str(p.as_object(), "name") == name)
          number = intField(p.as_object(), "containerPort", 0);
    action->as_object()["port"] = number;
  }
  return handler;
}

bool ProbeTracker::due(const json::object& probe, Clock::time_point started,
                       Clock::time_point now) const {
  auto delay = std::chrono::seconds(intField(probe, "initialDelaySeconds", 0));
  if (now < started + delay) return false;
  if (!probed_) return true;
  return now >= last_ + std::chrono::seconds(std::max(1LL, intField(probe, "periodSeconds", 10)));
}

ProbeTracker::Outcome ProbeTracker::record(const json::object& probe, bool success,
                                           Clock::time_point now) {
  probed_ = true;
  last_ = now;
  if (success) {
    failures_ = 0;
    ++successes_;
    if (!state_ && successes_ >= intField(probe, "successThreshold", 1)) {
      state_ = everSucceeded_ = true;
      return Outcome::kThresholdSuccess;
    }
    return Outcome::kSuccess;
  }
  successes_ = 0;
  ++failures_;
  if (failures_ >= intField(probe, "failureThreshold", 3)) {
    state_ = false;
    failures_ = 0;
    return Outcome::kThresholdFailure;
  }
  return Outcome::kFailure;
}

}  // namespace berth::kubelet
