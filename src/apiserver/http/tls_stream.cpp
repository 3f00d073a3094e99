// TLS on OpenSSL over a non-blocking socket with timeouts (see internal/tls_stream.h).
#include "apiserver/http/internal/tls_stream.h"

#include <openssl/err.h>
#include <sys/mman.h>

#include <algorithm>

namespace berth::apiserver::http::internal {
namespace {

beast::error_code sslError() {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  if (err == 0) return net::error::connection_reset;
  return beast::error_code(static_cast<int>(err), net::error::get_ssl_category());
}

}  // namespace

TlsStream::TlsStream(TimedSocket& socket, SSL_CTX* ctx) : socket_(socket), ssl_(SSL_new(ctx)) {
  if (ssl_ != nullptr) {
    SSL_set_fd(ssl_, socket_.fd());  // BIO_NOCLOSE: the connection owns the fd
    SSL_set_accept_state(ssl_);
  }
}

TlsStream::~TlsStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

namespace {
// Page-aligned, so that releaseGatherBuffer() can drop all of it.
alignas(4096) thread_local char gather[16 * 1024];
}  // namespace

char* TlsStream::gatherBuffer() {
  static_assert(sizeof(gather) == kGatherBytes);
  return gather;
}

void TlsStream::releaseGatherBuffer() { madvise(gather, sizeof(gather), MADV_DONTNEED); }

// Repeats an OpenSSL call until it succeeds, waiting on the socket for what OpenSSL asks for
// (a read may need to write, during renegotiation or a key update, and the other way round).
// Each wait lasts at most the socket's timeout for that direction, or until `deadline`.
template <class Call>
bool TlsStream::drive(Call call, std::optional<Clock::time_point> deadline, beast::error_code& ec) {
  ec = {};
  if (ssl_ == nullptr) {
    ec = net::error::bad_descriptor;
    return false;
  }
  for (;;) {
    ERR_clear_error();
    int r = call();
    if (r == 1) return true;
    int error = SSL_get_error(ssl_, r);
    if (error == SSL_ERROR_ZERO_RETURN) {
      ec = net::error::eof;  // close_notify: an orderly end, like TCP EOF
      return false;
    }
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      ec = sslError();
      return false;
    }
    bool reading = error == SSL_ERROR_WANT_READ;
    int timeoutMs = reading ? socket_.readTimeout() : socket_.writeTimeout();
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        ec = net::error::timed_out;
        return false;
      }
      timeoutMs = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    if (!socket_.wait(reading ? POLLIN | POLLRDHUP : POLLOUT, timeoutMs, ec)) return false;
  }
}

bool TlsStream::handshake(Clock::time_point deadline, beast::error_code& ec) {
  return drive([this] { return SSL_accept(ssl_); }, deadline, ec);
}

bool TlsStream::hasPendingInput() const { return ssl_ != nullptr && SSL_has_pending(ssl_) == 1; }

size_t TlsStream::readInto(void* data, size_t size, beast::error_code& ec) {
  size_t n = 0;
  drive([&] { return SSL_read_ex(ssl_, data, size, &n); }, std::nullopt, ec);
  return n;
}

size_t TlsStream::writeFrom(const void* data, size_t size, beast::error_code& ec) {
  size_t n = 0;
  drive([&] { return SSL_write_ex(ssl_, data, size, &n); }, std::nullopt, ec);
  return n;
}

}  // namespace berth::apiserver::http::internal
