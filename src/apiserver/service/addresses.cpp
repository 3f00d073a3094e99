#include "apiserver/service/addresses.h"

#include <boost/json.hpp>

#include <charconv>
#include <ctime>
#include <tuple>
#include <map>
#include <set>

#include "core/resources.h"
#include "core/json_access.h"

namespace berth::apiserver::service {
namespace json = boost::json;
namespace {

int64_t nodePortOf(const json::value& port) {
  if (!port.is_object()) return 0;
  const auto* np = port.as_object().if_contains("nodePort");
  return np && np->is_int64() ? np->as_int64() : 0;
}

// spec.healthCheckNodePort when the Service needs one (upstream NeedsHealthCheck: type
// LoadBalancer with externalTrafficPolicy Local), else 0.
int64_t healthCheckNodePortOf(const json::object* spec) {
  if (spec == nullptr || core::stringField(*spec, "type") != "LoadBalancer" ||
      core::stringField(*spec, "externalTrafficPolicy") != "Local")
    return 0;
  const auto* hc = spec->if_contains("healthCheckNodePort");
  return hc && hc->is_int64() ? hc->as_int64() : 0;
}

// Every port of the NodePort range the Service holds: its ports' nodePorts and its health check
// nodePort, which comes from the same range.
std::vector<int64_t> nodePortsOf(const json::object* spec) {
  std::vector<int64_t> out;
  if (spec == nullptr) return out;
  if (const auto* ps = spec->if_contains("ports"); ps && ps->is_array()) {
    for (const auto& p : ps->as_array())
      if (int64_t np = nodePortOf(p); np != 0) out.push_back(np);
  }
  if (int64_t hc = healthCheckNodePortOf(spec); hc != 0) out.push_back(hc);
  return out;
}

const json::object* specOf(const json::object* obj) {
  if (obj == nullptr) return nullptr;
  const auto* s = obj->if_contains("spec");
  return s && s->is_object() ? &s->as_object() : nullptr;
}

Owner ownerOfService(const json::object& svc) {
  Owner o;
  if (const auto* m = svc.if_contains("metadata"); m && m->is_object()) {
    o.namespace_ = core::stringField(m->as_object(), "namespace");
    o.name = core::stringField(m->as_object(), "name");
    o.uid = core::stringField(m->as_object(), "uid");
  }
  return o;
}

// The ClusterIPs a spec holds (spec.clusterIPs, else spec.clusterIP), "None" and "" left out.
std::vector<std::string> clusterIpsOf(const json::object* spec) {
  std::vector<std::string> out;
  if (spec == nullptr) return out;
  if (const auto* a = spec->if_contains("clusterIPs");
      a && a->is_array() && !a->as_array().empty()) {
    for (const auto& v : a->as_array())
      if (v.is_string() && !v.as_string().empty() && v.as_string() != "None")
        out.emplace_back(v.as_string());
    return out;
  }
  std::string ip = core::stringField(*spec, "clusterIP");
  if (!ip.empty() && ip != "None") out.push_back(ip);
  return out;
}

// spec.clusterIPs as field.Invalid prints a []string (apimachinery marshals it as JSON).
std::string clusterIpsValue(const json::object& spec, const std::string& ip) {
  const auto* a = spec.if_contains("clusterIPs");
  if (a && a->is_array() && !a->as_array().empty()) return json::serialize(*a);
  return json::serialize(json::array{json::string(ip)});
}

Status invalidField(const std::string& name, std::string field, const std::string& value,
                    const std::string& detail) {
  return Status::invalid(
      "", "Service", name,
      {core::StatusCause{"FieldValueInvalid", "Invalid value: " + value + ": " + detail,
                         std::move(field)}});
}

bool needsNodePorts(const std::string& type, const json::object& spec) {
  if (type == "NodePort") return true;
  if (type != "LoadBalancer") return false;
  const auto* a = spec.if_contains("allocateLoadBalancerNodePorts");
  return !(a && a->is_bool() && !a->as_bool());
}

std::optional<uint64_t> parseUint(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint32_t> parseIpv4(std::string_view s) {
  uint32_t addr = 0;
  for (int part = 0; part < 4; ++part) {
    auto dot = s.find('.');
    std::string_view octet = part < 3 ? s.substr(0, dot) : s;
    if ((part < 3 && dot == std::string_view::npos) || octet.empty() || octet.size() > 3)
      return std::nullopt;
    if (octet.size() > 1 && octet[0] == '0') return std::nullopt;  // Go rejects leading zeros
    auto v = parseUint(octet);
    if (!v || *v > 255) return std::nullopt;
    addr = (addr << 8) | static_cast<uint32_t>(*v);
    if (part < 3) s.remove_prefix(dot + 1);
  }
  return addr;
}

std::string formatIpv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 255) + "." +
         std::to_string((addr >> 8) & 255) + "." + std::to_string(addr & 255);
}

// ---------------------------------------------------------------- Allocation

Allocation::Allocation(Allocation&& o) noexcept
    : owner_(o.owner_),
      service_(std::move(o.service_)),
      newIps_(std::move(o.newIps_)),
      oldIps_(std::move(o.oldIps_)),
      newIps6_(std::move(o.newIps6_)),
      oldIps6_(std::move(o.oldIps6_)),
      newPorts_(std::move(o.newPorts_)),
      oldPorts_(std::move(o.oldPorts_)),
      done_(o.done_) {
  o.done_ = true;
}

Allocation::~Allocation() {
  if (!done_) owner_->releaseAll(service_, newIps_, newIps6_, newPorts_);
}

void Allocation::commit() {
  if (done_) return;
  done_ = true;
  owner_->releaseAll(service_, oldIps_, oldIps6_, oldPorts_);
}

// ---------------------------------------------------------------- ServiceAddresses

ServiceAddresses::ServiceAddresses(store::Interface& store, Ranges ranges)
    : store_(store),
      ranges_(ranges),
      ports_(store, ReservationPool::Spec{"/registry/ranges/servicenodeports/", "v1",
                                          "ServiceNodePortReservation",
                                          static_cast<uint64_t>(ranges.portMin),
                                          static_cast<uint64_t>(ranges.portMax),
                                          static_cast<uint64_t>(ranges.portMin),
                                          [](uint64_t p) { return std::to_string(p); },
                                          [](std::string_view s) { return parseUint(s); }}) {
  if (ranges.hasIpv4) {
    uint64_t size = uint64_t{1} << (32 - ranges.ipPrefixLength);
    ips_.emplace(store,
                 ReservationPool::Spec{
                     "/registry/ipaddresses/", "networking.k8s.io/v1", "IPAddress",
                     // The network and broadcast addresses are never handed out.
                     1, size - 2,
                     // Upstream's static subrange: min(max(16, size/16), 256) low addresses are
                     // left for clients that ask for a specific IP.
                     std::min<uint64_t>(std::max<uint64_t>(16, size / 16), 256),
                     [base = ranges.ipBase](uint64_t off) {
                       return formatIpv4(base + static_cast<uint32_t>(off));
                     },
                     [base = ranges.ipBase](std::string_view s) -> std::optional<uint64_t> {
                       auto a = parseIpv4(s);
                       if (!a || *a < base) return std::nullopt;
                       return *a - base;
                     }});
  }
  if (ranges.ipv6) {
    uint64_t size = ranges.ipv6->size();
    // IPv6 has no broadcast address; the subnet's own address is never handed out.
    ips6_.emplace(store, ReservationPool::Spec{
                             "/registry/ipaddresses/", "networking.k8s.io/v1", "IPAddress", 1,
                             size - 1, std::min<uint64_t>(std::max<uint64_t>(16, size / 16), 256),
                             [r = *ranges.ipv6](uint64_t off) { return r.at(off); },
                             [r = *ranges.ipv6](std::string_view s) { return r.offsetOf(s); }});
  }
}

std::string ServiceAddresses::cidr() const {
  if (!ranges_.hasIpv4) return "";
  return formatIpv4(ranges_.ipBase) + "/" + std::to_string(ranges_.ipPrefixLength);
}

std::string ServiceAddresses::portRange() const {
  return std::to_string(ranges_.portMin) + "-" + std::to_string(ranges_.portMax);
}

Result<Allocation> ServiceAddresses::allocate(json::object& svc, const json::object* old,
                                              bool dryRun) {
  Allocation a(this, ownerOfService(svc));
  auto& specV = svc["spec"];
  if (!specV.is_object()) specV = json::object();
  auto& spec = specV.as_object();
  const json::object* oldSpec = specOf(old);
  std::string type = core::stringField(spec, "type");
  if (type.empty()) type = "ClusterIP";
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
  } else if (auto st = allocateIps(spec, oldSpec, dryRun, a.service_.name, a); !st.ok()) {
    return st;
  }
  if (auto st = allocatePorts(spec, oldSpec, dryRun, a.service_.name, a); !st.ok()) return st;
  if (auto st = allocateHealthCheckPort(spec, oldSpec, dryRun, a); !st.ok()) return st;
  if (dryRun) {
    a.done_ = true;  // nothing reserved, nothing to give up
    return a;
  }
  // What the update gives up, freed on commit.
  if (oldSpec != nullptr) {
    auto nowIps = clusterIpsOf(&spec);
    for (const auto& ip : clusterIpsOf(oldSpec)) {
      if (std::find(nowIps.begin(), nowIps.end(), ip) != nowIps.end()) continue;
      if (auto item = itemOf(ip)) (item->first ? a.oldIps6_ : a.oldIps_).push_back(item->second);
    }
    std::vector<int64_t> now = nodePortsOf(&spec);
    for (int64_t p : nodePortsOf(oldSpec)) {
      if (std::find(now.begin(), now.end(), p) == now.end()) a.oldPorts_.push_back(p);
    }
  }
  return a;
}

