// Non-blocking transports for the stream loop: plain TCP and TLS on OpenSSL (see
// internal/stream_loop.h).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include "apiserver/http/internal/stream_loop.h"

namespace berth::apiserver::http::internal {
namespace {

using Io = StreamTransport::Io;

class PlainTransport final : public StreamTransport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  int fd() const override { return fd_; }

  Io write(const char* data, size_t size, size_t* written) override {
    for (;;) {
      ssize_t n = ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        *written = static_cast<size_t>(n);
        return Io::kOk;
      }
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? Io::kWantWrite : Io::kClosed;
    }
  }

  Io read() override {
    char scratch[512];
    for (;;) {
      ssize_t n = ::recv(fd_, scratch, sizeof(scratch), MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::kWantRead;
      return Io::kClosed;  // EOF, an error, or bytes no response in progress can answer
    }
  }

 private:
  const int fd_;
};

class TlsTransport final : public StreamTransport {
 public:
  TlsTransport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {
    // A write may take part of what it is offered, and the outbox may grow (and move) while
    // OpenSSL waits to be offered the rest again.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  int fd() const override { return fd_; }

  Io write(const char* data, size_t size, size_t* written) override {
    ERR_clear_error();
    if (SSL_write_ex(ssl_, data, size, written) == 1) return Io::kOk;
    return failure(0);
  }

  Io read() override {
    char scratch[1024];
    size_t n = 0;
    ERR_clear_error();
    // Handshake messages after the handshake (TLS 1.3 key updates) are consumed here and
    // return WANT_READ; application bytes or close_notify end the stream.
    if (SSL_read_ex(ssl_, scratch, sizeof(scratch), &n) == 1) return Io::kClosed;
    return failure(0);
  }

  // The blocking TlsStream expects whole writes again.
  void release() override {
    SSL_clear_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }

 private:
  Io failure(int r) {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return Io::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Io::kWantWrite;
      default:
        ERR_clear_error();
        return Io::kClosed;
    }
  }

  const int fd_;
  SSL* const ssl_;
};

}  // namespace

std::unique_ptr<StreamTransport> plainTransport(int fd) {
  return std::make_unique<PlainTransport>(fd);
}

std::unique_ptr<StreamTransport> tlsTransport(int fd, SSL* ssl) {
  return std::make_unique<TlsTransport>(fd, ssl);
}

}  // namespace berth::apiserver::http::internal
