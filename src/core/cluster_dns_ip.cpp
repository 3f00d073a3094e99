#include "core/cluster_dns_ip.h"

#include <optional>

#include "core/ip_cidr.h"

namespace berth::core {

namespace {

// `text` as an address of the range's family; nullopt when it is not one.
std::optional<Uint128> parseAddressOf(const IpCidr& range, std::string_view text) {
  if (text.find('/') != std::string_view::npos) return std::nullopt;
  auto host = parseIpCidr(std::string(text) + (range.ipv6 ? "/128" : "/32"));
  if (!host.ok() || host->ipv6 != range.ipv6) return std::nullopt;
  return host->base;
}

}  // namespace

Result<std::string> clusterDnsIp(std::string_view serviceCidr, std::string_view requested) {
  auto range = parseIpCidr(serviceCidr);
  if (!range.ok()) return Status::badRequest("service range: " + range.status().message());
  std::string cidr(serviceCidr);
  int hostBits = range->bits() - range->prefix;
  // The number of addresses, capped: only whether the 10th exists and which is the last matter.
  Uint128 size = hostBits >= 127 ? ~Uint128{0} : Uint128{1} << hostBits;
  // IPv4 ranges have a broadcast address; IPv6 ranges do not.
  Uint128 last = range->ipv6 ? ~Uint128{0} : size - 1;
  if (requested.empty()) {
    // The range's network address is not a ClusterIP, nor (IPv4) its broadcast address.
    if (size < 12)
      return Status::badRequest("the service range " + cidr +
                                " has no 10th address for cluster DNS; give --cluster-dns");
    return formatIp(range->base + 10, range->ipv6);
  }
  std::string text(requested);
  auto ip = parseAddressOf(*range, requested);
  if (!ip)
    return Status::badRequest(std::string("--cluster-dns: invalid ") + range->family() +
                              " address \"" + text + "\" (the service range " + cidr + " is " +
                              range->family() + ")");
  if (!range->contains(*ip))
    return Status::badRequest("--cluster-dns " + text + " is not inside the service range " +
                              cidr + " (--service-cluster-ip-range / --service-cidr)");
  Uint128 offset = *ip - range->base;
  if (offset == 0 || offset == last)
    return Status::badRequest("--cluster-dns " + text + " is the " +
                              (offset == 0 ? "network" : "broadcast") +
                              " address of the service range " + cidr +
                              ", not an assignable ClusterIP");
  if (offset == 1)
    return Status::badRequest("--cluster-dns " + text + " is the first address of " + cidr +
                              ", which the `kubernetes` Service holds");
  return text;
}

}  // namespace berth::core
