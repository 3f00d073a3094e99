#include "core/ipv4_cidr.h"

#include <arpa/inet.h>

namespace berth::core {

std::string Ipv4Cidr::str() const { return formatIpv4(base) + "/" + std::to_string(prefix); }

Result<uint32_t> parseIpv4(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (s.empty() || inet_pton(AF_INET, s.c_str(), &a) != 1)
    return Status::badRequest("invalid IPv4 address \"" + s + "\"");
  return ntohl(a.s_addr);
}

std::string formatIpv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

Result<Ipv4Cidr> parseIpv4Cidr(std::string_view text) {
  auto slash = text.find('/');
  std::string_view bits = slash == std::string_view::npos ? "" : text.substr(slash + 1);
  bool digits = !bits.empty() && bits.size() <= 2;
  for (char c : bits) digits = digits && c >= '0' && c <= '9';
  auto ip = parseIpv4(text.substr(0, slash));
  if (!digits || !ip.ok() || std::stoi(std::string(bits)) > 32)
    return Status::badRequest("invalid CIDR address: " + std::string(text));
  Ipv4Cidr c{*ip, std::stoi(std::string(bits))};
  uint32_t hostMask = c.prefix == 0 ? ~0u : (c.prefix == 32 ? 0u : (~0u >> c.prefix));
  if ((c.base & hostMask) != 0)
    return Status::badRequest("invalid CIDR address: " + std::string(text) +
                              " (host bits set; did you mean " + formatIpv4(c.base & ~hostMask) +
                              "/" + std::string(bits) + "?)");
  return c;
}

}  // namespace berth::core
