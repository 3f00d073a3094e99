#include "client/rest_client.h"

#include <boost/json.hpp>

#include <mutex>
#include <thread>

#include "client/indexer.h"
#include "core/url_encode.h"

namespace berth::client {

namespace json = boost::json;
using core::Status;

struct RestClient::Pool {
  std::mutex mu;
  std::vector<std::unique_ptr<HttpConnection>> idle;
};

namespace {

using core::urlEncode;

std::string query(const ListOptions& o, bool watch) {
  std::string q;
  auto add = [&](std::string_view k, std::string_view v) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += urlEncode(v);
  };
  if (watch) add("watch", "1");
  if (!o.labelSelector.empty()) add("labelSelector", o.labelSelector);
  if (!o.fieldSelector.empty()) add("fieldSelector", o.fieldSelector);
  if (!o.resourceVersion.empty()) add("resourceVersion", o.resourceVersion);
  if (!o.resourceVersionMatch.empty()) add("resourceVersionMatch", o.resourceVersionMatch);
  if (o.limit > 0) add("limit", std::to_string(o.limit));
  if (!o.continueToken.empty()) add("continue", o.continueToken);
  if (o.timeoutSeconds > 0) add("timeoutSeconds", std::to_string(o.timeoutSeconds));
  if (o.allowWatchBookmarks) add("allowWatchBookmarks", "true");
  if (o.sendInitialEvents) add("sendInitialEvents", *o.sendInitialEvents ? "true" : "false");
  return q;
}

const char* reasonForCode(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

std::string jsonString(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                  : std::string();
}

}  // namespace

Status statusFromJson(const json::value& v, int httpCode) {
  const auto* o = v.if_object();
  if (!o) return Status::generic(httpCode, reasonForCode(httpCode), "unexpected error body");
  int code = httpCode;
  if (auto it = o->find("code"); it != o->end() && it->value().is_int64())
    code = static_cast<int>(it->value().get_int64());
  if (code == 0) code = 500;
  std::string reason = jsonString(*o, "reason");
  if (reason.empty()) reason = reasonForCode(code);
  Status st = Status::generic(code, reason, jsonString(*o, "message"));
  if (auto it = o->find("details"); it != o->end() && it->value().is_object()) {
    const auto& d = it->value().get_object();
    st.withDetails(jsonString(d, "name"), jsonString(d, "group"), jsonString(d, "kind"));
    if (auto ra = d.find("retryAfterSeconds"); ra != d.end() && ra->value().is_int64())
      st.withRetryAfter(static_cast<int>(ra->value().get_int64()));
    if (auto cs = d.find("causes"); cs != d.end() && cs->value().is_array()) {
      std::vector<core::StatusCause> causes;
      for (const auto& c : cs->value().get_array()) {
        if (!c.is_object()) continue;
        causes.push_back({jsonString(c.get_object(), "reason"),
                          jsonString(c.get_object(), "message"),
                          jsonString(c.get_object(), "field")});
      }
      st.withCauses(std::move(causes));
    }
  }
  return st;
}

Watch::~Watch() = default;

void Watch::stop() {
  stopped_ = true;
  if (conn_) conn_->abort();
}

Status Watch::run(const std::function<bool(WatchEvent&&)>& onEvent) {
  std::string pending;
  Status lineError;
  auto sink = [&](std::string_view piece) {
    if (stopped_) return false;
    pending.append(piece);
    size_t start = 0;
    for (;;) {
      auto nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(pending.data() + start, nl - start);
      start = nl + 1;
      if (line.empty() || line == "\r") continue;
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      const json::object* o = ec ? nullptr : v.if_object();
      if (!o || !o->contains("type") || !o->at("type").is_string()) {
        lineError = Status::internal("malformed watch event: " + std::string(line.substr(0, 120)));
        return false;
      }
      WatchEvent ev;
      ev.type = std::string(o->at("type").get_string());
      if (auto it = v.as_object().find("object"); it != v.as_object().end())
        ev.object = std::move(it->value());
      if (!onEvent(std::move(ev))) {
        stopped_ = true;
        return false;
      }
    }
    pending.erase(0, start);
    return !stopped_.load();
  };
  Status st = conn_->readBody(head_, sink);
  if (!lineError.ok()) return lineError;
  if (stopped_) return {};
  return st;
}

RestClient::RestClient(RestConfig config)
    : config_(std::move(config)),
      pool_(std::make_unique<Pool>()),
      limiter_(config_.qps, config_.burst) {}

RestClient::~RestClient() = default;

core::Result<std::unique_ptr<RestClient>> RestClient::create(RestConfig config) {
  std::string server = config.server;
  if (server.rfind("https://", 0) != 0)
    return Status::badRequest("server must be an https:// URL, got \"" + server + "\"");
  std::string hostPort = server.substr(8);
  if (auto slash = hostPort.find('/'); slash != std::string::npos) hostPort.resize(slash);
  std::string host = hostPort;
  int port = 443;
  if (!hostPort.empty() && hostPort[0] == '[') {
    auto close = hostPort.find(']');
    if (close == std::string::npos) return Status::badRequest("bad server URL " + server);
    host = hostPort.substr(1, close - 1);
    if (close + 1 < hostPort.size() && hostPort[close + 1] == ':')
      port = std::atoi(hostPort.c_str() + close + 2);
  } else if (auto colon = hostPort.rfind(':'); colon != std::string::npos) {
    host = hostPort.substr(0, colon);
    port = std::atoi(hostPort.c_str() + colon + 1);
  }
  if (host.empty() || port <= 0 || port > 65535)
    return Status::badRequest("bad server URL " + server);
  auto tls = makeTlsContext(
      {config.caPem, config.insecureSkipVerify, config.clientCertPem, config.clientKeyPem});
  if (!tls.ok()) return tls.status();
  std::unique_ptr<RestClient> c(new RestClient(std::move(config)));
  c->host_ = host;
  c->port_ = port;
  c->tls_ = std::move(tls).value();
  return c;
}

std::string RestClient::path(const Resource& r, std::string_view ns, std::string_view name,
                             std::string_view subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) {
    p += "/namespaces/";
    p += ns;
  }
  p += '/';
  p += r.resource;
  if (!name.empty()) {
    p += '/';
    p += name;
    if (!subresource.empty()) {
      p += '/';
      p += subresource;
    }
  }
  return p;
}

