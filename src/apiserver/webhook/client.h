#pragma once
// Calls out of the API server to webhooks (upstream's k8s.io/apiserver/pkg/util/webhook): the
// admission webhooks and CRD conversion webhooks share it. A webhook is addressed by a
// clientConfig {url | service{namespace,name,path,port}, caBundle}; the body is POSTed as JSON
// over HTTPS, the server certificate verified against caBundle (the system roots when empty).
//
// Services: upstream dials <service>.<namespace>.svc:<port> through the cluster network; a
// ClusterIP is not routable from this API server, so the caller's resolver gives a ready
// endpoint of the Service and the certificate is verified for <service>.<namespace>.svc, the
// name upstream's webhook certificates carry.
//
// Errors read as Go's net/http ones, `Post "<url>": <why>`, so callers can wrap them the way
// upstream's messages do.
//
// Thread-safety: post() may run concurrently; the TLS context cache is behind a mutex.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/result.h"

namespace berth::client {
class TlsContext;
}

namespace berth::apiserver::webhook {

// Address and port of a ready endpoint serving `port` of the Service ns/name.
using ServiceResolver = std::function<core::Result<std::pair<std::string, int>>(
    const std::string& ns, const std::string& name, int port)>;

struct Reply {
  int status = 0;  // HTTP status
  std::string body;
};

class Client {
 public:
  explicit Client(ServiceResolver resolver) : resolver_(std::move(resolver)) {}

  // POSTs `body` to the webhook; `query` ("timeout=10s", may be empty) is added to the URL.
  // Any HTTP status is a Reply; connect, TLS, timeout and size failures are errors (500).
  core::Result<Reply> post(const boost::json::object& clientConfig, const std::string& body,
                           std::chrono::seconds timeout, const std::string& query = "");

 private:
  core::Result<std::shared_ptr<client::TlsContext>> tlsFor(const std::string& caBundle);

  ServiceResolver resolver_;
  std::mutex mu_;                                                   // guards tls_
  std::map<std::string, std::shared_ptr<client::TlsContext>> tls_;  // by caBundle
};

// Whether `pem` holds at least one X.509 certificate (upstream's ValidateCABundle).
bool containsCertificates(const std::string& pem);

// A random UUID (version 4): a review's request uid.
std::string newRequestUid();

}  // namespace berth::apiserver::webhook
