#include "dns/zone.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <algorithm>
#include <ctime>

#include "core/json_access.h"

namespace json = boost::json;

namespace berth::dns {

namespace {

using core::objectField;
using core::stringField;

bool sameRecords(const ResourceRecord* a, const std::vector<ResourceRecord>& b) {
  for (size_t i = 0; i < b.size(); ++i)
    if (a[i].rtype != b[i].rtype || a[i].ttl != b[i].ttl || !(a[i].data == b[i].data)) return false;
  return true;
}

}  // namespace

ZoneData::ZoneData(ZoneOptions o) : o_(std::move(o)) {
  o_.domain = lowerName(o_.domain);
  suffix_ = "." + o_.domain;
  static const auto kEmpty = std::make_shared<const Shard>();
  shards_.assign(kShards, kEmpty);
}

size_t ZoneData::position(const Shard& shard, size_t hash, const std::string& name) {
  auto it = std::lower_bound(shard.begin(), shard.end(), hash, [&](const Entry& e, size_t h) {
    return e.hash != h ? e.hash < h : e.name < name;
  });
  return static_cast<size_t>(it - shard.begin());
}

const ZoneData::Node* ZoneData::find(const std::string& name) const {
  size_t hash = std::hash<std::string>{}(name);
  const Shard& shard = *shards_[hash % kShards];
  size_t i = position(shard, hash, name);
  return i < shard.size() && shard[i].hash == hash && shard[i].name == name ? shard[i].node.get()
                                                                            : nullptr;
}

std::map<std::string, std::vector<ResourceRecord>> ZoneData::dump() const {
  std::map<std::string, std::vector<ResourceRecord>> out;
  for (const auto& shard : shards_)
    for (const auto& e : *shard) out[e.name] = e.node->records;
  return out;
}

size_t ZoneData::sharedShards(const ZoneData& other) const {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) n += shards_[i] == other.shards_[i];
  return n;
}

std::shared_ptr<const ZoneData> ZoneData::build(const ZoneOptions& options,
                                                const std::vector<client::ObjectPtr>& services,
                                                const std::vector<client::ObjectPtr>& slices,
                                                uint32_t serial) {
  // Slices by "<ns>/<service-name>" from their kubernetes.io/service-name label.
  std::unordered_map<std::string, std::vector<const json::object*>> byService;
  for (const auto& s : slices) {
    if (!s || !s->is_object()) continue;
    const auto* meta = objectField(s->as_object(), "metadata");
    const auto* labels = meta ? objectField(*meta, "labels") : nullptr;
    if (!labels) continue;
    std::string svc = stringField(*labels, "kubernetes.io/service-name");
    if (!svc.empty())
      byService[stringField(*meta, "namespace") + "/" + svc].push_back(&s->as_object());
  }
  static const std::vector<const json::object*> kNone;
  ZoneWriter writer(options);
  for (const auto& s : services) {
    if (!s || !s->is_object()) continue;
    const auto* meta = objectField(s->as_object(), "metadata");
    if (!meta) continue;
    std::string key = stringField(*meta, "namespace") + "/" + stringField(*meta, "name");
    auto it = byService.find(key);
    writer.setService(key, &s->as_object(), it == byService.end() ? kNone : it->second);
  }
  return writer.publish(serial);
}

ZoneWriter::ZoneWriter(ZoneOptions options)
    : next_(new ZoneData(std::move(options))), copied_(ZoneData::kShards, false) {
  o_ = next_->o_;
}

ZoneData::Shard& ZoneWriter::writable(size_t shard) {
  if (!copied_[shard]) {
    next_->shards_[shard] = std::make_shared<ZoneData::Shard>(*next_->shards_[shard]);
    copied_[shard] = true;
  }
  // Private to the writer until publish(): no reader can see it yet.
  return const_cast<ZoneData::Shard&>(*next_->shards_[shard]);
}

