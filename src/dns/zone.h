#pragma once
// The cluster zone: DNS records for Services and their EndpointSlices, as CoreDNS's kubernetes
// plugin serves them (Kubernetes DNS specification, "DNS for Services and Pods"):
//   <svc>.<ns>.svc.<domain>            A/AAAA: the ClusterIPs; headless: the ready endpoints
//   <ep>.<svc>.<ns>.svc.<domain>       A/AAAA of an endpoint; <ep> is its hostname, else its
//                                      address with dashes (10-244-0-5)
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV per named port (headless: one per endpoint,
//                                      pointing at <ep>.<svc>...); <svc>... SRV lists all ports
//   <ExternalName svc>.<ns>.svc.<domain>  CNAME to spec.externalName
//   reverse (in-addr.arpa, ip6.arpa)   PTR for ClusterIPs and endpoint addresses
//   <a-b-c-d>.<ns>.pod.<domain>        A from the name itself ("pods insecure", the kubeadm
//                                      default)
// Unknown names under the domain get NXDOMAIN and names without the asked type NOERROR/NODATA,
// both with the zone's SOA in the authority section (RFC 2308) so resolvers cache the negative.
// Reverse names the zone does not know, and names outside it, are not answered here: the
// caller forwards them (CoreDNS's "fallthrough in-addr.arpa ip6.arpa").
//
// ZoneData is immutable once built, so any number of threads read it without locks; the
// ClusterZone swaps in a new one (an atomic shared_ptr) whenever its informers see a change.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/informer.h"
#include "client/rest_client.h"
#include "dns/message.h"

namespace berth::dns {

struct ZoneOptions {
  std::string domain = "cluster.local";
  uint32_t ttl = 5;                 // CoreDNS kubernetes plugin default
  std::string dnsIp = "10.96.0.10";  // ns.dns.<domain>, the SOA's MNAME
};

class ZoneData {
 public:
  // Builds the zone from Service and EndpointSlice objects (as the API returns them).
  static std::shared_ptr<const ZoneData> build(const ZoneOptions& options,
                                               const std::vector<client::ObjectPtr>& services,
                                               const std::vector<client::ObjectPtr>& slices,
                                               uint32_t serial);

  // Answers `q` into `reply` (answers, authority, additional, rcode, AA) when the name is the
  // zone's; false when it is not (forward it). `reply.questions` is left alone.
  bool answer(const Question& q, Message& reply) const;

  size_t nameCount() const { return names_.size(); }
  const ZoneOptions& options() const { return o_; }

 private:
  struct Node {
    std::vector<ResourceRecord> records;  // empty: an empty non-terminal (exists, no data)
  };
  explicit ZoneData(ZoneOptions o) : o_(std::move(o)) {}
  void add(ResourceRecord rr);
  void addName(const std::string& name);
  void addService(const boost::json::object& svc,
                  const std::vector<const boost::json::object*>& slices);
  void addEndpoints(const std::string& base, bool headless,
                    const std::vector<const boost::json::object*>& slices);
  bool answerInDomain(const std::string& qname, const Question& q, Message& reply) const;
  bool answerPod(const std::string& qname, const Question& q, Message& reply) const;
  void addTargets(Message& reply) const;
  ResourceRecord soa() const;

  ZoneOptions o_;
  uint32_t serial_ = 0;
  std::string suffix_;  // "." + domain
  std::unordered_map<std::string, Node> names_;  // lower-case name → records
};

// Keeps a ZoneData current from Service and EndpointSlice informers: every change marks the
// zone dirty and one builder thread rebuilds it from the listers (changes arriving during a
// build are folded into the next one).
//
// Thread-safety: snapshot() from any thread, lock-free for the reader apart from the
// shared_ptr's reference count; start()/stop() from the owner.
class ClusterZone {
 public:
  ClusterZone(client::RestClient& rest, ZoneOptions options);
  ~ClusterZone();

  core::Status start(std::chrono::milliseconds syncTimeout = std::chrono::seconds(30));
  void stop();
  std::shared_ptr<const ZoneData> snapshot() const { return current_.load(); }
  // Builds so far (for tests waiting for a change to show).
  uint64_t generation() const { return generation_.load(); }

 private:
  void rebuild();
  void builderLoop();

  const ZoneOptions o_;
  client::SharedInformer services_, slices_;
  std::atomic<std::shared_ptr<const ZoneData>> current_;
  std::atomic<uint64_t> generation_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false, stopping_ = false;  // guarded by mu_
  std::thread builder_;
};

}  // namespace berth::dns
