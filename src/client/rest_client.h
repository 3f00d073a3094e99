#pragma once
// RestClient: a Kubernetes REST client over HTTPS, what client-go's `rest` + dynamic client give
// a controller: typed-free JSON objects, the verbs get/list/create/update/patch/delete (and the
// status subresource), and a streaming watch.
//
// - Errors: any non-2xx answer comes back as a core::Status built from the server's metav1.Status
//   (code, reason, message, details, causes, Retry-After). Transport failures are 503
//   ServiceUnavailable; "connection refused" while a server restarts is one of those.
// - Connections: HTTP/1.1 keep-alive, a small pool of idle connections reused by later calls
//   (a stale pooled connection the server closed is retried once on a fresh one). A watch holds
//   its own connection for its lifetime.
// - Rate limiting: every request (a watch's start included) takes a token from a QPS/burst
//   bucket first, as client-go's rest.Config{QPS, Burst} does; 429 answers are retried after
//   their Retry-After up to 3 times.
// - Identity: User-Agent is the config's (name the component: "berth-scheduler/v0.1"), the
//   credentials are the kubeconfig's bearer token or client certificate.
//
// Thread-safety: every method is safe from any thread; calls run in parallel up to the
// pool's size and beyond (extra connections are opened, then closed instead of pooled).
// A Watch belongs to the thread running `next()`/`run()`, except `stop()`, which any thread may
// call.
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_connection.h"
#include "client/rate_limiter.h"
#include "core/result.h"

namespace berth::client {

struct RestConfig {
  std::string server;  // https://host:port
  std::string caPem;
  bool insecureSkipVerify = false;
  std::string bearerToken;
  std::string clientCertPem, clientKeyPem;
  std::string userAgent = "berth-client";
  std::string defaultNamespace = "default";
  double qps = 5;  // client-go's defaults; controllers raise them
  int burst = 10;
  int maxIdleConnections = 4;
  std::chrono::milliseconds timeout{30000};  // connect and per-read timeout of normal calls
};

// Reads a kubeconfig (clusters/users/contexts; certificate-authority(-data),
// insecure-skip-tls-verify, token, token-file, client-certificate(-data), client-key(-data)).
// `context` empty = current-context.
core::Result<RestConfig> loadKubeconfig(const std::string& path, const std::string& context = "");

// A resource: group ("" for core), version, plural name.
struct Resource {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  std::string resourceVersionMatch;
  long long limit = 0;
  std::string continueToken;
  int timeoutSeconds = 0;
  bool allowWatchBookmarks = false;
  std::optional<bool> sendInitialEvents;
};

enum class PatchType { kMerge, kStrategicMerge, kJson, kApply };

struct PatchOptions {
  std::string fieldManager;
  bool force = false;  // apply only
  std::string subresource;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  boost::json::value object;
};

// Turns a metav1.Status JSON object (as a failed call or an ERROR watch event carries) into a
// core::Status; `httpCode` is used when the object has no code.
core::Status statusFromJson(const boost::json::value& v, int httpCode);

class Watch {
 public:
  ~Watch();
  // Calls `onEvent` for each event, in order, until the stream ends: OK when the server ended
  // it (its timeout), `onEvent` returned false or stop() was called; an error when the
  // connection broke or a line was not a watch event.
  core::Status run(const std::function<bool(WatchEvent&&)>& onEvent);
  // Any thread: ends the stream; a blocked run() returns promptly.
  void stop();
  // For event-driven readers instead of run(): the response head and the connection, positioned
  // at the start of the body (see HttpConnection::readNonBlocking).
  const HttpResponseHead& head() const { return head_; }
  HttpConnection& connection() { return *conn_; }

 private:
  friend class RestClient;
  Watch(std::unique_ptr<HttpConnection> conn, HttpResponseHead head)
      : conn_(std::move(conn)), head_(std::move(head)) {}

  std::unique_ptr<HttpConnection> conn_;
  HttpResponseHead head_;
  std::atomic<bool> stopped_{false};
};

class RestClient {
 public:
  static core::Result<std::unique_ptr<RestClient>> create(RestConfig config);
  ~RestClient();

  const RestConfig& config() const { return config_; }

  // The path of a resource collection or object, e.g. /api/v1/namespaces/ns/pods/name/status.
  static std::string path(const Resource& r, std::string_view ns, std::string_view name = {},
                          std::string_view subresource = {});

  core::Result<boost::json::value> get(const Resource& r, std::string_view ns,
                                       std::string_view name);
  core::Result<boost::json::value> list(const Resource& r, std::string_view ns,
                                        const ListOptions& options = {});
  core::Result<boost::json::value> create(const Resource& r, std::string_view ns,
                                          const boost::json::value& obj,
                                          std::string_view subresource = {});
  core::Result<boost::json::value> update(const Resource& r, std::string_view ns,
                                          const boost::json::value& obj);
  core::Result<boost::json::value> updateStatus(const Resource& r, std::string_view ns,
                                                const boost::json::value& obj);
  core::Result<boost::json::value> patch(const Resource& r, std::string_view ns,
                                         std::string_view name, PatchType type,
                                         std::string_view body, const PatchOptions& options = {});
  // DELETE; `options` is an optional DeleteOptions body (propagationPolicy, preconditions).
  core::Result<boost::json::value> remove(const Resource& r, std::string_view ns,
                                          std::string_view name,
                                          const boost::json::value* options = nullptr);
  // Starts a watch (`?watch=1`); an HTTP error (e.g. 410 for a too old resourceVersion on
  // servers that answer so) is returned here, an in-stream ERROR event comes as an event.
  core::Result<std::unique_ptr<Watch>> watch(const Resource& r, std::string_view ns,
                                             const ListOptions& options);

  // Any verb on any path (query string included); body sent with `contentType` if non-empty.
  core::Result<boost::json::value> request(std::string_view method, std::string_view target,
                                           std::string_view body = {},
                                           std::string_view contentType = {});

  // Counters for tests and metrics.
  long long connectionsOpened() const { return connectionsOpened_.load(); }
  long long requestsSent() const { return requestsSent_.load(); }

 private:
  explicit RestClient(RestConfig config);
  std::string headFor(std::string_view method, std::string_view target, std::string_view body,
                      std::string_view contentType) const;
  core::Result<std::unique_ptr<HttpConnection>> acquire(bool* reused);
  void release(std::unique_ptr<HttpConnection> conn);
  core::Result<boost::json::value> requestOnce(std::string_view method, std::string_view target,
                                               std::string_view body, std::string_view contentType,
                                               int* retryAfter);

  struct Pool;
  RestConfig config_;
  std::string host_;
  int port_ = 443;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<Pool> pool_;
  TokenBucket limiter_;
  std::atomic<long long> connectionsOpened_{0};
  std::atomic<long long> requestsSent_{0};
};

}  // namespace berth::client
