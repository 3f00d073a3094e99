#include "client/http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <cstring>

namespace berth::client {

using core::Status;

class TlsContext {
 public:
  explicit TlsContext(SSL_CTX* ctx, bool verify) : ctx(ctx), verify(verify) {}
  ~TlsContext() { SSL_CTX_free(ctx); }
  SSL_CTX* ctx;
  bool verify;
};

namespace {

std::string sslError(std::string_view what) {
  std::string msg(what);
  unsigned long e = ERR_get_error();
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

// Status for transport failures: 503 ServiceUnavailable, the "retry the same call" class.
Status transportError(std::string message) {
  return Status::generic(503, "ServiceUnavailable", std::move(message));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

core::Result<std::shared_ptr<TlsContext>> makeTlsContext(const TlsConfig& config) {
  // OpenSSL writes to the socket with write(2) (even inside SSL_read, for alerts), so a peer that
  // went away would raise SIGPIPE and kill the process; errors come back as EPIPE instead.
  static const bool sigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipeIgnored;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Status::internal(sslError("SSL_CTX_new"));
  auto holder = std::make_shared<TlsContext>(ctx, !config.insecureSkipVerify);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!config.insecureSkipVerify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (config.caPem.empty()) {
      SSL_CTX_set_default_verify_paths(ctx);
    } else {
      BIO* bio = BIO_new_mem_buf(config.caPem.data(), static_cast<int>(config.caPem.size()));
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      int added = 0;
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        if (X509_STORE_add_cert(store, cert) == 1) ++added;
        X509_free(cert);
      }
      BIO_free(bio);
      ERR_clear_error();  // the loop ends on a "no start line" error
      if (added == 0) return Status::badRequest("certificate-authority-data holds no certificate");
    }
  }
  if (!config.clientCertPem.empty() || !config.clientKeyPem.empty()) {
    BIO* cb =
        BIO_new_mem_buf(config.clientCertPem.data(), static_cast<int>(config.clientCertPem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb =
        BIO_new_mem_buf(config.clientKeyPem.data(), static_cast<int>(config.clientKeyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) return Status::badRequest(sslError("invalid client certificate or key"));
  }
  return holder;
}

HttpConnection::~HttpConnection() {
  if (ssl_) SSL_free(static_cast<SSL*>(ssl_));
  if (fd_ >= 0) ::close(fd_);
}

core::Result<std::unique_ptr<HttpConnection>> HttpConnection::open(
    std::shared_ptr<TlsContext> tls, const std::string& host, int port,
    std::chrono::milliseconds timeout, const std::string& serverName) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string portStr = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), portStr.c_str(), &hints, &res); rc != 0)
    return transportError("resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<HttpConnection> c(new HttpConnection());
  c->tls_ = std::move(tls);
  std::string lastError = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // Connect with a timeout: non-blocking connect, poll, then back to blocking.
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
        errno = err;
        rc = -1;
      } else if (rc != 0) {
        errno = ETIMEDOUT;
      }
    }
    if (rc != 0) {
      lastError = std::strerror(errno);
      ::close(fd);
      continue;
    }
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (c->fd_ < 0) return transportError("connect " + host + ":" + portStr + ": " + lastError);
  c->setReadTimeout(timeout);
  if (!c->tls_) return c;

  SSL* ssl = SSL_new(c->tls_->ctx);
  c->ssl_ = ssl;
  SSL_set_fd(ssl, c->fd_);
  const std::string& name = serverName.empty() ? host : serverName;
  in6_addr ip6;
  in_addr ip4;
  bool isIp =
      inet_pton(AF_INET, name.c_str(), &ip4) == 1 || inet_pton(AF_INET6, name.c_str(), &ip6) == 1;
  if (!isIp) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (c->tls_->verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (isIp) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    }
  }
  if (SSL_connect(ssl) != 1) {
    long verify = SSL_get_verify_result(ssl);
    std::string msg = sslError("TLS handshake with " + host + ":" + portStr);
    if (verify != X509_V_OK) msg += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    return transportError(msg);
  }
  return c;
}

void HttpConnection::setReadTimeout(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool HttpConnection::closedByPeer() {
  if (!buffer_.empty() || (ssl_ && SSL_pending(static_cast<SSL*>(ssl_)) > 0)) return true;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) != 0;  // readable when idle = EOF, an alert or a stray byte
}

