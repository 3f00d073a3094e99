#include "dns/socket_util.h"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

namespace berth::dns {

namespace {

int msLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

bool waitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    int ms = msLeft(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

std::optional<UniqueFd> bindSocket(const SocketAddress& a, int sockType, bool reusePort,
                                   bool freeBind, std::string* error) {
  UniqueFd fd(::socket(a.family(), sockType | SOCK_CLOEXEC, 0));
  int one = 1;
  if (fd.ok()) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reusePort) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (freeBind) ::setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  }
  if (!fd.ok() || ::bind(fd.get(), a.addr(), a.length()) != 0 ||
      (sockType == SOCK_STREAM && ::listen(fd.get(), 128) != 0)) {
    if (error) *error = "bind " + a.text() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return fd;
}

bool connectWithin(int fd, const SocketAddress& to, std::chrono::milliseconds timeout) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int r = ::connect(fd, to.addr(), to.length());
  if (r != 0 && errno != EINPROGRESS) return false;
  if (r != 0) {
    if (!waitFor(fd, POLLOUT, std::chrono::steady_clock::now() + timeout)) return false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return false;
  }
  return true;  // stays non-blocking: every read and write below polls with a deadline
}

bool writeAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (!waitFor(fd, POLLOUT, deadline)) return false;
  }
  return true;
}

bool readExact(int fd, char* out, size_t n, std::chrono::steady_clock::time_point deadline) {
  while (n > 0) {
    ssize_t r = ::recv(fd, out, n, MSG_DONTWAIT);
    if (r > 0) {
      out += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return false;
    if (errno != EAGAIN && errno != EINTR) return false;
    if (!waitFor(fd, POLLIN, deadline)) return false;
  }
  return true;
}

std::optional<std::string> readFramed(int fd, std::chrono::steady_clock::time_point deadline) {
  unsigned char len[2];
  if (!readExact(fd, reinterpret_cast<char*>(len), 2, deadline)) return std::nullopt;
  std::string msg(static_cast<size_t>(len[0] << 8 | len[1]), '\0');
  if (!readExact(fd, msg.data(), msg.size(), deadline)) return std::nullopt;
  return msg;
}

}  // namespace berth::dns
