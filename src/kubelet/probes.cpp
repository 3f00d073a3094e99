#include "kubelet/probes.h"

#include <unistd.h>

#include <boost/json.hpp>

#include "kubelet/container_config.h"
#include "kubelet/probe_http.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

int portOf(const json::object& o) {
  auto* p = o.if_contains("port");
  if (p && p->is_int64()) return static_cast<int>(p->as_int64());
  return 0;  // named ports are resolved by the caller into a number
}

ProbeResult httpProbe(const json::object& h, const std::string& podIP, int timeoutMs) {
  HttpGetOptions o;
  o.timeout = std::chrono::milliseconds(timeoutMs);
  auto r = httpGetAction(h, podIP, o);
  if (!r.error.empty()) return {false, r.error};
  ProbeResult out{true, "", r.status};
  if (r.status < 200 || r.status >= 400) {
    out.success = false;
    out.message = "HTTP probe failed with statuscode: " + std::to_string(r.status);
  } else if (r.status >= 300) {
    // Upstream's probe.Warning: a redirect it did not follow passes, with a ProbeWarning event.
    out.warning = "Probe terminated redirects, Response body: " + r.body;
  }
  return out;
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
    int fd = dialTcp(host, portOf(*t), std::chrono::milliseconds(timeoutMs), error);
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
