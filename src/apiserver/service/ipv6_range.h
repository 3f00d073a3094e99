#pragma once
// IPv6 addresses and the IPv6 Service range of a dual-stack cluster (the second CIDR of
// --service-cluster-ip-range), as ServiceAddresses hands out ClusterIPs from it.
//
// Thread-safety: value types and stateless functions.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver::service {

using Ipv6 = std::array<uint8_t, 16>;

// An IPv6 literal ("fd00::1"; not IPv4, not IPv4-mapped) → bytes; nullopt when not one.
std::optional<Ipv6> parseIpv6(std::string_view s);
// RFC 5952 text, as Go's net.IP.String() prints it ("fd00:10:96::a").
std::string formatIpv6(const Ipv6& ip);
// "IPv4" / "IPv6" of an address literal; "" when it is neither.
std::string ipFamilyOf(std::string_view ip);

struct Ipv6Range {
  Ipv6 base{};             // host bits zero
  int prefixLength = 112;  // 108..126: at most 20 host bits, as upstream's range allocator

  uint64_t size() const { return uint64_t{1} << (128 - prefixLength); }
  // The offset of `ip` inside the range; nullopt when outside (or not IPv6).
  std::optional<uint64_t> offsetOf(std::string_view ip) const;
  std::string at(uint64_t offset) const;
  std::string str() const { return formatIpv6(base) + "/" + std::to_string(prefixLength); }
};

// "fd00:10:96::/112"; nullopt when malformed, with host bits, or not /108../126.
std::optional<Ipv6Range> parseIpv6Range(std::string_view cidr);

}  // namespace berth::apiserver::service
