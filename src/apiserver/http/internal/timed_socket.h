#pragma once
// A synchronous stream over a connected, non-blocking TCP socket whose reads and writes give up
// after a timeout. Asio's own blocking operations wait forever, and SO_RCVTIMEO does not help
// (Asio retries with an unbounded poll). Beast reads and writes plain HTTP through it directly;
// TlsStream uses its waits, so the timeouts also bound TLS reads and writes.
//
// Thread-safety: used by one worker thread at a time; another thread may only ::shutdown() the
// fd, which makes pending and future operations fail at once.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "apiserver/http/internal/beast.h"

namespace berth::apiserver::http::internal {

// Beast's synchronous stream concepts also want the throwing forms of read_some/write_some;
// a stream derives them from its error-code forms through this base.
template <class Stream>
class ThrowingOverloads {
 public:
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    return orThrow([&](beast::error_code& ec) { return self().read_some(buffers, ec); });
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    return orThrow([&](beast::error_code& ec) { return self().write_some(buffers, ec); });
  }

 private:
  Stream& self() { return static_cast<Stream&>(*this); }
  template <class Op>
  static size_t orThrow(Op op) {
    beast::error_code ec;
    size_t n = op(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
};

class TimedSocket : public ThrowingOverloads<TimedSocket> {
 public:
  using ThrowingOverloads::read_some;
  using ThrowingOverloads::write_some;

  explicit TimedSocket(int fd) : fd_(fd) {}

  int fd() const { return fd_; }

  // Milliseconds; negative = wait forever.
  void setReadTimeout(int ms) { readTimeoutMs_ = ms; }
  void setWriteTimeout(int ms) { writeTimeoutMs_ = ms; }
  int readTimeout() const { return readTimeoutMs_; }
  int writeTimeout() const { return writeTimeoutMs_; }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < kMaxIov; ++it) {
      net::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      iov[count++] = iovec{b.data(), b.size()};
    }
    ec = {};
    if (count == 0) return 0;
    for (;;) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) {
        ec = net::error::eof;
        return 0;
      }
      if (!waitAfter(errno, POLLIN | POLLRDHUP, readTimeoutMs_, ec)) return 0;
    }
  }

  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, beast::error_code& ec) {
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < kMaxIov; ++it) {
      net::const_buffer b = *it;
      if (b.size() == 0) continue;
      iov[count++] = iovec{const_cast<void*>(b.data()), b.size()};
    }
    ec = {};
    if (count == 0) return 0;
    for (;;) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      ssize_t n = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return static_cast<size_t>(n);
      if (!waitAfter(errno, POLLOUT, writeTimeoutMs_, ec)) return 0;
    }
  }

  // Waits for `events` (POLLIN, POLLOUT) up to timeoutMs (negative = forever). False with `ec`
  // set on timeout or a poll error; true when ready, hung up or errored (the next I/O call
  // reports which).
  bool wait(short events, int timeoutMs, beast::error_code& ec) {
    pollfd p{fd_, events, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeoutMs);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      ec = net::error::timed_out;
      return false;
    }
    if (r < 0) {
      ec = beast::error_code(errno, boost::system::system_category());
      return false;
    }
    return true;
  }

 private:
  static constexpr int kMaxIov = 16;

  // After a failed recv/send: waits for readiness when it would block. False (with `ec` set)
  // on a real error or a timeout.
  bool waitAfter(int error, short events, int timeoutMs, beast::error_code& ec) {
    if (error == EINTR) return true;
    if (error != EAGAIN && error != EWOULDBLOCK) {
      ec = beast::error_code(error, boost::system::system_category());
      return false;
    }
    return wait(events, timeoutMs, ec);
  }

  const int fd_;
  int readTimeoutMs_ = -1;
  int writeTimeoutMs_ = -1;
};

}  // namespace berth::apiserver::http::internal
