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
// ZoneData is immutable once published, so any number of threads read it without locks. Its
// names live in kShards hash shards held by shared_ptr: the ZoneWriter applies a change of one
// Service by copying only the shards the Service's names fall in (and its unchanged records are
// not touched at all), so an update costs about the size of that Service, not of the zone, and
// the next snapshot shares every other shard with the last (docs/decisions.md).
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/informer.h"
#include "client/rest_client.h"
#include "dns/message.h"
#include "dns/service_records.h"

namespace berth::dns {

struct ZoneOptions {
  std::string domain = "cluster.local";
  uint32_t ttl = 5;                  // CoreDNS kubernetes plugin default
  std::string dnsIp = "10.96.0.10";  // ns.dns.<domain>, the SOA's MNAME
};

class ZoneData {
 public:
  static constexpr size_t kShards = 4096;

  // Builds the zone from Service and EndpointSlice objects (as the API returns them) in one go.
  static std::shared_ptr<const ZoneData> build(const ZoneOptions& options,
                                               const std::vector<client::ObjectPtr>& services,
                                               const std::vector<client::ObjectPtr>& slices,
                                               uint32_t serial);

  // Answers `q` into `reply` (answers, authority, additional, rcode, AA) when the name is the
  // zone's; false when it is not (forward it). `reply.questions` is left alone.
  bool answer(const Question& q, Message& reply) const;

  size_t nameCount() const { return nameCount_; }
  const ZoneOptions& options() const { return o_; }
  // Every name with its records, sorted (for tests).
  std::map<std::string, std::vector<ResourceRecord>> dump() const;
  // How many shards this snapshot shares, unchanged, with `other` (for tests and benchmarks).
  size_t sharedShards(const ZoneData& other) const;

 private:
  friend class ZoneWriter;
  struct Node {
    std::vector<ResourceRecord> records;  // every owner's, in owner order; empty: no data
    std::vector<std::pair<std::string, size_t>> owners;  // owner → how many records (in order)
    size_t nonTerminalRefs = 0;  // owners that make the name exist without records of theirs
  };
  // A shard is a vector sorted by (hash, name): one hash per lookup (it also picks the shard),
  // a binary search over contiguous hashes, and a copy is one allocation plus the entries. (A
  // std::unordered_map of std::string scans maps of up to 20 entries linearly in libstdc++, a
  // cache miss per entry, and shards are that small.)
  struct Entry {
    size_t hash;
    std::string name;
    std::shared_ptr<const Node> node;
  };
  using Shard = std::vector<Entry>;

  explicit ZoneData(ZoneOptions o);
  // The position of (hash, name) in `shard`, or where it would go.
  static size_t position(const Shard& shard, size_t hash, const std::string& name);
  const Node* find(const std::string& name) const;
  bool answerInDomain(const std::string& qname, const Question& q, Message& reply) const;
  bool answerPod(const std::string& qname, const Question& q, Message& reply) const;
  void addTargets(Message& reply) const;
  ResourceRecord soa() const;

  ZoneOptions o_;
  uint32_t serial_ = 0;
  std::string suffix_;                                // "." + domain
  std::vector<std::shared_ptr<const Shard>> shards_;  // lower-case name → records
  size_t nameCount_ = 0;
};

// Builds successive ZoneData snapshots from per-owner record sets (an owner is a Service,
// "namespace/name"; the zone's apex records are the owner ""). set() changes the snapshot under
// construction, copying a shard the first time it is touched after a publish; publish() hands it
// out and starts the next one from it.
//
// Thread-safety: one writer thread; the snapshots it publishes are safe anywhere.
class ZoneWriter {
 public:
  explicit ZoneWriter(ZoneOptions options);

  // Replaces the records of `owner` with `records` (empty: the owner leaves the zone).
  void set(const std::string& owner, const ServiceRecords& records);
  // The same from a Service and its slices; a null service removes the owner.
  void setService(const std::string& owner, const boost::json::object* service,
                  const std::vector<const boost::json::object*>& slices);
  std::shared_ptr<const ZoneData> publish(uint32_t serial);
  const ZoneOptions& options() const { return o_; }

 private:
  // The names an owner has in the zone: name → true when only as an empty non-terminal.
  using OwnedNames = std::vector<std::pair<std::string, bool>>;
  ZoneData::Shard& writable(size_t shard);
  void update(const std::string& name, const std::string& owner, const bool* hadNonTerminal,
              const std::vector<ResourceRecord>* records);
  bool unchanged(const std::string& name, const std::string& owner,
                 const std::vector<ResourceRecord>& records) const;

  ZoneOptions o_;
  std::shared_ptr<ZoneData> next_;
  std::vector<bool> copied_;  // shards of next_ that are private copies already
  std::unordered_map<std::string, OwnedNames> owned_;
};

// Keeps a ZoneData current from Service and EndpointSlice informers: every change marks its
// Service ("namespace/name"; a slice's from its kubernetes.io/service-name label) dirty, and one
// builder thread recomputes the records of the dirty Services only and publishes a snapshot
// (changes arriving meanwhile are folded into the next one).
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
  void markDirty(const client::ObjectPtr& obj, bool isSlice);
  void rebuild();
  void builderLoop();

  const ZoneOptions o_;
  client::SharedInformer services_, slices_;
  std::atomic<std::shared_ptr<const ZoneData>> current_;
  std::atomic<uint64_t> generation_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  ZoneWriter writer_;            // the builder's (start() before the thread runs)
  std::thread builder_;
};

}  // namespace berth::dns
