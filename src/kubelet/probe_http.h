#pragma once
// The kubelet's HTTP client for httpGet probes and lifecycle hooks, as upstream's
// (pkg/probe/http, NewRequestForHTTPGetAction, RedirectChecker(false)):
//   - scheme HTTP or HTTPS; HTTPS does not verify the server's certificate (upstream's
//     InsecureSkipVerify: pods serve self-signed certificates), TLS 1.2 or later, ALPN
//     offering h2 then http/1.1: HTTP/2 when the server picks it (probe_http2.h), else HTTP/1.1;
//   - GET <path> with User-Agent "kube-<purpose>/<major.minor>" and Accept "*/*" unless the
//     handler's httpHeaders set them (an empty Accept removes it), a Host header overriding the
//     request's host;
//   - redirects to the same host (by name, any port or scheme) are followed, at most 10; a
//     redirect to another host is not: its 3xx response is the result (`offHostRedirect`);
//   - the whole exchange, redirects included, is bounded by `timeout` (0: unbounded) and ends
//     early when `cancelled` says so;
//   - an HTTPS request answered in plain HTTP fails with Go's "http: server gave HTTP response
//     to HTTPS client" and sets `httpResponseToHttps` (lifecycle hooks then retry in HTTP).
// Errors read as Go's: `Get "<url>": <reason>`.
//
// Thread-safety: httpGetAction is safe from any thread; it blocks for the exchange.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace berth::kubelet {

// The Kubernetes minor this node reports (discovery's v1.32), for the probes' User-Agent.
inline constexpr const char* kKubeletMajorMinor = "1.32";
// Upstream reads at most this much of a probe's response body.
inline constexpr size_t kMaxProbeBodyBytes = 10 * 1024;

struct HttpGetOptions {
  std::string purpose = "probe";  // "probe" or "lifecycle": the User-Agent's kube-<purpose>
  std::chrono::milliseconds timeout{0};
  std::function<bool()> cancelled;  // polled while waiting; may be empty
  std::string schemeOverride;       // "http": the lifecycle hooks' retry of an HTTPS request
};

struct HttpGetResult {
  std::string error;  // empty when a response came
  int status = 0;
  std::string body;  // at most kMaxProbeBodyBytes
  std::string url;   // the last URL requested
  bool offHostRedirect = false;
  bool httpResponseToHttps = false;
};

// GETs the `httpGet` action (host, port as a number, path, scheme, httpHeaders) of a probe or
// hook; an empty host is `podIP`.
HttpGetResult httpGetAction(const boost::json::object& httpGet, const std::string& podIP,
                            const HttpGetOptions& options);

// A connected (blocking) TCP socket to host:port within `timeout`, or -1 with `error` set as
// Go's dialer words it (the tcpSocket probe).
int dialTcp(const std::string& host, int port, std::chrono::milliseconds timeout,
            std::string& error);

}  // namespace berth::kubelet