std::optional<std::pair<bool, uint64_t>> ServiceAddresses::itemOf(const std::string& ip) const {
  if (auto addr = parseIpv4(ip);
      ips_ && addr && *addr >= ranges_.ipBase && ips_->inRange(*addr - ranges_.ipBase))
    return std::make_pair(false, uint64_t{*addr - ranges_.ipBase});
  if (ranges_.ipv6)
    if (auto off = ranges_.ipv6->offsetOf(ip); off && ips6_->inRange(*off))
      return std::make_pair(true, *off);
  return std::nullopt;
}

Status ServiceAddresses::allocateIps(json::object& spec, const json::object* oldSpec, bool dryRun,
                                     const std::string& name, Allocation& a) {
  if (auto st = initIpFamilies(spec, oldSpec, name); !st.ok()) return st;
  if (core::stringField(spec, "clusterIP") == "None") {
    spec["clusterIPs"] = json::array{"None"};
    return {};
  }
  std::vector<std::string> requested = clusterIpsOf(&spec), old = clusterIpsOf(oldSpec);
  json::array ips;
  const auto& families = spec.at("ipFamilies").as_array();
  for (size_t i = 0; i < families.size(); ++i) {
    std::string ip = i < requested.size() ? requested[i] : "";
    std::string family = families[i].is_string() ? std::string(families[i].get_string()) : "";
    if (auto st = allocateIp(family, ip, i < old.size() ? old[i] : "", spec, dryRun, name, a);
        !st.ok())
      return st;
    ips.push_back(json::string(ip));
  }
  spec["clusterIP"] = ips.empty() ? json::string() : ips[0].as_string();
  spec["clusterIPs"] = std::move(ips);
  return {};
}

