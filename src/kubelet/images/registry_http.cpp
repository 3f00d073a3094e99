#include "kubelet/images/registry_http.h"

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "client/http_connection.h"

namespace berth::kubelet::images {

using core::Status;

namespace {

constexpr int kMaxRedirects = 5;
constexpr auto kTimeout = std::chrono::seconds(30);

core::Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::badRequest("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string Url::hostPort() const {
  bool defaultPort = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return defaultPort ? host : host + ":" + std::to_string(port);
}

core::Result<Url> parseUrl(std::string_view text) {
  auto schemeEnd = text.find("://");
  if (schemeEnd == std::string_view::npos)
    return Status::badRequest("not an absolute URL: " + std::string(text.substr(0, 200)));
  auto ep = parseEndpoint(text);
  if (!ep.ok()) return ep.status();
  Url u{ep->scheme, ep->host, ep->port, "/"};
  auto rest = text.substr(schemeEnd + 3);
  if (auto slash = rest.find_first_of("/?"); slash != std::string_view::npos) {
    u.target = std::string(rest.substr(slash));
    if (u.target.front() == '?') u.target = "/" + u.target;
  }
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return Status::badRequest("URL has control characters or spaces");
  return u;
}

core::Result<Url> resolveUrl(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parseUrl(location);
  if (location.empty() || location.front() != '/')
    return Status::badRequest("unsupported redirect " + std::string(location.substr(0, 200)));
  Url u = base;
  u.target = std::string(location);
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= ' ') return Status::badRequest("redirect has spaces");
  return u;
}


Challenge parseChallenge(std::string_view h) {
  Challenge c;
  size_t i = 0;
  while (i < h.size() && h[i] == ' ') ++i;
  size_t start = i;
  while (i < h.size() && h[i] != ' ') ++i;
  for (char ch : h.substr(start, i - start))
    c.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    size_t keyStart = i;
    while (i < h.size() && h[i] != '=' && h[i] != ',') ++i;
    std::string key;
    for (char ch : h.substr(keyStart, i - keyStart))
      if (ch != ' ') key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (i >= h.size() || h[i] != '=') continue;
    ++i;
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      while (i < h.size() && h[i] != '"') {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        value += h[i++];
      }
      ++i;
    } else {
      while (i < h.size() && h[i] != ',') value += h[i++];
    }
    if (!key.empty()) c.params[key] = value;
  }
  return c;
}

core::Result<std::shared_ptr<client::TlsContext>> RegistryHttp::tlsFor(const Url& url) {
  if (url.scheme == "http") return std::shared_ptr<client::TlsContext>();
  std::lock_guard lock(mu_);
  std::string key = url.hostPort();
  if (auto it = tls_.find(key); it != tls_.end()) return it->second;
  RegistryEndpoint ep{url.scheme, url.host, url.port};
  RegistryHostConfig hc = config_.hostConfig(ep);
  client::TlsConfig tc;
  tc.insecureSkipVerify = hc.insecureSkipVerify;
  for (auto [file, dest] : {std::pair{&hc.caFile, &tc.caPem},
                            {&hc.certFile, &tc.clientCertPem},
                            {&hc.keyFile, &tc.clientKeyPem}}) {
    if (file->empty()) continue;
    auto pem = readFile(*file);
    if (!pem.ok()) return pem.status();
    *dest = std::move(*pem);
  }
  auto ctx = client::makeTlsContext(tc);
  if (!ctx.ok()) return ctx.status();
  tls_[key] = *ctx;
  return *ctx;
}

core::Result<HttpReply> RegistryHttp::get(
    const Url& start, const std::vector<std::pair<std::string, std::string>>& headers,
    size_t maxBody, const std::function<bool(std::string_view)>& sink) {
  Url url = start;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    auto tls = tlsFor(url);
    if (!tls.ok()) return tls.status();
    auto conn = client::HttpConnection::open(
        *tls, url.host.front() == '[' ? url.host.substr(1, url.host.size() - 2) : url.host,
        url.port, std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
    if (!conn.ok()) return conn.status();
    std::string req = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.hostPort() +
                      "\r\nUser-Agent: berth/0.1\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) {
      if (k == "Authorization" && url.hostPort() != start.hostPort()) continue;
      req += k + ": " + v + "\r\n";
    }
    req += "\r\n";
    if (auto st = (*conn)->send(req); !st.ok()) return st;
    auto head = (*conn)->readHead();
    if (!head.ok()) return head.status();
    HttpReply reply;
    reply.status = head->status;
    reply.headers = head->headers;
    if (reply.status >= 300 && reply.status < 400 && !reply.header("location").empty()) {
      auto next = resolveUrl(url, reply.header("location"));
      if (!next.ok()) return next.status();
      url = *next;
      continue;
    }
    bool stream = sink && reply.status == 200;
    bool tooLarge = false;
    auto st = (*conn)->readBody(*head, [&](std::string_view piece) {
      if (stream) return sink(piece);
      if (reply.body.size() + piece.size() > maxBody) {
        tooLarge = true;
        return false;
      }
      reply.body.append(piece);
      return true;
    });
    if (!st.ok()) return st;
    if (tooLarge) return Status::badRequest("response from " + url.hostPort() + " is too large");
    return reply;
  }
  return Status::badRequest("too many redirects from " + start.string());
}

}  // namespace berth::kubelet::images
