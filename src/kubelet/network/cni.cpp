#include "kubelet/network/cni.h"

#include <sys/stat.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sys/process.h"

namespace json = boost::json;

namespace berth::kubelet::network {

namespace {

constexpr const char* kCniVersion = "1.0.0";
constexpr const char* kNetworkName = "berth";

bool isIpv6(const std::string& addressOrCidr) {
  return addressOrCidr.find(':') != std::string::npos;
}

}  // namespace

std::vector<json::object> pluginChain(const CniOptions& o, const PodAttachment& pod) {
  json::array ranges, routes;
  bool v4 = false, v6 = false;
  for (const auto& cidr : o.podCidrs) {
    ranges.push_back(json::array{json::object{{"subnet", cidr}}});
    (isIpv6(cidr) ? v6 : v4) = true;
  }
  if (v4) routes.push_back(json::object{{"dst", "0.0.0.0/0"}});
  if (v6) routes.push_back(json::object{{"dst", "::/0"}});
  std::vector<json::object> chain;
  chain.push_back({{"type", "bridge"},
                   {"bridge", o.bridge},
                   {"isGateway", true},
                   {"ipMasq", false},
                   {"hairpinMode", true},
                   {"ipam",
                    {{"type", "host-local"},
                     {"ranges", ranges},
                     {"routes", routes},
                     {"dataDir", o.stateDir + "/networks"}}}});
  if (!pod.hostPorts.empty()) {
    json::array mappings;
    for (const auto& p : pod.hostPorts) {
      json::object m{{"hostPort", p.hostPort}, {"containerPort", p.containerPort},
                     {"protocol", p.protocol}};
      if (!p.hostIP.empty()) m["hostIP"] = p.hostIP;
      mappings.push_back(m);
    }
    chain.push_back({{"type", "portmap"},
                     {"capabilities", {{"portMappings", true}}},
                     {"snat", true},
                     {"runtimeConfig", {{"portMappings", mappings}}}});
  }
  return chain;
}

core::Result<json::object> Cni::invoke(const std::string& command, const json::object& conf,
                                       const PodAttachment& pod) const {
  json::object netconf = conf;
  netconf["cniVersion"] = kCniVersion;
  netconf["name"] = kNetworkName;
  std::string type = std::string(conf.at("type").as_string());
  const char* path = std::getenv("PATH");
  std::vector<std::string> env = {
      "CNI_COMMAND=" + command,
      "CNI_CONTAINERID=" + pod.containerId,
      "CNI_NETNS=" + pod.netnsPath,
      "CNI_IFNAME=eth0",
      "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=" + pod.podNamespace +
          ";K8S_POD_NAME=" + pod.podName + ";K8S_POD_INFRA_CONTAINER_ID=" + pod.containerId,
      "CNI_PATH=" + o_.binDir,
      std::string("PATH=") + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin")};
  std::vector<std::string> argv = {o_.binDir + "/" + type};
  auto r = sys::runProcess(
      argv,
      {.stdinData = json::serialize(netconf), .env = env, .timeout = std::chrono::seconds(30)});
  if (!r.ok()) return r.status();
  boost::system::error_code ec;
  auto out = json::parse(r->out, ec);
  if (r->exitCode != 0) {
    // Plugins report errors as {"code":N,"msg":"...","details":"..."} on stdout.
    std::string msg = r->out.empty() ? r->err : r->out;
    if (!ec && out.is_object()) {
      const auto& o = out.as_object();
      if (auto* m = o.if_contains("msg"); m && m->is_string()) msg = m->as_string();
      if (auto* d = o.if_contains("details"); d && d->is_string() && !d->as_string().empty())
        msg += ": " + std::string(d->as_string());
    }
    return core::Status::internal("CNI " + type + " " + command + ": " + msg);
  }
  if (command != "ADD") return json::object{};
  if (ec || !out.is_object())
    return core::Status::internal("CNI " + type + " ADD: unreadable result: " + r->out);
  return out.as_object();
}

std::string Cni::ipv4PodCidr() const {
  std::lock_guard lock(mu_);
  for (const auto& c : o_.podCidrs)
    if (!isIpv6(c)) return c;
  return "";
}

std::string Cni::ipv6PodCidr() const {
  std::lock_guard lock(mu_);
  for (const auto& c : o_.podCidrs)
    if (isIpv6(c)) return c;
  return "";
}

core::Result<std::vector<std::string>> Cni::add(const PodAttachment& pod) const {
  auto o = snapshot();
  if (o.podCidrs.empty()) return core::Status::unavailable("the node has no pod CIDR yet");
  json::value prev;
  for (auto conf : pluginChain(o, pod)) {
    if (!prev.is_null()) conf["prevResult"] = prev;
    auto r = invoke("ADD", conf, pod);
    if (!r.ok()) {
      (void)del(pod);
      return r.status();
    }
    prev = *r;
  }
  // The bridge's result: "ips":[{"address":"10.244.0.5/24","gateway":...}, {"address":
  // "fd00:10:244::5/64",...}]. One address per podCIDR, in the podCIDRs' order.
  std::vector<std::string> found;
  if (prev.is_object()) {
    if (auto* ips = prev.as_object().if_contains("ips"); ips && ips->is_array()) {
      for (const auto& ip : ips->as_array()) {
        if (!ip.is_object()) continue;
        auto* a = ip.as_object().if_contains("address");
        if (a && a->is_string()) found.emplace_back(a->as_string());
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& cidr : o.podCidrs) {
    auto it = std::find_if(found.begin(), found.end(),
                           [&](const std::string& a) { return isIpv6(a) == isIpv6(cidr); });
    if (it == found.end()) {
      (void)del(pod);
      return core::Status::internal(std::string("CNI ADD gave the pod no ") +
                                    (isIpv6(cidr) ? "IPv6" : "IPv4") + " address");
    }
    out.push_back(it->substr(0, it->find('/')));
  }
  return out;
}

core::Status Cni::del(const PodAttachment& pod) const {
  core::Status first;
  auto chain = pluginChain(snapshot(), pod);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto r = invoke("DEL", *it, pod);
    if (!r.ok() && first.ok()) first = r.status();
  }
  return first;
}

bool inHostNetworkNamespace() {
  struct stat self{}, init{};
  if (::stat("/proc/self/ns/net", &self) != 0 || ::stat("/proc/1/ns/net", &init) != 0)
    return false;
  return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

std::string clusterResolvConf(const std::string& podNamespace, const std::string& dnsIp,
                              const std::string& clusterDomain,
                              const std::vector<std::string>& hostSearch) {
  std::vector<std::string> search = {podNamespace + ".svc." + clusterDomain,
                                     "svc." + clusterDomain, clusterDomain};
  for (const auto& d : hostSearch)
    if (std::find(search.begin(), search.end(), d) == search.end()) search.push_back(d);
  std::string line = "search";
  size_t kept = 0;
  for (const auto& d : search) {
    // Upstream's limits (MaxDNSSearchPaths 32, MaxDNSSearchListChars 2048): drop the rest.
    if (kept == 32 || line.size() + 1 + d.size() - 7 > 2048) break;
    line += " " + d;
    ++kept;
  }
  return line + "\nnameserver " + dnsIp + "\noptions ndots:5\n";
}

std::vector<std::string> resolvConfSearch(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> search;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, d;
    if (!(words >> key) || key != "search") continue;
    search.clear();
    while (words >> d) {
      if (d == ".") continue;
      if (d.back() == '.') d.pop_back();
      search.push_back(d);
    }
  }
  return search;
}

std::vector<HostAlias> hostAliasesOf(const json::object& podSpec) {
  std::vector<HostAlias> out;
  const auto* list = podSpec.if_contains("hostAliases");
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& v : list->as_array()) {
    const auto* alias = v.if_object();
    const auto* ip = alias ? alias->if_contains("ip") : nullptr;
    if (ip == nullptr || !ip->is_string() || ip->as_string().empty()) continue;
    HostAlias a{std::string(ip->as_string()), {}};
    if (const auto* names = alias->if_contains("hostnames"); names && names->is_array())
      for (const auto& n : names->as_array())
        if (n.is_string()) a.hostnames.emplace_back(n.as_string());
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

// upstream's hostsEntriesFromHostAliases: one line per alias, its names tab-separated.
std::string hostAliasEntries(const std::vector<HostAlias>& aliases) {
  if (aliases.empty()) return "";
  std::string out = "\n# Entries added by HostAliases.\n";
  for (const auto& a : aliases) {
    out += a.ip + "\t";
    for (size_t i = 0; i < a.hostnames.size(); ++i) out += (i ? "\t" : "") + a.hostnames[i];
    out += "\n";
  }
  return out;
}

}  // namespace

std::string hostNetworkHostsFile(const std::string& nodeHosts,
                                 const std::vector<HostAlias>& aliases) {
  return "# Kubernetes-managed hosts file (host network).\n" + nodeHosts +
         hostAliasEntries(aliases);
}

std::string podHostsFile(const std::vector<std::string>& ips, const std::string& hostname,
                         const std::string& domain, const std::vector<HostAlias>& aliases) {
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  // One line per pod IP (each of status.podIPs), as upstream's managedHostsFileContent.
  for (const auto& ip : ips) {
    if (ip.empty()) continue;
    out += ip + "\t";
    if (!domain.empty()) out += hostname + "." + domain + "\t";
    out += hostname + "\n";
  }
  return out + hostAliasEntries(aliases);
}

}  // namespace berth::kubelet::network
