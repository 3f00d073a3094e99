#include "kubelet/probe_http.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "kubelet/container_config.h"
#include "kubelet/probe_http2.h"
#include "sys/socket_address.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxRedirects = 10;  // Go's default, kept by upstream's RedirectChecker
constexpr size_t kMaxHeaderBytes = 1 << 20;

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(::tolower(static_cast<unsigned char>(ch)));
  return s;
}

struct Url {
  std::string scheme, host;  // scheme lower-case
  int port = 0;
  std::string target;  // path and query, as the request line carries it
  std::string hostPort() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
  }
  std::string str() const { return scheme + "://" + hostPort() + target; }
};

// Resolves a Location header against the URL it came from.
Url resolveLocation(const Url& base, const std::string& loc) {
  Url u = base;
  std::string rest;
  if (auto p = loc.find("://"); p != std::string::npos && loc.find('/') > p) {
    u.scheme = lower(loc.substr(0, p));
    rest = loc.substr(p + 3);
  } else if (loc.rfind("//", 0) == 0) {
    rest = loc.substr(2);
  } else {
    if (loc.rfind('/', 0) == 0) {
      u.target = loc;
    } else {  // relative to the current path's directory
      std::string dir = base.target.substr(0, base.target.find('?'));
      u.target = dir.substr(0, dir.rfind('/') + 1) + loc;
    }
    return u;
  }
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.target[0] == '?') u.target = "/" + u.target;
  u.port = u.scheme == "https" ? 443 : 80;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      u.port = std::atoi(authority.c_str() + close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = std::atoi(authority.c_str() + colon + 1);
  } else {
    u.host = authority;
  }
  return u;
}

// The exchange's deadline and cancellation: every wait polls in slices so a cancel is seen.
class Deadline {
 public:
  explicit Deadline(const HttpGetOptions& o)
      : end_(o.timeout.count() > 0 ? Clock::now() + o.timeout : Clock::time_point::max()),
        cancelled_(o.cancelled) {}
  // Waits until `fd` is ready for `events`; an error when the time is up or the run cancelled.
  std::string wait(int fd, short events) const {
    for (;;) {
      if (cancelled_ && cancelled_()) return "context canceled";
      auto now = Clock::now();
      if (now >= end_)
        return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
      auto left = end_ == Clock::time_point::max()
                      ? std::chrono::milliseconds(INT_MAX)
                      : std::chrono::duration_cast<std::chrono::milliseconds>(end_ - now) +
                            std::chrono::milliseconds(1);
      if (cancelled_) left = std::min(left, std::chrono::milliseconds(100));
      pollfd p{fd, events, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc > 0) return "";
      if (rc < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    }
  }

 private:
  Clock::time_point end_;
  std::function<bool()> cancelled_;
};

// A connected non-blocking socket, or -1 with `error` set as Go's dialer words it.
int dialWithin(const std::string& host, int port, const Deadline& d, std::string& error) {
  auto addr = sys::SocketAddress::resolve(host, port);
  if (!addr) {
    error = "dial tcp: lookup " + host + ": no such host";
    return -1;
  }
  int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = ::connect(fd, addr->addr(), addr->length());
  if (rc != 0 && errno == EINPROGRESS) {
    if (error = d.wait(fd, POLLOUT); !error.empty()) {
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t l = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    std::string why = std::strerror(errno);  // Go's errno texts are lower-case
    if (!why.empty()) why[0] = static_cast<char>(::tolower(static_cast<unsigned char>(why[0])));
    error = "dial tcp " + Url{"", host, port, ""}.hostPort() + ": connect: " + why;
    ::close(fd);
    return -1;
  }
  return fd;
}

SSL_CTX* clientContext() {
  // Upstream's probe transport: TLS without verifying the peer (InsecureSkipVerify).
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    // A server that closes without close_notify ends the body, as Go's reader takes it.
    SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    return c;
  }();
  return ctx;
}

std::string opensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "tls: handshake failure";
  const char* reason = ERR_reason_error_string(e);
  return std::string("tls: ") + (reason ? reason : "error");
}

// A plain or TLS connection with non-blocking I/O under a Deadline.
// The first bytes a connection read from its socket (a BIO callback fills it).
struct FirstBytes {
  char data[5] = {};
  size_t size = 0;
  std::string_view view() const { return {data, size}; }
};

long recordFirstBytes(BIO* bio, int oper, const char* argp, size_t /*len*/, int /*argi*/,
                      long /*argl*/, int ret, size_t* processed) {
  if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed && argp) {
    auto* first = reinterpret_cast<FirstBytes*>(BIO_get_callback_arg(bio));
    size_t take = std::min(*processed, sizeof first->data - first->size);
    std::memcpy(first->data + first->size, argp, take);
    first->size += take;
  }
  return ret;
}