Status ServiceAddresses::allocateIp(const std::string& family, std::string& ip,
                                    const std::string& oldIp, const json::object& spec, bool dryRun,
                                    const std::string& name, Allocation& a) {
  bool v6 = family == "IPv6";
  ReservationPool& pool = v6 ? *ips6_ : *ips_;  // initIpFamilies refused a family without range
  auto& reserved = v6 ? a.newIps6_ : a.newIps_;
  std::string range = v6 ? ranges_.ipv6->str() : cidr();
  if (ip.empty()) {
    auto off = dryRun ? pool.peekAny() : pool.reserveAny(a.service_);
    if (!off.ok())
      return Status::internal("failed to allocate a serviceIP: " + off.status().message());
    if (!dryRun) reserved.push_back(*off);
    ip = v6 ? ranges_.ipv6->at(*off) : formatIpv4(ranges_.ipBase + static_cast<uint32_t>(*off));
    return {};
  }
  if (ip == oldIp) return {};
  if (ipFamilyOf(ip).empty())  // validation lets only IPs through
    return invalidField(name, "spec.clusterIPs", clusterIpsValue(spec, ip), "failed to parse IP");
  auto item = itemOf(ip);
  if (!item || item->first != v6) {
    return invalidField(name, "spec.clusterIPs", clusterIpsValue(spec, ip),
                        "failed to allocate IP " + ip + ": the provided IP (" + ip +
                            ") is not in the valid range. The range of valid IPs is " + range);
  }
  uint64_t off = item->second;
  Status st;
  if (dryRun) {
    auto free = pool.isFree(off, a.service_);
    st = !free.ok() ? free.status() : *free ? Status() : Status::alreadyExists("", ip);
  } else {
    st = pool.reserve(off, a.service_);
    if (st.ok()) reserved.push_back(off);
  }
  if (st.isAlreadyExists()) {
    return invalidField(name, "spec.clusterIPs", clusterIpsValue(spec, ip),
                        "failed to allocate IP " + ip + ": provided IP is already allocated");
  }
  return st;
}

