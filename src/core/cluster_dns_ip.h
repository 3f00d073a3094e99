#pragma once
// The cluster DNS address: the kube-dns Service's ClusterIP, the pods' resolv.conf nameserver
// and the cluster zone's SOA host. kubeadm (GetDNSIP) and k3s (--cluster-dns) put it at the
// 10th address of the Service range (10.96.0.10 in 10.96.0.0/12); Berth's `berth server` and
// `berth agent` take it the same way, from --cluster-dns or derived from the range.
//
// Thread-safety: a stateless function.
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::core {

inline constexpr std::string_view kDefaultClusterDns = "10.96.0.10";

// `requested` when given, else the 10th address of `serviceCidr` (an IPv4 or IPv6 CIDR: the
// primary Service range, fd00:10:96::a for fd00:10:96::/108, as kubeadm's GetDNSIP takes it).
// BadRequest naming the flags when the range is malformed, when `requested` is not an address
// of the range's family, or when it is not a
// usable ClusterIP of the range (outside it, its network or broadcast address, or its first
// address, the `kubernetes` Service's).
Result<std::string> clusterDnsIp(std::string_view serviceCidr, std::string_view requested);

}  // namespace berth::core
