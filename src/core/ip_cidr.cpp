#include "core/ip_cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace berth::core {

namespace {

Uint128 hostMask(int prefix, int bits) {
  if (prefix >= bits) return 0;
  Uint128 all = bits == 128 ? ~Uint128{0} : ((Uint128{1} << bits) - 1);
  return all >> prefix;
}

Status invalid(std::string_view text, const std::string& why = "") {
  return Status::badRequest("invalid CIDR address: " + std::string(text) + why);
}

}  // namespace

bool IpCidr::contains(Uint128 ip) const { return (ip & ~hostMask(prefix, bits())) == base; }

std::string IpCidr::str() const { return formatIp(base, ipv6) + "/" + std::to_string(prefix); }

std::string formatIp(Uint128 ip, bool ipv6) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!ipv6) {
    in_addr a{htonl(static_cast<uint32_t>(ip))};
    ::inet_ntop(AF_INET, &a, buf, sizeof buf);
    return buf;
  }
  unsigned char bytes[16];
  for (int i = 15; i >= 0; --i, ip >>= 8) bytes[i] = static_cast<unsigned char>(ip & 0xff);
  ::inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  return buf;
}

Result<IpCidr> parseIpCidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return invalid(text);
  std::string ip(text.substr(0, slash));
  std::string_view bits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (bits.empty() || bits.size() > 3 || ec != std::errc() || end != bits.data() + bits.size())
    return invalid(text);
  IpCidr c;
  c.prefix = prefix;
  unsigned char bytes[16] = {};
  if (::inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    for (int i = 0; i < 4; ++i) c.base = (c.base << 8) | bytes[i];
  } else if (::inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, bytes)) return invalid(text);
    c.ipv6 = true;
    for (unsigned char b : bytes) c.base = (c.base << 8) | b;
  } else {
    return invalid(text);
  }
  if (prefix > c.bits()) return invalid(text);
  if (c.base & hostMask(prefix, c.bits())) {
    IpCidr meant = c;
    meant.base &= ~hostMask(prefix, c.bits());
    return invalid(text, " (host bits set; did you mean " + meant.str() + "?)");
  }
  return c;
}

Result<std::vector<IpCidr>> parseDualStackCidrs(std::string_view list, const std::string& flag) {
  std::vector<IpCidr> out;
  size_t start = 0;
  while (true) {
    size_t comma = list.find(',', start);
    auto one = parseIpCidr(list.substr(start, comma == std::string_view::npos ? list.npos
                                                                             : comma - start));
    if (!one.ok()) return Status::badRequest(flag + ": " + one.status().message());
    out.push_back(*one);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Upstream's validateCIDRs (kube-controller-manager), in its order and words.
  bool v4 = false, v6 = false;
  for (const auto& c : out) (c.ipv6 ? v6 : v4) = true;
  if (out.size() > 1 && !(v4 && v6))
    return Status::badRequest(flag + ": len of ClusterCIDRs==" + std::to_string(out.size()) +
                              " and they are not configured as dual stack (at least one from "
                              "each IPFamily");
  if (out.size() > 2)
    return Status::badRequest(flag + ": length of clusterCIDRs is:" + std::to_string(out.size()) +
                              " more than max allowed of 2");
  return out;
}

}  // namespace berth::core
