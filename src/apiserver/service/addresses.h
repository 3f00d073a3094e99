#pragma once
// ServiceAddresses: the ClusterIP and NodePort allocation of Services, as upstream's
// pkg/registry/core/service/storage/alloc.go does it around the generic registry's writes.
//
// The registry calls, for a Service create or update (storage form, after validation):
//     auto a = addresses.allocate(svc, old, dryRun);   // fills spec.clusterIP(s)/nodePorts
//     ... write the object ...
//     a->commit();                                      // only after the write succeeded
// An Allocation not committed (failed write, early return) releases what it reserved when it
// goes out of scope; commit() releases what the update gave up (an old ClusterIP or NodePort).
// After a Service is deleted the registry calls release(deleted). repair() rebuilds the
// reservations from the stored Services (start-up: leaks after a crash between reservation and
// write, Services stored before reservations existed).
//
// Reservations live in the store (ReservationPool), one key per ClusterIP
// (/registry/ipaddresses/<ip>, shaped like upstream's IPAddress) and per NodePort
// (/registry/ranges/servicenodeports/<port>), so API servers sharing a store cannot collide.
//
// Thread-safety: every method may be called concurrently; an Allocation belongs to one request.
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/service/ipv6_range.h"
#include "apiserver/service/reservations.h"

namespace berth::apiserver::service {

struct Ranges {
  // The IPv4 range (ipBase/ipPrefixLength) is there unless the cluster is IPv6-only (a lone
  // IPv6 --service-cluster-ip-range, e.g. "fd00:10:96::/108").
  bool hasIpv4 = true;
  uint32_t ipBase = (10u << 24) | (96u << 16);  // 10.96.0.0
  int ipPrefixLength = 12;                      // /12
  int64_t portMin = 30000;
  int64_t portMax = 32767;
  // The IPv6 range of a dual-stack cluster ("10.96.0.0/12,fd00:10:96::/112" or, IPv6 primary,
  // "fd00:10:96::/108,10.96.0.0/12") or of an IPv6-only one.
  std::optional<Ipv6Range> ipv6;
  // The IPv6 range came first (or is the only one): IPv6 is the primary family (Services that
  // name no family get it; the `kubernetes` Service's ClusterIP is its first address), as
  // upstream takes the first CIDR of --service-cluster-ip-range.
  bool ipv6Primary = false;
  bool dualStack() const { return hasIpv4 && ipv6.has_value(); }
  // Whether the cluster has a range of `family` ("IPv4", "IPv6").
  bool hasFamily(std::string_view family) const {
    return family == "IPv4" ? hasIpv4 : family == "IPv6" && ipv6.has_value();
  }
  const char* primaryFamily() const { return ipv6Primary ? "IPv6" : "IPv4"; }
  // The primary range's first address, the `kubernetes` Service's ClusterIP (10.96.0.1).
  std::string firstIp() const;
};

// --service-cluster-ip-range ("10.96.0.0/12", "fd00:10:96::/108" for an IPv6-only cluster, or a
// pair of one range per family, the primary first) and --service-node-port-range
// ("30000-32767"); BadRequest with the flag's name when one is malformed.
Result<Ranges> parseRanges(std::string_view clusterIpRange, std::string_view nodePortRange);

class ServiceAddresses;

class Allocation {
 public:
  Allocation(Allocation&& other) noexcept;
  Allocation& operator=(Allocation&&) = delete;
  Allocation(const Allocation&) = delete;
  ~Allocation();
  // The write succeeded: keep the new reservations, free the replaced ones.
  void commit();

 private:
  friend class ServiceAddresses;
  Allocation(ServiceAddresses* owner, Owner service)
      : owner_(owner), service_(std::move(service)) {}
  ServiceAddresses* owner_;
  Owner service_;
  std::vector<uint64_t> newIps_, oldIps_;    // offsets in the IPv4 range
  std::vector<uint64_t> newIps6_, oldIps6_;  // offsets in the IPv6 range
  std::vector<int64_t> newPorts_, oldPorts_;
  bool done_ = false;
};

class ServiceAddresses {
 public:
  explicit ServiceAddresses(store::Interface& store, Ranges ranges = {});

  // Chooses or checks the Service's ClusterIP and NodePorts and reserves them (dry run: checks
  // only). Errors as upstream: Invalid on spec.clusterIPs ("failed to allocate IP ...: provided
  // IP is already allocated" / "the provided IP (...) is not in the valid range ...") and on
  // spec.ports[i].nodePort ("provided port is already allocated" / "provided port is not in the
  // valid range. The range of valid ports is 30000-32767"); Internal when a range is full.
  Result<Allocation> allocate(boost::json::object& svc, const boost::json::object* old,
                              bool dryRun);
  // Frees the addresses of a deleted Service.
  void release(const boost::json::object& svc);
  // Drops reservations no stored Service holds and recreates missing ones. At start-up (no
  // request in flight) with no grace; the periodic run passes one, so a reservation of a create
  // still between reservation and write is not taken for a leak.
  Status repair(std::chrono::seconds leakGrace = std::chrono::seconds(0));
  const Ranges& ranges() const { return ranges_; }

  // The IPv4 range ("10.96.0.0/12"); "" in an IPv6-only cluster.
  std::string cidr() const;
  std::string portRange() const;

 private:
  friend class Allocation;
  void releaseAll(const Owner& owner, const std::vector<uint64_t>& ips,
                  const std::vector<uint64_t>& ips6, const std::vector<int64_t>& ports);
  // spec.ipFamilyPolicy and spec.ipFamilies against this cluster's ranges (upstream
  // initIPFamilyFields): defaults, the errors for families the cluster lacks, the second family
  // of a dual-stack request, and a downgrade to SingleStack dropping the secondary ClusterIP.
  Status initIpFamilies(boost::json::object& spec, const boost::json::object* oldSpec,
                        const std::string& name);
  // One ClusterIP per family of spec.ipFamilies.
  Status allocateIps(boost::json::object& spec, const boost::json::object* oldSpec, bool dryRun,
                     const std::string& name, Allocation& a);
  // `ip` of `family` ("" = any free one, written back), unless the old spec held it.
  Status allocateIp(const std::string& family, std::string& ip, const std::string& oldIp,
                    const boost::json::object& spec, bool dryRun, const std::string& name,
                    Allocation& a);
  // The pool and offset of a ClusterIP; nullopt when in neither range.
  std::optional<std::pair<bool, uint64_t>> itemOf(const std::string& ip) const;
  Status allocatePorts(boost::json::object& spec, const boost::json::object* oldSpec, bool dryRun,
                       const std::string& name, Allocation& a);
  // spec.healthCheckNodePort of a LoadBalancer Service with externalTrafficPolicy Local: the
  // requested port or any free one of the NodePort range (upstream allocHealthCheckNodePort).
  Status allocateHealthCheckPort(boost::json::object& spec, const boost::json::object* oldSpec,
                                 bool dryRun, Allocation& a);

  store::Interface& store_;
  Ranges ranges_;
  std::optional<ReservationPool> ips_;   // items: offsets in the IPv4 range (none: IPv6-only)
  std::optional<ReservationPool> ips6_;  // items: offsets in the IPv6 range (dual-stack, IPv6)
  ReservationPool ports_;  // items: port numbers
};

// Dotted-quad IPv4 → address; nullopt when not one.
std::optional<uint32_t> parseIpv4(std::string_view s);
std::string formatIpv4(uint32_t addr);

}  // namespace berth::apiserver::service
