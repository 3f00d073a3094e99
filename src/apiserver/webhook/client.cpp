#include "apiserver/webhook/client.h"

#include <boost/json.hpp>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "client/http_connection.h"
#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver::webhook {

namespace {

namespace json = boost::json;

constexpr size_t kMaxResponseBytes = 3 * 1024 * 1024;

struct Endpoint {
  std::string host;
  int port = 443;
  std::string path = "/";
  std::string serverName;  // verified name when it differs from host
  std::string display;     // the URL for messages
};

// "https://host[:port][/path]" → endpoint; upstream requires https.
core::Result<Endpoint> parseUrl(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return core::Status::badRequest("webhook url must use https");
  std::string rest = url.substr(scheme.size());
  Endpoint e;
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) e.path = rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return core::Status::badRequest("bad webhook url host");
    e.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      e.port = std::atoi(hostport.c_str() + close + 2);
  } else {
    auto colon = hostport.rfind(':');
    e.host = hostport.substr(0, colon);
    if (colon != std::string::npos) e.port = std::atoi(hostport.c_str() + colon + 1);
  }
  if (e.host.empty() || e.port <= 0 || e.port > 65535) {
    return core::Status::badRequest("bad webhook url " + url);
  }
  e.display = url;
  return e;
}

int intField(const json::object& o, std::string_view key, int fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<int>() : fallback;
}

// The endpoint of a service clientConfig before resolution (its display URL and verified name).
core::Result<Endpoint> serviceEndpoint(const json::object& svc) {
  std::string ns = core::stringField(svc, "namespace"), name = core::stringField(svc, "name");
  int port = intField(svc, "port", 443);
  Endpoint e;
  std::string path = core::stringField(svc, "path");
  if (!path.empty()) e.path = path;
  e.serverName = name + "." + ns + ".svc";
  e.port = port;
  e.display = "https://" + e.serverName + ":" + std::to_string(port) + e.path;
  return e;
}

std::string withQuery(const std::string& target, const std::string& query) {
  if (query.empty()) return target;
  return target + (target.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

core::Result<std::shared_ptr<client::TlsContext>> Client::tlsFor(const std::string& caBundle) {
  std::lock_guard lock(mu_);
  if (auto it = tls_.find(caBundle); it != tls_.end()) return it->second;
  client::TlsConfig cfg;
  if (!caBundle.empty()) {
    auto pem = core::base64Decode(caBundle);
    if (!pem) return core::Status::badRequest("caBundle is not valid base64");
    cfg.caPem = *pem;
  }
  auto ctx = client::makeTlsContext(cfg);
  if (!ctx.ok()) return ctx.status();
  if (tls_.size() > 64) tls_.clear();  // configurations come and go; keep the cache small
  tls_[caBundle] = *ctx;
  return *ctx;
}

core::Result<Reply> Client::post(const json::object& clientConfig, const std::string& body,
                                 std::chrono::seconds timeout, const std::string& query) {
  std::string url = core::stringField(clientConfig, "url");
  core::Result<Endpoint> ep =
      core::Status::badRequest("webhook clientConfig has neither url nor service");
  const json::object* svc = core::objectField(clientConfig, "service");
  if (!url.empty()) {
    ep = parseUrl(url);
  } else if (svc) {
    ep = serviceEndpoint(*svc);
  }
  if (!ep.ok()) return ep.status();
  std::string shown = withQuery(ep->display, query);
  auto fail = [&](const core::Status& st) {
    return core::Status::internal("Post \"" + shown + "\": " + st.message());
  };
  if (url.empty()) {
    auto addr = resolver_ ? resolver_(core::stringField(*svc, "namespace"),
                                      core::stringField(*svc, "name"), ep->port)
                          : core::Result<std::pair<std::string, int>>(
                                core::Status::unavailable("no service resolver"));
    if (!addr.ok()) return fail(addr.status());
    ep->host = addr->first;
    ep->port = addr->second;
  }
  auto tls = tlsFor(core::stringField(clientConfig, "caBundle"));
  if (!tls.ok()) return fail(tls.status());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto conn = client::HttpConnection::open(
      *tls, ep->host, ep->port, std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
      ep->serverName);
  if (!conn.ok()) return fail(conn.status());
  std::string hostHeader = ep->serverName.empty() ? ep->host : ep->serverName;
  std::string req = "POST " + withQuery(ep->path, query) + " HTTP/1.1\r\nHost: " + hostHeader +
                    ":" + std::to_string(ep->port) +
                    "\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                    "User-Agent: berth-apiserver\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  if (auto st = (*conn)->send(req); !st.ok()) return fail(st);
  auto head = (*conn)->readHead();
  if (!head.ok()) return fail(head.status());
  Reply reply;
  reply.status = head->status;
  bool tooBig = false;
  auto st = (*conn)->readBody(*head, [&](std::string_view piece) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    reply.body.append(piece);
    tooBig = reply.body.size() > kMaxResponseBytes;
    return !tooBig;
  });
  if (std::chrono::steady_clock::now() > deadline) {
    return fail(core::Status::timeout("context deadline exceeded"));
  }
  if (tooBig) return fail(core::Status::internal("response too large"));
  if (!st.ok()) return fail(st);
  return reply;
}

bool containsCertificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  bool ok = cert != nullptr;
  X509_free(cert);
  BIO_free(bio);
  return ok;
}

std::string newRequestUid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace berth::apiserver::webhook