std::string RestClient::headFor(std::string_view method, std::string_view target,
                                std::string_view body, std::string_view contentType) const {
  std::string h;
  h.reserve(256 + config_.bearerToken.size());
  h.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  h.append(host_).append(":").append(std::to_string(port_)).append("\r\n");
  h.append("User-Agent: ").append(config_.userAgent).append("\r\n");
  h.append("Accept: application/json\r\n");
  if (!config_.bearerToken.empty())
    h.append("Authorization: Bearer ").append(config_.bearerToken).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    h.append("Content-Type: ")
        .append(contentType.empty() ? "application/json" : contentType)
        .append("\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  }
  h.append("\r\n");
  return h;
}

core::Result<std::unique_ptr<HttpConnection>> RestClient::acquire(bool* reused) {
  {
    std::lock_guard lock(pool_->mu);
    while (!pool_->idle.empty()) {
      auto c = std::move(pool_->idle.back());
      pool_->idle.pop_back();
      if (c->closedByPeer()) continue;  // the server closed it while idle
      *reused = true;
      return c;
    }
  }
  *reused = false;
  auto c = HttpConnection::open(tls_, host_, port_, config_.timeout);
  if (c.ok()) ++connectionsOpened_;
  return c;
}

void RestClient::release(std::unique_ptr<HttpConnection> conn) {
  if (!conn->reusable()) return;
  std::lock_guard lock(pool_->mu);
  if (static_cast<int>(pool_->idle.size()) < config_.maxIdleConnections)
    pool_->idle.push_back(std::move(conn));
}

core::Result<json::value> RestClient::requestOnce(std::string_view method, std::string_view target,
                                                  std::string_view body,
                                                  std::string_view contentType, int* retryAfter) {
  std::string head = headFor(method, target, body, contentType);
  // A pooled connection may have been closed by the server while idle; that shows as a write
  // error or an EOF before the first response byte, and the request is sent again on a fresh
  // connection (the server never saw it), as Go's transport does.
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto conn = acquire(&reused);
    if (!conn.ok()) return conn.status();
    HttpConnection& c = **conn;
    ++requestsSent_;
    Status st = c.send(head);
    if (st.ok() && !body.empty()) st = c.send(body);
    if (!st.ok()) {
      if (reused && attempt == 0) continue;  // never reached the server
      return st;
    }
    auto rh = c.readHead();
    if (!rh.ok()) {
      // Closed before answering: the server may have dropped the idle connection as the request
      // went out. Go's transport resends only requests that are safe to repeat; so does this.
      bool repeatable = method != "POST" && method != "PATCH";
      if (reused && attempt == 0 && repeatable && rh.status().reason() == "ConnectionClosed")
        continue;
      return rh.status();
    }
    std::string data;
    if (method != "HEAD") {
      st = c.readBody(*rh, [&](std::string_view piece) {
        data.append(piece);
        return true;
      });
      if (!st.ok()) return st;
    }
    release(std::move(conn).value());
    boost::system::error_code ec;
    json::value v = data.empty() ? json::value() : json::parse(data, ec);
    if (rh->status >= 200 && rh->status < 300) {
      if (ec) return Status::internal("server sent invalid JSON: " + ec.message());
      return v;
    }
    if (!rh->header("retry-after").empty())
      *retryAfter = std::atoi(rh->header("retry-after").c_str());
    if (ec || !v.is_object())
      return Status::generic(rh->status, reasonForCode(rh->status), data.substr(0, 512));
    return statusFromJson(v, rh->status);
  }
}