Status ServiceAddresses::allocatePorts(json::object& spec, const json::object* oldSpec, bool dryRun,
                                       const std::string& name, Allocation& a) {
  auto* ps = spec.if_contains("ports");
  if (ps == nullptr || !ps->is_array()) return {};
  std::string type = core::stringField(spec, "type");
  bool allocateMissing = needsNodePorts(type, spec);
  if (!allocateMissing && type != "LoadBalancer") return {};  // validation forbids nodePorts here
  std::vector<int64_t> held = nodePortsOf(oldSpec);
  std::set<int64_t> seen;  // one nodePort may serve a port's TCP and UDP entries
  auto& ports = ps->as_array();
  for (size_t i = 0; i < ports.size(); ++i) {
    if (!ports[i].is_object()) continue;
    int64_t np = nodePortOf(ports[i]);
    std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
    if (np == 0) {
      if (!allocateMissing) continue;
      auto port = dryRun ? ports_.peekAny() : ports_.reserveAny(a.service_);
      if (!port.ok())
        return Status::internal("failed to allocate a nodePort: " + port.status().message());
      if (!dryRun) a.newPorts_.push_back(static_cast<int64_t>(*port));
      ports[i].as_object()["nodePort"] = static_cast<int64_t>(*port);
      seen.insert(static_cast<int64_t>(*port));
      continue;
    }
    if (!seen.insert(np).second) continue;
    if (std::find(held.begin(), held.end(), np) != held.end()) continue;
    if (np < 0 || !ports_.inRange(static_cast<uint64_t>(np))) {
      return invalidField(
          name, field, std::to_string(np),
          "provided port is not in the valid range. The range of valid ports is " + portRange());
    }
    Status st;
    if (dryRun) {
      auto free = ports_.isFree(static_cast<uint64_t>(np), a.service_);
      st = !free.ok() ? free.status() : *free ? Status() : Status::alreadyExists("", field);
    } else {
      st = ports_.reserve(static_cast<uint64_t>(np), a.service_);
      if (st.ok()) a.newPorts_.push_back(np);
    }
    if (st.isAlreadyExists())
      return invalidField(name, field, std::to_string(np), "provided port is already allocated");
    if (!st.ok()) return st;
  }
  return {};
}

Status ServiceAddresses::allocateHealthCheckPort(json::object& spec, const json::object* oldSpec,
                                                 bool dryRun, Allocation& a) {
  if (core::stringField(spec, "type") != "LoadBalancer" ||
      core::stringField(spec, "externalTrafficPolicy") != "Local")
    return {};  // a port the old spec held is freed with the other given-up ports
  int64_t requested = healthCheckNodePortOf(&spec);
  if (requested != 0 && requested == healthCheckNodePortOf(oldSpec)) return {};  // kept
  // Upstream wraps these in an InternalError (updateHealthCheckNodePort), not a field error.
  if (requested == 0) {
    auto port = dryRun ? ports_.peekAny() : ports_.reserveAny(a.service_);
    if (!port.ok())
      return Status::internal(
          "Internal error occurred: failed to allocate a HealthCheck NodePort 0: " +
          port.status().message());
    if (!dryRun) a.newPorts_.push_back(static_cast<int64_t>(*port));
    spec["healthCheckNodePort"] = static_cast<int64_t>(*port);
    return {};
  }
  std::string prefix =
      "Internal error occurred: failed to allocate requested HealthCheck NodePort " +
      std::to_string(requested) + ": ";
  if (requested < 0 || !ports_.inRange(static_cast<uint64_t>(requested)))
    return Status::internal(
        prefix + "provided port is not in the valid range. The range of valid ports is " +
        portRange());
  // The pool lets an owner reserve what it holds already; one of this Service's own nodePorts
  // is taken all the same.
  std::vector<int64_t> own = nodePortsOf(&spec);
  bool taken = std::count(own.begin(), own.end(), requested) > 1;
  Status st;
  if (!taken && dryRun) {
    auto free = ports_.isFree(static_cast<uint64_t>(requested), a.service_);
    st = !free.ok() ? free.status() : *free ? Status() : Status::alreadyExists("", "");
  } else if (!taken) {
    st = ports_.reserve(static_cast<uint64_t>(requested), a.service_);
    if (st.ok()) a.newPorts_.push_back(requested);
  }
  if (taken || st.isAlreadyExists())
    return Status::internal(prefix + "provided port is already allocated");
  return st;
}

