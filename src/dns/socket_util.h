#pragma once
// Small POSIX socket helpers shared by the DNS server and forwarder: an owned descriptor,
// an IPv4/IPv6 socket address parsed from text, and deadline-bounded TCP I/O of the
// two-octet length framing DNS uses over TCP (RFC 1035 §4.2.2).
//
// Thread-safety: plain values and free functions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

namespace berth::dns {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class SocketAddress {
 public:
  // "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53"; a missing port is `defaultPort`.
  static std::optional<SocketAddress> parse(const std::string& text, int defaultPort);
  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
  int family() const { return storage_.ss_family; }
  const struct sockaddr* addr() const { return reinterpret_cast<const struct sockaddr*>(&storage_); }
  struct sockaddr* mutableAddr() { return reinterpret_cast<struct sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  int port() const;
  std::string host() const;
  std::string text() const;  // host:port, [v6]:port
  bool sameAs(const SocketAddress& o) const { return host() == o.host() && port() == o.port(); }

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// A bound socket: UDP (SOCK_DGRAM) or a listening TCP one. reusePort lets several sockets share
// the address (one per UDP worker); freeBind allows an address not (yet) on any interface, as
// the pod bridge's gateway before the first pod.
std::optional<UniqueFd> bindSocket(const SocketAddress& a, int sockType, bool reusePort,
                                   bool freeBind, std::string* error);

bool connectWithin(int fd, const SocketAddress& to, std::chrono::milliseconds timeout);
bool writeAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);
bool readExact(int fd, char* out, size_t n, std::chrono::steady_clock::time_point deadline);
// One length-prefixed DNS message; nullopt on EOF, error or deadline.
std::optional<std::string> readFramed(int fd, std::chrono::steady_clock::time_point deadline);

}  // namespace berth::dns
