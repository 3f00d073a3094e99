#pragma once
// Socket addresses and descriptors shared by every component that opens sockets itself (the
// cluster DNS server and forwarder, the kubelet's probe and hook client): an owned descriptor and
// an IPv4/IPv6 address parsed from text or resolved from a name.
//
// Thread-safety: plain values and free functions.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

namespace berth::sys {

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

// True for an IPv4 or IPv6 literal (no brackets, no zone), as Go's net.ParseIP accepts.
bool isIpLiteral(const std::string& host);

class SocketAddress {
 public:
  // "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53"; a missing port is `defaultPort`.
  static std::optional<SocketAddress> parse(const std::string& text, int defaultPort);
  // An IP literal host with a port (no brackets); nullopt for a name.
  static std::optional<SocketAddress> fromLiteral(const std::string& host, int port);
  // A literal, else the first stream address the system resolver gives for the name.
  static std::optional<SocketAddress> resolve(const std::string& host, int port);
  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
  int family() const { return storage_.ss_family; }
  const struct sockaddr* addr() const {
    return reinterpret_cast<const struct sockaddr*>(&storage_);
  }
  struct sockaddr* mutableAddr() {
    return reinterpret_cast<struct sockaddr*>(&storage_);
  }
  socklen_t length() const { return length_; }
  int port() const;
  std::string host() const;
  std::string text() const;  // host:port, [v6]:port
  bool sameAs(const SocketAddress& o) const { return host() == o.host() && port() == o.port(); }

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace berth::sys
