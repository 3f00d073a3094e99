#include "proxy/node_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <optional>

namespace berth::proxy {

namespace {

struct Address {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
};

std::optional<Address> parseIp(const std::string& s) {
  Address a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::optional<std::pair<Address, int>> parseCidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 == s.size()) return std::nullopt;
  auto ip = parseIp(s.substr(0, slash));
  if (!ip) return std::nullopt;
  int max = ip->family == AF_INET ? 32 : 128, prefix = 0;
  for (char c : s.substr(slash + 1)) {
    if (c < '0' || c > '9' || prefix > 128) return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max) return std::nullopt;
  return std::make_pair(*ip, prefix);
}

}  // namespace

core::Status validateNodePortAddresses(const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const auto& v = values[i];
    std::string field = "nodePortAddresses[" + std::to_string(i) + "]";
    if (v == "primary") {
      if (values.size() != 1)
        return core::Status::badRequest(field +
                                        ": Invalid value: \"primary\": can't use both "
                                        "'primary' and CIDRs");
      continue;
    }
    if (!parseCidr(v))
      return core::Status::badRequest(field + ": Invalid value: \"" + v +
                                      "\": must be a valid CIDR");
  }
  return {};
}

std::vector<std::string> localAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text,
                  sizeof text);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto& a6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&a6)) continue;  // needs a zone; never a NodePort address
      ::inet_ntop(AF_INET6, &a6, text, sizeof text);
    } else {
      continue;
    }
    out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}

bool cidrContains(const std::string& cidr, const std::string& ip) {
  auto c = parseCidr(cidr);
  auto a = parseIp(ip);
  if (!c || !a || c->first.family != a->family) return false;
  int bits = c->second;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((c->first.bytes[i] & mask) != (a->bytes[i] & mask)) return false;
  }
  return true;
}

std::vector<std::string> selectNodePortAddresses(const std::vector<std::string>& values,
                                                 const std::vector<std::string>& local,
                                                 const std::string& nodeIP) {
  std::vector<std::string> out;
  for (const auto& ip : local) {
    bool selected = false;
    for (const auto& v : values)
      selected = selected || (v == "primary" ? ip == nodeIP : cidrContains(v, ip));
    if (selected) out.push_back(ip);
  }
  return out;
}

}  // namespace berth::proxy
