#pragma once
// kube-proxy's --nodeport-addresses: which of the node's addresses NodePorts and health check
// nodePorts answer on. A list of CIDRs (IPv4 and/or IPv6) or the single value "primary" (the
// node's own IP); empty = every address of the node.
//
// Thread-safety: stateless functions.
#include <string>
#include <vector>

#include "core/status.h"

namespace berth::proxy {

// Invalid (the flag's values, upstream's wording) when an entry is neither a CIDR nor a lone
// "primary".
core::Status validateNodePortAddresses(const std::vector<std::string>& values);

// The addresses of this network namespace's interfaces (IPv4 and IPv6, link-local excluded).
std::vector<std::string> localAddresses();

// Of `local`, those `values` select ("primary": `nodeIP` when it is local).
std::vector<std::string> selectNodePortAddresses(const std::vector<std::string>& values,
                                                 const std::vector<std::string>& local,
                                                 const std::string& nodeIP);

// "a.b.c.d" or an IPv6 literal in `cidr` ("10.0.0.0/8", "fd00::/64")? False when either is
// malformed or they are of different families.
bool cidrContains(const std::string& cidr, const std::string& ip);

}  // namespace berth::proxy
