#pragma once
// The upstream kube-controller-manager flags Berth's controllers read, shared by `berth server`
// and `berth controller-manager`: each lands in ControllerManagerOptions::flags by its name.
#include <CLI/CLI.hpp>

#include <map>
#include <string>

#include "controllers/framework/flags.h"
#include "controllers/nodeipam/node_cidr_config.h"
#include "controllers/servicelb/address_pool.h"
#include "core/ip_cidr.h"

namespace berth::cmd {

inline void addControllerFlags(CLI::App* cmd, std::map<std::string, std::string>& flags) {
  CLI::Validator duration(
      [](std::string& v) -> std::string {
        return controllers::parseGoDuration(v) ? "" : "not a duration (e.g. 40s, 1m, 500ms): " + v;
      },
      "DURATION");
  CLI::Validator cidr(
      [](std::string& v) -> std::string {
        auto c = core::parseDualStackCidrs(v, "--cluster-cidr");
        return c.ok() ? "" : c.status().message();
      },
      "CIDR[,CIDR]");
  CLI::Validator pool(
      [](std::string& v) -> std::string {
        auto p = controllers::servicelb::AddressPool::parse(v);
        return p.ok() ? "" : p.status().message();
      },
      "POOL");
  struct Flag {
    const char* name;
    const char* help;
    const CLI::Validator* check;
  };
  const Flag kFlags[] = {
      {"node-monitor-grace-period",
       "How long a node may stop renewing its Lease and status before it is marked unhealthy "
       "(default 40s)",
       &duration},
      {"node-monitor-period", "How often node health is checked (default 5s)", &duration},
      {"node-startup-grace-period",
       "How long a new node may take to post its first status (default 1m)", &duration},
      {"cluster-cidr",
       "CIDR of pod addresses, or an IPv4,IPv6 pair (dual-stack; the first is the primary "
       "family); nodes get podCIDRs from it (default 10.244.0.0/16)",
       &cidr},
      {"node-cidr-mask-size",
       "Prefix length of each node's podCIDR on a single-stack cluster (default 24 for IPv4, 64 "
       "for IPv6)",
       nullptr},
      {"node-cidr-mask-size-ipv4", "Prefix length of each node's IPv4 podCIDR (default 24)",
       nullptr},
      {"node-cidr-mask-size-ipv6", "Prefix length of each node's IPv6 podCIDR (default 64)",
       nullptr},
      {"root-ca-file", "CA bundle published as kube-root-ca.crt (default: the client's CA)",
       nullptr},
      {"cluster-signing-cert-file", "CA certificate that signs approved client CSRs", nullptr},
      {"cluster-signing-key-file", "Private key of cluster-signing-cert-file", nullptr},
      {"local-path-dir",
       "Directory under which the local-path provisioner's volumes live on each node (default: "
       "<data-dir>/storage in berth server)",
       nullptr},
      {"max-endpoints-per-slice", "Endpoints per EndpointSlice at most (default 100)", nullptr},
      {"service-lb-pool",
       "Addresses for LoadBalancer Services: CIDRs, addresses or first-last ranges, comma-separated "
       "(default: none; every LoadBalancer shows the nodes' addresses)",
       &pool},
  };
  for (const Flag& f : kFlags) {
    std::string name = f.name;
    auto* opt = cmd->add_option_function<std::string>(
        "--" + name, [&flags, name](const std::string& v) { flags[name] = v; }, f.help);
    if (f.check) opt->check(*f.check);
    if (name == "node-cidr-mask-size" || name == "node-cidr-mask-size-ipv6")
      opt->check(CLI::Range(1, 128));
    if (name == "node-cidr-mask-size-ipv4") opt->check(CLI::Range(1, 32));
    if (name == "max-endpoints-per-slice") opt->check(CLI::Range(1, 1000));
  }
}

// What one flag cannot check alone: the node mask flags against --cluster-cidr (upstream's
// messages); "" when they fit.
inline std::string checkControllerFlags(const std::map<std::string, std::string>& flags) {
  auto config = controllers::nodeipam::nodeCidrConfig(flags);
  return config.ok() ? "" : config.status().message();
}

}  // namespace berth::cmd