bool ZoneWriter::unchanged(const std::string& name, const std::string& owner,
                           const std::vector<ResourceRecord>& records) const {
  const auto* node = next_->find(name);
  if (!node) return false;
  size_t offset = 0;
  for (const auto& [o, count] : node->owners) {
    if (o == owner)
      return count == records.size() && sameRecords(node->records.data() + offset, records);
    offset += count;
  }
  return false;
}

void ZoneWriter::update(const std::string& name, const std::string& owner,
                        const bool* hadNonTerminal, const std::vector<ResourceRecord>* records) {
  size_t hash = std::hash<std::string>{}(name);
  auto& shard = writable(hash % ZoneData::kShards);
  size_t i = ZoneData::position(shard, hash, name);
  bool exists = i < shard.size() && shard[i].hash == hash && shard[i].name == name;
  auto at = shard.begin() + static_cast<std::ptrdiff_t>(i);
  ZoneData::Node node = exists ? *at->node : ZoneData::Node{};
  if (hadNonTerminal && *hadNonTerminal && node.nonTerminalRefs > 0) --node.nonTerminalRefs;
  size_t offset = 0;
  for (auto o = node.owners.begin(); o != node.owners.end(); ++o) {
    if (o->first != owner) {
      offset += o->second;
      continue;
    }
    auto first = node.records.begin() + static_cast<std::ptrdiff_t>(offset);
    node.records.erase(first, first + static_cast<std::ptrdiff_t>(o->second));
    node.owners.erase(o);
    break;
  }
  if (records && records->empty()) ++node.nonTerminalRefs;
  if (records && !records->empty()) {
    node.owners.emplace_back(owner, records->size());
    node.records.insert(node.records.end(), records->begin(), records->end());
  }
  if (node.owners.empty() && node.nonTerminalRefs == 0) {
    if (exists) {
      shard.erase(at);
      --next_->nameCount_;
    }
    return;
  }
  auto stored = std::make_shared<const ZoneData::Node>(std::move(node));
  if (exists) {
    at->node = std::move(stored);
  } else {
    shard.insert(at, ZoneData::Entry{hash, name, std::move(stored)});
    ++next_->nameCount_;
  }
}

void ZoneWriter::set(const std::string& owner, const ServiceRecords& records) {
  // Both lists are sorted by name: walk them together; names whose records are the same as
  // before are not touched (their shards stay shared with the last snapshot).
  OwnedNames before = owned_.count(owner) ? std::move(owned_[owner]) : OwnedNames{};
  OwnedNames after;
  after.reserve(records.size());
  size_t i = 0, j = 0;
  while (i < before.size() || j < records.size()) {
    int cmp = i == before.size()    ? 1
              : j == records.size() ? -1
                                    : before[i].first.compare(records[j].first);
    if (cmp < 0) {  // gone
      update(before[i].first, owner, &before[i].second, nullptr);
      ++i;
      continue;
    }
    const auto& [name, recs] = records[j];
    after.emplace_back(name, recs.empty());
    if (cmp > 0) {
      update(name, owner, nullptr, &recs);
    } else if (before[i].second != recs.empty() ||
               (!recs.empty() && !unchanged(name, owner, recs))) {
      update(name, owner, &before[i].second, &recs);
    }
    if (cmp == 0) ++i;
    ++j;
  }
  if (after.empty()) {
    owned_.erase(owner);
  } else {
    owned_[owner] = std::move(after);
  }
}

void ZoneWriter::setService(const std::string& owner, const json::object* service,
                            const std::vector<const json::object*>& slices) {
  set(owner, service ? serviceRecords(o_, *service, slices) : ServiceRecords{});
}

std::shared_ptr<const ZoneData> ZoneWriter::publish(uint32_t serial) {
  next_->serial_ = serial;
  set("", apexRecords(o_, next_->soa()));
  std::shared_ptr<const ZoneData> out = next_;
  next_ = std::shared_ptr<ZoneData>(new ZoneData(*out));  // shares every shard with `out`
  copied_.assign(ZoneData::kShards, false);
  return out;
}

