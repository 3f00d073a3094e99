#pragma once
// A synchronous Asio stream over a connected TCP socket whose reads and writes give up after a
// timeout. Asio's own blocking operations wait forever, and SO_RCVTIMEO does not help (Asio
// retries with an unbounded poll). The TLS layer sits on top of it (ssl::stream<TimedSocket&>),
// so the timeout also bounds handshakes and idle keep-alive connections, and a poll on the fd
// never misses bytes Asio's TLS engine has already pulled in.
//
// Thread-safety: used by one connection thread; another thread may only ::shutdown() the fd,
// which makes pending and future operations fail at once.
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "apiserver/http/internal/beast.h"

namespace berth::apiserver::http::internal {

class TimedSocket {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  explicit TimedSocket(tcp::socket& socket) : socket_(socket) {}

  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_.lowest_layer(); }
  int fd() { return socket_.native_handle(); }

  // Milliseconds; negative = wait forever.
  void setReadTimeout(int ms) { readTimeoutMs_ = ms; }
  void setWriteTimeout(int ms) { writeTimeoutMs_ = ms; }

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
      ssize_t n = ::recvmsg(fd(), &msg, MSG_DONTWAIT);
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
      ssize_t n = ::sendmsg(fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) return static_cast<size_t>(n);
      if (!waitAfter(errno, POLLOUT, writeTimeoutMs_, ec)) return 0;
    }
  }

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
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
    pollfd p{fd(), events, 0};
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
    return true;  // ready, or hung up / errored: the next call reports which
  }

  tcp::socket& socket_;
  int readTimeoutMs_ = -1;
  int writeTimeoutMs_ = -1;
};

}  // namespace berth::apiserver::http::internal
