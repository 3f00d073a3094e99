#pragma once
// Server-side TLS over a TimedSocket, straight on OpenSSL (SSL_set_fd), as a synchronous Beast
// stream. Asio's ssl::stream keeps two 17 KB buffers per connection and hides how much input it
// has already pulled off the socket; here the only buffers are OpenSSL's own, which it releases
// while a connection is idle (SSL_MODE_RELEASE_BUFFERS), and hasPendingInput() tells exactly
// whether a parked connection can be left to the poller (nothing buffered) or must be served now.
//
// Thread-safety: like TimedSocket, one worker thread at a time.
#include <openssl/ssl.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "apiserver/http/internal/beast.h"
#include "apiserver/http/internal/timed_socket.h"

namespace berth::apiserver::http::internal {

class TlsStream : public ThrowingOverloads<TlsStream> {
 public:
  using Clock = std::chrono::steady_clock;
  using ThrowingOverloads::read_some;
  using ThrowingOverloads::write_some;

  // `ctx` outlives the stream. The socket's timeouts bound each read and write.
  TlsStream(TimedSocket& socket, SSL_CTX* ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  SSL* native_handle() { return ssl_; }
  // Completes the server handshake by `deadline`. False with `ec` set when it fails or expires.
  bool handshake(Clock::time_point deadline, beast::error_code& ec);
  // Decrypted or raw TLS bytes OpenSSL holds that a read would return without the socket.
  bool hasPendingInput() const;
  // Gives the calling thread's gather buffer pages back to the kernel (scratch between writes;
  // a thread parked in a long idle wait need not hold them). See thread_memory.h.
  static void releaseGatherBuffer();

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::mutable_buffer b = *it;
      if (b.size() > 0) return readInto(b.data(), b.size(), ec);
    }
    ec = {};
    return 0;
  }

  // Small buffers (chunk framing around a watch event) are gathered into one TLS record rather
  // than one record each.
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, beast::error_code& ec) {
    char* gather = gatherBuffer();
    size_t gathered = 0;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::const_buffer b = *it;
      if (b.size() == 0) continue;
      if (gathered == 0 && b.size() >= kGatherBytes) return writeFrom(b.data(), b.size(), ec);
      size_t n = std::min(b.size(), kGatherBytes - gathered);
      std::memcpy(gather + gathered, b.data(), n);
      gathered += n;
      if (gathered == kGatherBytes) break;
    }
    ec = {};
    if (gathered == 0) return 0;
    return writeFrom(gather, gathered, ec);
  }

 private:
  static constexpr size_t kGatherBytes = 16 * 1024;  // one full TLS record

  template <class Call>
  bool drive(Call call, std::optional<Clock::time_point> deadline, beast::error_code& ec);
  size_t readInto(void* data, size_t size, beast::error_code& ec);
  // Writes all of it (or fails): OpenSSL requires a retried write to repeat the same buffer.
  size_t writeFrom(const void* data, size_t size, beast::error_code& ec);

  // Per thread, not per connection: an idle connection must stay small.
  static char* gatherBuffer();

  TimedSocket& socket_;
  SSL* ssl_;
};

}  // namespace berth::apiserver::http::internal
