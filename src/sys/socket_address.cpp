#include "sys/socket_address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace berth::sys {

bool isIpLiteral(const std::string& host) {
  in6_addr buf;
  return ::inet_pton(AF_INET, host.c_str(), &buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

std::optional<SocketAddress> SocketAddress::fromLiteral(const std::string& host, int port) {
  if (port < 0 || port > 65535) return std::nullopt;
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.length_ = sizeof(sockaddr_in);
    return a;
  }
  a.storage_ = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.length_ = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::parse(const std::string& text, int defaultPort) {
  std::string host = text;
  int port = defaultPort;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = std::atoi(text.c_str() + close + 2);
    }
  } else if (auto colon = text.rfind(':');
             colon != std::string::npos && text.find(':') == colon) {  // one ':' = v4:port
    host = text.substr(0, colon);
    port = std::atoi(text.c_str() + colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  return fromLiteral(host, port);
}

std::optional<SocketAddress> SocketAddress::resolve(const std::string& host, int port) {
  if (auto literal = fromLiteral(host, port)) return literal;
  if (port < 0 || port > 65535) return std::nullopt;
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    return std::nullopt;
  SocketAddress a = fromSockaddr(found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  return a;
}

SocketAddress SocketAddress::fromSockaddr(const struct sockaddr* sa, socklen_t len) {
  SocketAddress a;
  a.length_ = std::min<socklen_t>(len, sizeof a.storage_);
  std::memcpy(&a.storage_, sa, a.length_);
  return a;
}

int SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                sizeof buf);
  else if (family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                sizeof buf);
  return buf;
}

std::string SocketAddress::text() const {
  return family() == AF_INET6 ? "[" + host() + "]:" + std::to_string(port())
                              : host() + ":" + std::to_string(port());
}

}  // namespace berth::sys