ResourceRecord ZoneData::soa() const {
  // CoreDNS: ns.dns.<zone> hostmaster.<zone> serial 7200 1800 86400 <ttl>.
  return {o_.domain, type::kSOA, kClassIN, o_.ttl,
          SoaData{"ns.dns." + o_.domain, "hostmaster." + o_.domain, serial_, 7200, 1800, 86400,
                  o_.ttl}};
}

void ZoneData::addTargets(Message& reply) const {
  // SRV targets and NS names the zone knows get their addresses in the additional section.
  for (const auto& rr : reply.answers) {
    const std::string* target = nullptr;
    if (const auto* srv = std::get_if<SrvData>(&rr.data)) target = &srv->target;
    if (const auto* n = std::get_if<NameData>(&rr.data); n && rr.rtype == type::kNS)
      target = &n->name;
    if (!target) continue;
    const auto* node = find(*target);
    if (!node) continue;
    for (const auto& a : node->records)
      if ((a.rtype == type::kA || a.rtype == type::kAAAA) &&
          std::find_if(reply.additional.begin(), reply.additional.end(), [&](const auto& x) {
            return x.name == a.name && x.data == a.data;
          }) == reply.additional.end())
        reply.additional.push_back(a);
  }
}

bool ZoneData::answerPod(const std::string& qname, const Question& q, Message& reply) const {
  // <a-b-c-d>.<ns>.pod.<domain>: the address is the name (no lookup, as "pods insecure").
  std::string podSuffix = ".pod" + suffix_;
  if (!qname.ends_with(podSuffix)) return false;
  std::string rest = qname.substr(0, qname.size() - podSuffix.size());
  size_t dot = rest.find('.');
  if (dot == std::string::npos || rest.find('.', dot + 1) != std::string::npos) return false;
  std::string ip = rest.substr(0, dot);
  // 10-244-1-5 is IPv4; anything else dashed (fd00--5) is IPv6 with ':' as '-'.
  bool v4 = std::count(ip.begin(), ip.end(), '-') == 3 && ip.find("--") == std::string::npos;
  std::replace(ip.begin(), ip.end(), '-', v4 ? '.' : ':');
  auto data = addressData(ip);
  if (!data) return false;
  reply.header.aa = true;
  if (q.qtype == addressType(*data) || q.qtype == type::kANY)
    reply.answers.push_back({q.name, addressType(*data), kClassIN, o_.ttl, *data});
  else
    reply.authority.push_back(soa());
  return true;
}

bool ZoneData::answerInDomain(const std::string& qname, const Question& q, Message& reply) const {
  reply.header.aa = true;
  const auto* node = find(qname);
  if (!node) {
    if (answerPod(qname, q, reply)) return true;
    reply.header.rcode = rcode::kNXDomain;
    reply.authority.push_back(soa());
    return true;
  }
  for (const auto& rr : node->records) {
    bool cname = rr.rtype == type::kCNAME && q.qtype != type::kCNAME;
    if (rr.rtype == q.qtype || q.qtype == type::kANY || cname) {
      reply.answers.push_back(rr);
      reply.answers.back().name = q.name;  // echo the asker's spelling (0x20 case randomising)
    }
  }
  if (reply.answers.empty()) {
    reply.authority.push_back(soa());  // NODATA
    return true;
  }
  addTargets(reply);
  return true;
}

bool ZoneData::answer(const Question& q, Message& reply) const {
  if (q.qclass != kClassIN && q.qclass != 255) return false;
  std::string qname = lowerName(q.name);
  if (qname == o_.domain || qname.ends_with(suffix_)) return answerInDomain(qname, q, reply);
  if (qname.ends_with(".in-addr.arpa") || qname.ends_with(".ip6.arpa")) {
    const auto* node = find(qname);
    if (!node) return false;  // fall through to the upstream resolvers
    reply.header.aa = true;
    for (const auto& rr : node->records)
      if (rr.rtype == q.qtype || q.qtype == type::kANY) reply.answers.push_back(rr);
    if (reply.answers.empty()) reply.authority.push_back(soa());
    return true;
  }
  return false;
}

}  // namespace berth::dns