void ServiceAddresses::releaseAll(const Owner& owner, const std::vector<uint64_t>& ips,
                                  const std::vector<uint64_t>& ips6,
                                  const std::vector<int64_t>& ports) {
  // A release that fails (store down) leaves a leak that repair() reclaims at the next start.
  for (uint64_t off : ips) (void)ips_->release(off, owner);  // itemOf found it: ips_ is there
  for (uint64_t off : ips6) (void)ips6_->release(off, owner);
  for (int64_t p : ports) (void)ports_.release(static_cast<uint64_t>(p), owner);
}

void ServiceAddresses::release(const json::object& svc) {
  const json::object* spec = specOf(&svc);
  if (spec == nullptr) return;
  std::vector<uint64_t> ips, ips6;
  for (const auto& ip : clusterIpsOf(spec))
    if (auto item = itemOf(ip)) (item->first ? ips6 : ips).push_back(item->second);
  releaseAll(ownerOfService(svc), ips, ips6, nodePortsOf(spec));
}

Status ServiceAddresses::repair(std::chrono::seconds leakGrace) {
  // Reservations are listed before the Services: a reservation made after this list is not
  // looked at, and one whose Service is written by the time the Services are listed is seen
  // as held. What is left unheld may still be a create in flight (reserved, not yet written),
  // so it counts as a leak only once older than `leakGrace`, and is deleted only if it is still
  // the reservation that was listed (compare-and-delete on its revision).
  using Held = std::map<uint64_t, ReservationPool::Held>;
  auto heldIn = [](std::optional<ReservationPool>& pool) -> Result<Held> {
    return pool ? pool->list() : Result<Held>(Held{});
  };
  auto haveIps = heldIn(ips_);
  if (!haveIps.ok()) return haveIps.status();
  auto havePorts = ports_.list();
  if (!havePorts.ok()) return havePorts.status();
  auto haveIps6 = heldIn(ips6_);
  if (!haveIps6.ok()) return haveIps6.status();
  const auto* svcType = core::findResource("", "v1", "services");
  store::ListOptions opts;
  opts.prefix = svcType->storagePrefix;
  auto listed = store_.list(opts);
  if (!listed.ok()) return listed.status();
  std::map<uint64_t, Owner> wantIps, wantIps6, wantPorts;
  for (const auto& kv : listed->items) {
    boost::system::error_code ec;
    json::value v = json::parse(kv.value, ec);
    if (ec || !v.is_object()) continue;
    Owner owner = ownerOfService(v.as_object());
    const json::object* spec = specOf(&v.as_object());
    if (spec == nullptr) continue;
    for (const auto& ip : clusterIpsOf(spec))
      if (auto item = itemOf(ip)) (item->first ? wantIps6 : wantIps).emplace(item->second, owner);
    for (int64_t p : nodePortsOf(spec)) {
      if (p > 0 && ports_.inRange(static_cast<uint64_t>(p))) wantPorts.emplace(p, owner);
    }
  }
  const int64_t leakedBefore =
      static_cast<int64_t>(std::time(nullptr)) - static_cast<int64_t>(leakGrace.count());
  std::vector<std::tuple<ReservationPool*, std::map<uint64_t, Owner>*,
                         Held*>>
      pools = {{&ports_, &wantPorts, &*havePorts}};
  if (ips_) pools.emplace_back(&*ips_, &wantIps, &*haveIps);
  if (ips6_) pools.emplace_back(&*ips6_, &wantIps6, &*haveIps6);
  for (auto [pool, want, have] : pools) {
    for (const auto& [item, held] : *have) {
      auto it = want->find(item);
      if (it != want->end() && it->second == held.owner) continue;
      if (leakGrace.count() > 0 && held.createdAt > leakedBefore) continue;  // maybe in flight
      if (auto st = pool->forget(item, held.modRevision); !st.ok()) return st;
    }
    for (const auto& [item, owner] : *want) {
      auto it = have->find(item);
      if (it != have->end() && it->second.owner == owner) continue;
      // AlreadyExists: another Service took it after its holder's Service was listed and
      // deleted; the stored Services decide at the next run.
      if (auto st = pool->reserve(item, owner); !st.ok() && !st.isAlreadyExists()) return st;
    }
  }
  return {};
}

