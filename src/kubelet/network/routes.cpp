#include "kubelet/network/routes.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/json_access.h"
#include "sys/process.h"

namespace json = boost::json;

namespace berth::kubelet::network {

namespace {

bool isIpv6(const std::string& addressOrCidr) {
  return addressOrCidr.find(':') != std::string::npos;
}

// The node's InternalIPs, in order (one per family on a dual-stack node).
std::vector<std::string> internalIPs(const json::object& node) {
  std::vector<std::string> out;
  const auto* status = core::objectField(node, "status");
  const auto* addrs = status ? status->if_contains("addresses") : nullptr;
  if (!addrs || !addrs->is_array()) return out;
  for (const auto& a : addrs->as_array())
    if (a.is_object() && core::stringField(a.as_object(), "type") == "InternalIP")
      out.push_back(core::stringField(a.as_object(), "address"));
  return out;
}

// spec.podCIDRs, or spec.podCIDR alone.
std::vector<std::string> podCidrs(const json::object& spec) {
  std::vector<std::string> out;
  if (const auto* list = spec.if_contains("podCIDRs"); list && list->is_array())
    for (const auto& c : list->as_array())
      if (c.is_string() && !c.as_string().empty()) out.emplace_back(c.as_string());
  if (out.empty() && !core::stringField(spec, "podCIDR").empty())
    out.push_back(core::stringField(spec, "podCIDR"));
  return out;
}

core::Result<std::string> runIp(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = sys::runProcess(argv, {.timeout = std::chrono::seconds(10)});
  if (!r.ok()) return r.status();
  if (r->exitCode != 0) return core::Status::internal(sys::describeFailure(argv, *r));
  return r->out;
}

}  // namespace

std::map<std::string, std::string> desiredPodRoutes(const std::vector<json::value>& nodes,
                                                    const std::string& selfName) {
  std::map<std::string, std::string> out;
  std::vector<std::string> selfIPs;
  for (const auto& n : nodes) {
    if (!n.is_object()) continue;
    const auto* meta = core::objectField(n.as_object(), "metadata");
    if (meta && core::stringField(*meta, "name") == selfName) selfIPs = internalIPs(n.as_object());
  }
  for (const auto& n : nodes) {
    if (!n.is_object()) continue;
    const auto& node = n.as_object();
    const auto* meta = core::objectField(node, "metadata");
    const auto* spec = core::objectField(node, "spec");
    if (!meta || !spec || core::stringField(*meta, "name") == selfName) continue;
    auto ips = internalIPs(node);
    // Each podCIDR via the node's InternalIP of its family (a dual-stack node has one of each).
    for (const auto& cidr : podCidrs(*spec)) {
      auto via = std::find_if(ips.begin(), ips.end(),
                              [&](const std::string& ip) { return isIpv6(ip) == isIpv6(cidr); });
      if (via == ips.end() || via->empty()) continue;
      // A next hop equal to our own address (two Node objects of one host) would loop.
      if (*via == "127.0.0.1" || *via == "::1" ||
          std::find(selfIPs.begin(), selfIPs.end(), *via) != selfIPs.end())
        continue;
      out[cidr] = *via;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> routeCommands(
    const std::map<std::string, std::string>& installed,
    const std::map<std::string, std::string>& desired) {
  std::vector<std::vector<std::string>> cmds;
  const std::string proto = std::to_string(kPodRouteProtocol);
  for (const auto& [cidr, via] : installed)
    if (!desired.count(cidr)) cmds.push_back({"route", "del", cidr, "proto", proto});
  for (const auto& [cidr, via] : desired) {
    auto it = installed.find(cidr);
    if (it == installed.end() || it->second != via)
      cmds.push_back({"route", "replace", cidr, "via", via, "proto", proto});
  }
  return cmds;
}

std::map<std::string, std::string> parseIpRoutes(const std::string& text) {
  std::map<std::string, std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& r : v.as_array()) {
    if (!r.is_object()) continue;
    std::string dst = core::stringField(r.as_object(), "dst");
    std::string via = core::stringField(r.as_object(), "gateway");
    if (!dst.empty() && !via.empty()) out[dst] = via;
  }
  return out;
}

PodRoutes::PodRoutes(std::string selfName, IpRunner run)
    : self_(std::move(selfName)), run_(run ? std::move(run) : IpRunner(runIp)) {}

core::Status PodRoutes::sync(const std::vector<json::value>& nodes) {
  std::lock_guard lock(mu_);
  if (!loaded_) {
    auto shown = run_({"-j", "route", "show", "proto", std::to_string(kPodRouteProtocol)});
    if (!shown.ok()) return shown.status();
    installed_ = parseIpRoutes(*shown);
    // IPv6 routes are listed apart (`ip -6`); a node without IPv6 answers with none.
    auto shown6 =
        run_({"-6", "-j", "route", "show", "proto", std::to_string(kPodRouteProtocol)});
    if (shown6.ok()) installed_.merge(parseIpRoutes(*shown6));
    loaded_ = true;
  }
  auto desired = desiredPodRoutes(nodes, self_);
  core::Status firstError;
  for (const auto& cmd : routeCommands(installed_, desired)) {
    auto r = run_(cmd);
    const std::string& cidr = cmd[2];
    // A del that fails found nothing to delete (someone removed it): forget it either way.
    if (cmd[1] == "del") {
      installed_.erase(cidr);
      continue;
    }
    if (!r.ok()) {
      if (firstError.ok()) firstError = r.status();
      continue;
    }
    installed_[cidr] = cmd[4];
  }
  return firstError;
}

std::map<std::string, std::string> PodRoutes::installed() const {
  std::lock_guard lock(mu_);
  return installed_;
}

}  // namespace berth::kubelet::network