class Conn {
 public:
  explicit Conn(const Deadline& d) : d_(d) {}
  ~Conn() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
  }
  std::string open(const Url& u, bool* httpResponseToHttps) {
    std::string error;
    fd_ = dialWithin(u.host, u.port, d_, error);
    if (fd_ < 0) return error;
    if (u.scheme != "https") return "";
    ssl_ = SSL_new(clientContext());
    SSL_set_fd(ssl_, fd_);
    // Go sends SNI for names only, never for an IP address.
    if (!sys::isIpLiteral(u.host)) SSL_set_tlsext_host_name(ssl_, u.host.c_str());
    // Go's transport offers HTTP/2 first, then HTTP/1.1 (upstream's prober keeps that).
    static constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";
    SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn - 1);
    // Go recognizes an HTTP server answering the ClientHello by "HTTP/" where the first record
    // header should be (a TLS record never starts with 'H'). OpenSSL may read that answer inside
    // any SSL_connect call, so the socket BIO records the first bytes it reads.
    BIO* rbio = SSL_get_rbio(ssl_);
    BIO_set_callback_arg(rbio, reinterpret_cast<char*>(&firstBytes_));
    BIO_set_callback_ex(rbio, recordFirstBytes);
    auto httpAnswer = [&] {
      if (firstBytes_.view() != "HTTP/") return false;
      *httpResponseToHttps = true;
      return true;
    };
    for (;;) {
      int rc = SSL_connect(ssl_);
      if (rc == 1) return "";
      int e = SSL_get_error(ssl_, rc);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        return httpAnswer() ? "http: server gave HTTP response to HTTPS client" : opensslError();
      }
      if (auto err = d_.wait(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT); !err.empty())
        return err;
    }
  }
  // True when the TLS handshake's ALPN selected HTTP/2.
  bool h2() const {
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    if (ssl_) SSL_get0_alpn_selected(ssl_, &proto, &len);
    return len == 2 && std::memcmp(proto, "h2", 2) == 0;
  }
  std::string writeAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      if (ssl_) {
        int rc = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
        if (rc > 0) {
          done += static_cast<size_t>(rc);
          continue;
        }
        int e = SSL_get_error(ssl_, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return opensslError();
        if (auto err = d_.wait(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT); !err.empty())
          return err;
        continue;
      }
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (auto err = d_.wait(fd_, POLLOUT); !err.empty()) return err;
      } else {
        return std::string("write: ") + std::strerror(errno);
      }
    }
    return "";
  }
  // Appends what arrives next to `out`; *eof at the end of the stream.
  std::string readSome(std::string& out, bool* eof) {
    char buf[16384];
    for (;;) {
      if (ssl_) {
        int rc = SSL_read(ssl_, buf, sizeof buf);
        if (rc > 0) return out.append(buf, static_cast<size_t>(rc)), "";
        int e = SSL_get_error(ssl_, rc);
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
          *eof = true;
          return "";
        }
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return opensslError();
        if (auto err = d_.wait(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT); !err.empty())
          return err;
        continue;
      }
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) return out.append(buf, static_cast<size_t>(n)), "";
      if (n == 0) {
        *eof = true;
        return "";
      }
      if (errno != EAGAIN && errno != EINTR) return std::string("read: ") + std::strerror(errno);
      if (auto err = d_.wait(fd_, POLLIN); !err.empty()) return err;
    }
  }

 private:
  const Deadline& d_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  FirstBytes firstBytes_;
};

struct Response {
  int status = 0;
  std::string location, body;
};

// Decodes as much of a chunked body as `raw` holds; *done at the last chunk.
std::string dechunk(const std::string& raw, bool* done) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return out;
    size_t size = std::strtoul(raw.c_str() + pos, nullptr, 16);
    if (size == 0) {
      *done = true;
      return out;
    }
    if (raw.size() < eol + 2 + size) return out + raw.substr(eol + 2);
    out += raw.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

// Reads the response's head and up to kMaxProbeBodyBytes of its body.
std::string readResponse(Conn& conn, Response& r) {
  std::string raw;
  bool eof = false;
  size_t headEnd;
  while ((headEnd = raw.find("\r\n\r\n")) == std::string::npos) {
    if (raw.size() > kMaxHeaderBytes) return "net/http: server response headers exceeded limit";
    if (auto err = conn.readSome(raw, &eof); !err.empty()) return err;
    if (eof) return raw.empty() ? "EOF" : "unexpected EOF";
  }
  std::string head = raw.substr(0, headEnd);
  std::string body = raw.substr(headEnd + 4);
  size_t lineEnd = head.find("\r\n");
  std::string statusLine = head.substr(0, lineEnd);
  if (statusLine.rfind("HTTP/", 0) != 0 ||
      std::sscanf(statusLine.c_str(), "HTTP/%*s %d", &r.status) != 1)
    return "malformed HTTP response \"" + statusLine + "\"";
  long long length = -1;
  bool chunked = false;
  for (size_t pos = lineEnd; pos != std::string::npos && pos < head.size();) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    if (name == "location") r.location = value;
    if (name == "content-length") length = std::atoll(value.c_str());
    if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos)
      chunked = true;
  }
  if (r.status == 204 || r.status == 304) return "";
  for (;;) {
    bool done = false;
    r.body = chunked ? dechunk(body, &done) : body;
    if (length >= 0 && !chunked && r.body.size() >= static_cast<size_t>(length)) done = true;
    if (done || eof || r.body.size() >= kMaxProbeBodyBytes) break;
    if (auto err = conn.readSome(body, &eof); !err.empty()) return err;
  }
  if (length >= 0 && !chunked && r.body.size() > static_cast<size_t>(length)) r.body.resize(length);
  if (r.body.size() > kMaxProbeBodyBytes) r.body.resize(kMaxProbeBodyBytes);
  return "";
}