namespace {

Status badIpv6Range(std::string_view cidr) {
  return Status::badRequest(
      "--service-cluster-ip-range: " + std::string(cidr) +
      " is not an IPv6 CIDR from /108 to /126 without host bits (a dual-stack range is one "
      "IPv4 and one IPv6 CIDR, either first, e.g. 10.96.0.0/12,fd00:10:96::/112)");
}

// The IPv4 range of --service-cluster-ip-range into `r` ("" = none, IPv6-only).
Status parseIpv4Range(std::string_view clusterIpRange, Ranges& r) {
  if (clusterIpRange.empty() && !r.hasIpv4) return {};
  auto slash = clusterIpRange.find('/');
  auto base = parseIpv4(clusterIpRange.substr(0, slash));
  auto prefix = slash == std::string_view::npos ? std::nullopt
                                                : parseUint(clusterIpRange.substr(slash + 1));
  // Upstream refuses ranges wider than /12 (20 host bits) for IPv4; /30 leaves two addresses.
  if (!base || !prefix || *prefix < 12 || *prefix > 30 ||
      (*base & ((uint32_t{1} << (32 - *prefix)) - 1)) != 0) {
    return Status::badRequest("--service-cluster-ip-range: " + std::string(clusterIpRange) +
                              " is not an IPv4 CIDR from /12 to /30 without host bits");
  }
  r.ipBase = *base;
  r.ipPrefixLength = static_cast<int>(*prefix);
  return {};
}

Status parsePortRange(std::string_view nodePortRange, Ranges& r) {
  auto dash = nodePortRange.find('-');
  auto lo = parseUint(nodePortRange.substr(0, dash));
  auto hi = dash == std::string_view::npos ? std::nullopt : parseUint(nodePortRange.substr(dash + 1));
  if (!lo || !hi || *lo < 1 || *hi > 65535 || *lo > *hi) {
    return Status::badRequest("--service-node-port-range: " + std::string(nodePortRange) +
                              " is not a port range like 30000-32767");
  }
  r.portMin = static_cast<int64_t>(*lo);
  r.portMax = static_cast<int64_t>(*hi);
  return {};
}

}  // namespace

Result<Ranges> parseRanges(std::string_view clusterIpRanges, std::string_view nodePortRange) {
  Ranges r;
  // One CIDR (IPv4, or IPv6 for an IPv6-only cluster), or a dual-stack pair of one CIDR per
  // family in either order: the first is
  // the primary range (upstream's --service-cluster-ip-range), whose family Services get when
  // they name none and whose first address the `kubernetes` Service holds.
  std::string_view first = clusterIpRanges.substr(0, clusterIpRanges.find(','));
  std::string_view clusterIpRange = first;
  if (first.size() < clusterIpRanges.size()) {
    std::string_view second = clusterIpRanges.substr(first.size() + 1);
    if (second.find(',') != std::string_view::npos) return badIpv6Range(second);
    r.ipv6Primary = first.find(':') != std::string_view::npos;
    std::string_view v6 = r.ipv6Primary ? first : second;
    clusterIpRange = r.ipv6Primary ? second : first;
    r.ipv6 = parseIpv6Range(v6);
    if (!r.ipv6) return badIpv6Range(v6);
  } else if (first.find(':') != std::string_view::npos) {
    // An IPv6-only cluster: every Service is IPv6, as upstream's single-stack IPv6 clusters.
    r.ipv6Primary = true;
    r.hasIpv4 = false;
    r.ipv6 = parseIpv6Range(first);
    if (!r.ipv6) return badIpv6Range(first);
    clusterIpRange = "";
  }
  if (auto st = parseIpv4Range(clusterIpRange, r); !st.ok()) return st;
  if (auto st = parsePortRange(nodePortRange, r); !st.ok()) return st;
  return r;
}

std::string Ranges::firstIp() const {
  return ipv6Primary ? ipv6->at(1) : formatIpv4(ipBase + 1);
}

}  // namespace berth::apiserver::service
