#include "apiserver/service/ipv6_range.h"

#include <arpa/inet.h>

#include <charconv>

#include "apiserver/service/addresses.h"

namespace berth::apiserver::service {

std::optional<Ipv6> parseIpv6(std::string_view s) {
  // Go's ParseIP takes no zone and no brackets; inet_pton neither.
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN || s.find(':') == std::string_view::npos)
    return std::nullopt;
  Ipv6 out{};
  std::string text(s);
  if (::inet_pton(AF_INET6, text.c_str(), out.data()) != 1) return std::nullopt;
  // An IPv4-mapped address (::ffff:a.b.c.d) is IPv4 to Go (To4() != nil).
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(out.begin(), out.begin() + 12, kMapped)) return std::nullopt;
  return out;
}

std::string formatIpv6(const Ipv6& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
  return buf;
}

std::string ipFamilyOf(std::string_view ip) {
  if (parseIpv4(ip)) return "IPv4";
  if (parseIpv6(ip)) return "IPv6";
  // Go also reads an IPv4-mapped IPv6 literal as IPv4.
  if (ip.find(':') != std::string_view::npos && ip.find('.') != std::string_view::npos) {
    Ipv6 b{};
    std::string text(ip);
    if (::inet_pton(AF_INET6, text.c_str(), b.data()) == 1) return "IPv4";
  }
  return "";
}

std::optional<uint64_t> Ipv6Range::offsetOf(std::string_view ip) const {
  auto a = parseIpv6(ip);
  if (!a) return std::nullopt;
  // prefixLength >= 108: the first 13 bytes hold the network part at least.
  int full = prefixLength / 8;
  for (int i = 0; i < full; ++i)
    if ((*a)[i] != base[i]) return std::nullopt;
  if (int rest = prefixLength % 8) {
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    if (((*a)[full] & mask) != (base[full] & mask)) return std::nullopt;
  }
  uint64_t off = 0;
  for (int i = 8; i < 16; ++i) off = (off << 8) | static_cast<uint8_t>((*a)[i] ^ base[i]);
  return off;
}

std::string Ipv6Range::at(uint64_t offset) const {
  Ipv6 ip = base;
  for (int i = 15; i >= 8 && offset; --i, offset >>= 8)
    ip[i] |= static_cast<uint8_t>(offset & 0xff);
  return formatIpv6(ip);
}

std::optional<Ipv6Range> parseIpv6Range(std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parseIpv6(cidr.substr(0, slash));
  auto bits = cidr.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (!ip || ec != std::errc() || p != bits.data() + bits.size() || prefix < 108 || prefix > 126)
    return std::nullopt;
  Ipv6Range r{*ip, prefix};
  // Host bits must be zero.
  for (int bit = prefix; bit < 128; ++bit)
    if ((*ip)[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  return r;
}

}  // namespace berth::apiserver::service