core::Result<json::value> RestClient::request(std::string_view method, std::string_view target,
                                              std::string_view body, std::string_view contentType) {
  for (int attempt = 0;; ++attempt) {
    limiter_.wait();
    int retryAfter = 0;
    auto r = requestOnce(method, target, body, contentType, &retryAfter);
    // 429 with Retry-After is the server asking for the same call later (client-go retries it
    // up to 10 times; 3 keeps a stuck caller from hanging for long).
    if (r.ok() || r.status().code() != 429 || retryAfter <= 0 || attempt >= 3) return r;
    std::this_thread::sleep_for(std::chrono::seconds(std::min(retryAfter, 10)));
  }
}

core::Result<json::value> RestClient::get(const Resource& r, std::string_view ns,
                                          std::string_view name) {
  return request("GET", path(r, ns, name));
}

core::Result<json::value> RestClient::list(const Resource& r, std::string_view ns,
                                           const ListOptions& options) {
  return request("GET", path(r, ns) + query(options, false));
}

core::Result<json::value> RestClient::create(const Resource& r, std::string_view ns,
                                             const json::value& obj, std::string_view subresource) {
  std::string target = path(r, ns);
  if (!subresource.empty()) {
    // POST to a subresource of a named object (pods/x/binding, pods/x/eviction).
    std::string_view name = objectName(obj);
    if (name.empty()) return Status::badRequest("a subresource create needs metadata.name");
    target = path(r, ns, name, subresource);
  }
  return request("POST", target, json::serialize(obj));
}

core::Result<json::value> RestClient::update(const Resource& r, std::string_view ns,
                                             const json::value& obj) {
  auto* o = obj.if_object();
  auto* meta = o && o->contains("metadata") ? o->at("metadata").if_object() : nullptr;
  if (!meta || !meta->contains("name") || !meta->at("name").is_string())
    return Status::badRequest("update needs metadata.name");
  return request("PUT", path(r, ns, meta->at("name").get_string()), json::serialize(obj));
}

core::Result<json::value> RestClient::updateStatus(const Resource& r, std::string_view ns,
                                                   const json::value& obj) {
  auto* o = obj.if_object();
  auto* meta = o && o->contains("metadata") ? o->at("metadata").if_object() : nullptr;
  if (!meta || !meta->contains("name") || !meta->at("name").is_string())
    return Status::badRequest("updateStatus needs metadata.name");
  return request("PUT", path(r, ns, meta->at("name").get_string(), "status"), json::serialize(obj));
}

core::Result<json::value> RestClient::patch(const Resource& r, std::string_view ns,
                                            std::string_view name, PatchType type,
                                            std::string_view body, const PatchOptions& options) {
  const char* ct = "application/merge-patch+json";
  if (type == PatchType::kStrategicMerge) ct = "application/strategic-merge-patch+json";
  if (type == PatchType::kJson) ct = "application/json-patch+json";
  if (type == PatchType::kApply) ct = "application/apply-patch+yaml";
  std::string target = path(r, ns, name, options.subresource);
  std::string q;
  if (!options.fieldManager.empty()) q += "fieldManager=" + urlEncode(options.fieldManager);
  if (options.force) q += std::string(q.empty() ? "" : "&") + "force=true";
  if (!q.empty()) target += "?" + q;
  return request("PATCH", target, body, ct);
}

core::Result<json::value> RestClient::remove(const Resource& r, std::string_view ns,
                                             std::string_view name, const json::value* options) {
  return request("DELETE", path(r, ns, name), options ? json::serialize(*options) : "");
}

core::Result<std::unique_ptr<Watch>> RestClient::watch(const Resource& r, std::string_view ns,
                                                       const ListOptions& options) {
  limiter_.wait();
  std::string target = path(r, ns) + query(options, true);
  // A watch gets its own connection: it is held for the stream's life and not pooled after.
  auto conn = HttpConnection::open(tls_, host_, port_, config_.timeout);
  if (!conn.ok()) return conn.status();
  ++connectionsOpened_;
  ++requestsSent_;
  HttpConnection& c = **conn;
  if (auto st = c.send(headFor("GET", target, {}, {})); !st.ok()) return st;
  auto head = c.readHead();
  if (!head.ok()) return head.status();
  if (head->status != 200) {
    std::string data;
    (void)c.readBody(*head, [&](std::string_view p) {
      data.append(p);
      return data.size() < (1 << 20);
    });
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec) return Status::generic(head->status, reasonForCode(head->status), data.substr(0, 512));
    return statusFromJson(v, head->status);
  }
  // Events may be minutes apart; the stream ends by the server's timeout or stop().
  c.setReadTimeout(std::chrono::milliseconds(0));
  return std::unique_ptr<Watch>(new Watch(std::move(conn).value(), std::move(head).value()));
}

}  // namespace berth::client
