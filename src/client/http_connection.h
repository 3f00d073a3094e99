#pragma once
// A tiny blocking HTTP/1.1 client over TLS (OpenSSL), used by RestClient. One connection serves
// one request at a time; keep-alive reuse is the pool's business (RestClient). OpenSSL types stay
// in the .cpp so including this header costs nothing.
//
// The first TLS context made ignores SIGPIPE process-wide (as Go's runtime does for sockets):
// a server closing a connection must be an error value, not the end of the process.
//
// Thread-safety: a connection belongs to one thread at a time, except `abort()`, which any
// thread may call to make a blocked read or write return (how a watch is cancelled).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::client {

// TLS settings shared by every connection to one server.
struct TlsConfig {
  std::string caPem;  // trusted roots; empty = the system's
  bool insecureSkipVerify = false;
  std::string clientCertPem;  // both set for client-certificate authentication
  std::string clientKeyPem;
};

class TlsContext;  // an SSL_CTX, built once per client

core::Result<std::shared_ptr<TlsContext>> makeTlsContext(const TlsConfig& config);

struct HttpResponseHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keepAlive = true;
  bool chunked = false;
  long long contentLength = -1;  // -1: until close or chunked
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpConnection {
 public:
  ~HttpConnection();
  // Opens TCP (IPv4/IPv6 literal or name) and completes the TLS handshake, verifying the
  // server's certificate against `host` unless the context skips verification. A null `tls`
  // means plain HTTP (registries whose endpoint says http://). `serverName`, when given, is the
  // name sent (SNI) and verified instead of `host` (an admission webhook's Service is dialled
  // at an endpoint address but presents a certificate for <service>.<namespace>.svc).
  static core::Result<std::unique_ptr<HttpConnection>> open(std::shared_ptr<TlsContext> tls,
                                                            const std::string& host, int port,
                                                            std::chrono::milliseconds timeout,
                                                            const std::string& serverName = "");

  // Sends a whole request; the head must include Host and Content-Length if there is a body.
  core::Status send(std::string_view data);
  // Reads the response head. A clean EOF before any byte (a keep-alive connection the server
  // closed) gives Status::unavailable with reason "ConnectionClosed".
  core::Result<HttpResponseHead> readHead();
  // Reads the body as framed by `head`, handing each piece to `sink`; `sink` returning false
  // stops reading (the connection is then unusable).
  core::Status readBody(const HttpResponseHead& head,
                        const std::function<bool(std::string_view)>& sink);
  // Sets the per-read timeout (0 = none). Watches use none and rely on abort() to end.
  void setReadTimeout(std::chrono::milliseconds timeout);
  // Any thread: wakes blocked I/O; the connection is then dead.
  void abort();
  bool reusable() const { return reusable_; }
  // For an idle connection: whether the peer closed it (or sent something unasked), checked
  // without blocking; such a connection must not carry another request.
  bool closedByPeer();

  // For event-driven readers (berth simulate multiplexes thousands of watch streams on one epoll
  // thread): the socket to poll, and a read that never blocks. The first call makes the socket
  // non-blocking and lets OpenSSL free its record buffers while idle; bytes already read past
  // the response head come first. 0 = nothing available now; call until 0 before polling again
  // (OpenSSL may hold decrypted bytes the socket no longer shows).
  int fd() const { return fd_; }
  core::Result<size_t> readNonBlocking(char* buf, size_t n);

 private:
  HttpConnection() = default;
  core::Result<size_t> readSome(char* buf, size_t n);
  core::Result<std::string> readLine();
  core::Status readExact(size_t n, const std::function<bool(std::string_view)>& sink, bool* stop);

  int fd_ = -1;
  void* ssl_ = nullptr;  // SSL*
  std::shared_ptr<TlsContext> tls_;
  std::string buffer_;                // bytes read past what was consumed
  std::atomic<bool> reusable_{true};  // abort() clears it from another thread
  bool nonBlocking_ = false;
};

}  // namespace berth::client