void HttpConnection::abort() {
  reusable_ = false;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

Status HttpConnection::send(std::string_view data) {
  auto* ssl = static_cast<SSL*>(ssl_);
  while (!data.empty() && !ssl) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      reusable_ = false;
      return transportError(std::string("write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  while (!data.empty()) {
    int n = SSL_write(ssl, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
    if (n <= 0) {
      reusable_ = false;
      return transportError(sslError("write"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

core::Result<size_t> HttpConnection::readSome(char* buf, size_t n) {
  if (!ssl_) {
    ssize_t got = ::recv(fd_, buf, n, 0);
    if (got > 0) return static_cast<size_t>(got);
    reusable_ = false;
    if (got == 0) return Status::generic(503, "ConnectionClosed", "connection closed by the server");
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return Status::timeout("timed out reading the response");
    return transportError(std::string("read: ") + std::strerror(errno));
  }
  int got = SSL_read(static_cast<SSL*>(ssl_), buf, static_cast<int>(n));
  if (got > 0) return static_cast<size_t>(got);
  reusable_ = false;
  int err = SSL_get_error(static_cast<SSL*>(ssl_), got);
  if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
    ERR_clear_error();
    return Status::generic(503, "ConnectionClosed", "connection closed by the server");
  }
  if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    ERR_clear_error();
    return Status::timeout("timed out reading the response");
  }
  return transportError(sslError("read"));
}

core::Result<std::string> HttpConnection::readLine() {
  for (;;) {
    auto pos = buffer_.find("\r\n");
    if (pos != std::string::npos) {
      std::string line = buffer_.substr(0, pos);
      buffer_.erase(0, pos + 2);
      return line;
    }
    if (buffer_.size() > 64 * 1024) return Status::internal("response line too long");
    char buf[16384];
    auto n = readSome(buf, sizeof buf);
    if (!n.ok()) return n.status();
    buffer_.append(buf, *n);
  }
}

core::Result<HttpResponseHead> HttpConnection::readHead() {
  auto status = readLine();
  if (!status.ok()) return status.status();
  HttpResponseHead head;
  // "HTTP/1.1 200 OK"
  const std::string& s = *status;
  auto sp = s.find(' ');
  if (s.rfind("HTTP/1.", 0) != 0 || sp == std::string::npos)
    return Status::internal("malformed response status line: " + s.substr(0, 80));
  head.status = std::atoi(s.c_str() + sp + 1);
  if (s.rfind("HTTP/1.0", 0) == 0) head.keepAlive = false;
  for (;;) {
    auto line = readLine();
    if (!line.ok()) return line.status();
    if (line->empty()) break;
    auto colon = line->find(':');
    if (colon == std::string::npos) continue;
    head.headers[lower(line->substr(0, colon))] = trim(std::string_view(*line).substr(colon + 1));
  }
  std::string conn = lower(head.header("connection"));
  if (conn == "close") head.keepAlive = false;
  if (conn == "keep-alive") head.keepAlive = true;
  head.chunked = lower(head.header("transfer-encoding")).find("chunked") != std::string::npos;
  if (!head.chunked && head.headers.count("content-length"))
    head.contentLength = std::atoll(head.header("content-length").c_str());
  if (head.status == 204 || head.status == 304) head.contentLength = 0;
  if (!head.chunked && head.contentLength < 0) head.keepAlive = false;  // body ends at close
  return head;
}

core::Result<size_t> HttpConnection::readNonBlocking(char* buf, size_t n) {
  if (!buffer_.empty()) {
    size_t take = std::min(n, buffer_.size());
    std::memcpy(buf, buffer_.data(), take);
    buffer_.erase(0, take);
    return take;
  }
  auto* ssl = static_cast<SSL*>(ssl_);
  if (!nonBlocking_) {
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    nonBlocking_ = true;
  }
  int got = SSL_read(ssl, buf, static_cast<int>(n));
  if (got > 0) return static_cast<size_t>(got);
  int err = SSL_get_error(ssl, got);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return size_t{0};
  }
  reusable_ = false;
  if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
    ERR_clear_error();
    return Status::generic(503, "ConnectionClosed", "connection closed by the server");
  }
  return transportError(sslError("read"));
}

Status HttpConnection::readExact(size_t n, const std::function<bool(std::string_view)>& sink,
                                 bool* stop) {
  while (n > 0) {
    if (buffer_.empty()) {
      char buf[16384];
      auto got = readSome(buf, std::min(n, sizeof buf));
      if (!got.ok()) return got.status();
      buffer_.append(buf, *got);
    }
    size_t take = std::min(n, buffer_.size());
    if (!*stop && !sink(std::string_view(buffer_).substr(0, take))) *stop = true;
    buffer_.erase(0, take);
    n -= take;
    if (*stop) return {};
  }
  return {};
}

Status HttpConnection::readBody(const HttpResponseHead& head,
                                const std::function<bool(std::string_view)>& sink) {
  bool stop = false;
  if (head.chunked) {
    for (;;) {
      auto sizeLine = readLine();
      if (!sizeLine.ok()) return sizeLine.status();
      size_t size = std::strtoull(sizeLine->c_str(), nullptr, 16);
      if (size == 0) {
        // Trailers, then the empty line.
        for (;;) {
          auto t = readLine();
          if (!t.ok()) return t.status();
          if (t->empty()) break;
        }
        break;
      }
      if (auto st = readExact(size, sink, &stop); !st.ok()) return st;
      if (stop) {
        reusable_ = false;
        return {};
      }
      auto crlf = readLine();
      if (!crlf.ok()) return crlf.status();
    }
  } else if (head.contentLength >= 0) {
    if (auto st = readExact(static_cast<size_t>(head.contentLength), sink, &stop); !st.ok())
      return st;
    if (stop) reusable_ = false;
  } else {
    // Until the server closes.
    reusable_ = false;
    if (!buffer_.empty()) {
      if (!sink(buffer_)) return {};
      buffer_.clear();
    }
    char buf[16384];
    for (;;) {
      auto got = readSome(buf, sizeof buf);
      if (!got.ok()) return got.status().reason() == "ConnectionClosed" ? Status() : got.status();
      if (!sink(std::string_view(buf, *got))) return {};
    }
  }
  if (!head.keepAlive) reusable_ = false;
  return {};
}

}  // namespace berth::client
