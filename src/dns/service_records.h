#pragma once
// The DNS records one Service contributes to the cluster zone (see zone.h for the names), built
// from the Service and its EndpointSlices alone, so a change of one Service recomputes only its
// own records (CoreDNS answers from per-object caches the same way).
//
// Thread-safety: a pure function.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dns/message.h"

namespace berth::dns {

struct ZoneOptions;

// Name → records, sorted by name. A name with no records is an empty non-terminal the Service
// brings into existence (an ancestor of one of its names inside the domain, the domain apex
// excepted). Records are deduplicated per name, SRV weights spread as CoreDNS does.
using ServiceRecords = std::vector<std::pair<std::string, std::vector<ResourceRecord>>>;

ServiceRecords serviceRecords(const ZoneOptions& options, const boost::json::object& service,
                              const std::vector<const boost::json::object*>& slices);

// The zone's own records at its apex: `soa`, the NS record and the address of ns.dns.<domain>.
ServiceRecords apexRecords(const ZoneOptions& options, const ResourceRecord& soa);

// An address as A or AAAA RDATA; nullopt when it is neither.
std::optional<RData> addressData(const std::string& ip);
uint16_t addressType(const RData& address);  // kA or kAAAA
// The in-addr.arpa / ip6.arpa name of an A or AAAA RDATA.
std::string reverseName(const RData& address);

}  // namespace berth::dns
