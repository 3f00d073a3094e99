#include "core/cluster_dns_ip.h"

#include "core/ipv4_cidr.h"

namespace berth::core {

Result<std::string> clusterDnsIp(std::string_view serviceCidr, std::string_view requested) {
  auto range = parseIpv4Cidr(serviceCidr);
  if (!range.ok()) return Status::badRequest("service range: " + range.status().message());
  std::string cidr(serviceCidr);
  if (requested.empty()) {
    // The range's network address is not a ClusterIP, nor (IPv4) its broadcast address.
    if (range->size() < 12)
      return Status::badRequest("the service range " + cidr +
                                " has no 10th address for cluster DNS; give --cluster-dns");
    return formatIpv4(range->base + 10);
  }
  auto ip = parseIpv4(requested);
  if (!ip.ok()) return Status::badRequest("--cluster-dns: " + ip.status().message());
  std::string text(requested);
  if (!range->contains(*ip))
    return Status::badRequest("--cluster-dns " + text + " is not inside the service range " +
                              cidr + " (--service-cluster-ip-range / --service-cidr)");
  uint64_t offset = *ip - range->base;
  if (offset == 0 || offset == range->size() - 1)
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
