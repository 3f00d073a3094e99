#pragma once
// Running one probe (liveness, readiness, startup) once, as the kubelet's prober: exec inside
// the container (runc exec; exit 0 = success), httpGet over HTTP or HTTPS (probe_http.h; a
// status in 200..399 = success, an unfollowed redirect a success with a warning) and
// tcpSocket (a connection = success) against the pod's IP from the node's network namespace,
// each bounded by timeoutSeconds. ProbeTracker applies periodSeconds, initialDelaySeconds and
// the success/failure thresholds.
//
// Thread-safety: runProbe is safe from any thread; a ProbeTracker belongs to its pod worker.
#include <boost/json/object.hpp>

#include <chrono>
#include <string>

#include "kubelet/runtime/runc.h"

namespace berth::kubelet {

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed, as the Unhealthy event says
  int httpStatus = 0;   // httpGet: the response's status code (0: no response)
  int exitCode = -1;    // exec: the command's exit code (-1: it did not finish)
  std::string output;   // exec: the command's stdout and stderr
  std::string warning;  // httpGet: a redirect to another host passed (the ProbeWarning event)
};

ProbeResult runProbe(const boost::json::object& probe, const runtime::Runc& runc,
                     const std::string& containerId, const std::string& podIP);

// A probe or lifecycle handler with a named httpGet/tcpSocket port replaced by the number of the
// container `spec`'s port of that name.
boost::json::object resolveNamedPorts(boost::json::object handler, const boost::json::object& spec);

class ProbeTracker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Outcome { kNotDue, kSuccess, kFailure, kThresholdSuccess, kThresholdFailure };

  // Whether a probe is due at `now` for a container started at `started`.
  bool due(const boost::json::object& probe, Clock::time_point started,
           Clock::time_point now) const;
  // Records a result; returns kThreshold* when the result crosses its threshold (the state
  // changes), else kSuccess/kFailure.
  Outcome record(const boost::json::object& probe, bool success, Clock::time_point now);
  void reset() { *this = ProbeTracker(); }
  bool everSucceeded() const { return everSucceeded_; }

 private:
  Clock::time_point last_{};
  bool probed_ = false, state_ = false, everSucceeded_ = false;
  int successes_ = 0, failures_ = 0;
};

}  // namespace berth::kubelet