using Headers = std::vector<std::pair<std::string, std::string>>;

// GET over HTTP/1.1, one request per connection ("Connection: close", DisableKeepAlives).
std::string exchangeH1(Conn& conn, const Url& url, const std::string& authority,
                       const Headers& headers, Response& r) {
  std::string req = "GET " + url.target + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "Connection: close\r\n\r\n";
  if (auto err = conn.writeAll(req); !err.empty()) return err;
  return readResponse(conn, r);
}

// GET over HTTP/2 when the server chose it in ALPN.
std::string exchangeH2(Conn& conn, const Url& url, const std::string& authority,
                       const Headers& headers, Response& r) {
  Http2Io io{[&](const std::string& data) { return conn.writeAll(data); },
             [&](std::string& out, bool* eof) { return conn.readSome(out, eof); }};
  Http2Request req{url.scheme, authority, url.target, headers, kMaxProbeBodyBytes};
  Http2Response resp;
  auto err = http2Get(io, req, resp);
  r.status = resp.status;
  r.location = std::move(resp.location);
  r.body = std::move(resp.body);
  return err;
}

}  // namespace

int dialTcp(const std::string& host, int port, std::chrono::milliseconds timeout,
            std::string& error) {
  HttpGetOptions o;
  o.timeout = timeout;
  Deadline d(o);
  int fd = dialWithin(host, port, d, error);
  if (fd < 0 && error.rfind("context deadline", 0) == 0)
    error = "dial tcp " + Url{"", host, port, ""}.hostPort() + ": i/o timeout";
  if (fd >= 0) ::fcntl(fd, F_SETFL, 0);
  return fd;
}

HttpGetResult httpGetAction(const json::object& h, const std::string& podIP,
                            const HttpGetOptions& o) {
  Url url;
  url.scheme = lower(o.schemeOverride.empty() ? str(h, "scheme") : o.schemeOverride);
  if (url.scheme.empty()) url.scheme = "http";
  url.host = str(h, "host").empty() ? podIP : str(h, "host");
  const auto* port = h.if_contains("port");
  url.port = port && port->is_int64() ? static_cast<int>(port->as_int64()) : 0;
  url.target = str(h, "path");
  if (url.target.empty() || url.target[0] != '/') url.target = "/" + url.target;

  // Upstream's newProbeRequest: the handler's headers, then its defaults where unset.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string hostHeader;
  bool userAgent = false, accept = false;
  if (const auto* list = arr(h, "httpHeaders"))
    for (const auto& v : *list) {
      if (!v.is_object()) continue;
      std::string name = str(v.as_object(), "name"), value = str(v.as_object(), "value");
      std::string key = lower(name);
      if (key == "host") {
        if (hostHeader.empty()) hostHeader = value;
        continue;
      }
      userAgent |= key == "user-agent";
      if (key == "accept") {
        accept = true;
        if (value.empty()) continue;  // an empty Accept removes the default
      }
      headers.emplace_back(name, value);
    }
  if (!userAgent)
    headers.emplace_back("User-Agent", "kube-" + o.purpose + "/" + kKubeletMajorMinor);
  if (!accept) headers.emplace_back("Accept", "*/*");

  HttpGetResult result;
  Deadline deadline(o);
  const std::string firstHost = url.host;
  for (int redirects = 0;; ++redirects) {
    result.url = url.str();
    auto fail = [&](const std::string& why) {
      result.error = "Get \"" + result.url + "\": " + why;
      return result;
    };
    if (url.scheme != "http" && url.scheme != "https")
      return fail("unsupported protocol scheme \"" + url.scheme + "\"");
    Conn conn(deadline);
    if (auto err = conn.open(url, &result.httpResponseToHttps); !err.empty()) return fail(err);
    std::string authority = hostHeader.empty() ? url.hostPort() : hostHeader;
    Response r;
    if (auto err = conn.h2() ? exchangeH2(conn, url, authority, headers, r)
                             : exchangeH1(conn, url, authority, headers, r);
        !err.empty())
      return fail(err);
    result.status = r.status;
    result.body = r.body;
    bool redirect =
        r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 || r.status == 308;
    if (!redirect || r.location.empty()) return result;
    Url next = resolveLocation(url, r.location);
    // RedirectChecker(false): another host ends the chain with its redirect as the response.
    if (next.host != firstHost) {
      result.offHostRedirect = true;
      return result;
    }
    if (redirects + 1 >= kMaxRedirects) {
      result.url = next.str();
      return fail("stopped after 10 redirects");
    }
    // Go keeps a custom Host header only across a relative redirect.
    if (r.location.find("//") != std::string::npos) hostHeader.clear();
    url = next;
  }
}

}  // namespace berth::kubelet
