#pragma once
// DNS messages (RFC 1035 §4) as values, and their wire codec: header, question, the record types
// cluster DNS answers with (A, AAAA, NS, CNAME, SOA, PTR, TXT, SRV; anything else kept as raw
// RDATA) and EDNS0's OPT pseudo-record (RFC 6891), carried apart from the additional section.
//
// Names are dotted text without the trailing dot ("" is the root), case preserved. Decoding
// treats the packet as hostile: every length is bounds-checked, compression pointers must point
// strictly backwards (so a pointer loop cannot exist), names stay within 255 octets and labels
// within 63, and a label holding '.' is refused rather than mis-split. Encoding compresses names
// (RFC 1035 §4.1.4) and, given a size limit, drops whole records from the end and sets TC
// (RFC 2181 §9) so a UDP reply always fits.
//
// Thread-safety: plain values and free functions.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace berth::dns {

namespace type {
inline constexpr uint16_t kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kTXT = 16,
                          kAAAA = 28, kSRV = 33, kOPT = 41, kANY = 255;
}
inline constexpr uint16_t kClassIN = 1;

namespace rcode {
inline constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNXDomain = 3, kNotImp = 4,
                         kRefused = 5;
}

// Without EDNS0 a UDP reply may be at most 512 octets (RFC 1035 §4.2.1).
inline constexpr size_t kMaxUdpWithoutEdns = 512;

struct Header {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint8_t opcode = 0;  // 4 bits
  uint8_t rcode = 0;   // the low 4 bits; EDNS0 carries the high 8 in OPT
};

struct Question {
  std::string name;
  uint16_t qtype = type::kA;
  uint16_t qclass = kClassIN;
};

struct SoaData {
  std::string mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
  bool operator==(const SoaData&) const = default;
};
struct SrvData {
  uint16_t priority = 0, weight = 0, port = 0;
  std::string target;
  bool operator==(const SrvData&) const = default;
};
struct NameData {  // NS, CNAME, PTR
  std::string name;
  bool operator==(const NameData&) const = default;
};
struct TxtData {
  std::vector<std::string> strings;  // each at most 255 octets
  bool operator==(const TxtData&) const = default;
};
using Ipv4 = std::array<uint8_t, 4>;
using Ipv6 = std::array<uint8_t, 16>;
struct RawData {  // any other type, uncompressed as received
  std::string bytes;
  bool operator==(const RawData&) const = default;
};
using RData = std::variant<RawData, Ipv4, Ipv6, NameData, SrvData, SoaData, TxtData>;

struct ResourceRecord {
  std::string name;
  uint16_t rtype = type::kA;
  uint16_t rclass = kClassIN;
  uint32_t ttl = 0;
  RData data;
};

// EDNS0: what a client's OPT record says (RFC 6891 §6.1.3).
struct Edns {
  uint16_t udpSize = 512;  // the requester's payload size (values below 512 mean 512)
  uint8_t extendedRcode = 0;
  uint8_t version = 0;
  bool dnssecOk = false;
  std::string options;  // raw option TLVs, passed through
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers, authority, additional;
  std::optional<Edns> edns;
};

// Parses a whole message; a malformed one is a BadRequest status (answer it with FORMERR).
core::Result<Message> decode(std::string_view wire);

// Encodes `m`. With maxSize > 0, records that do not fit are dropped from the end (additional
// first, then authority, then answers) and TC is set when an answer or authority record had to
// go. The OPT record is always kept. An unencodable name (empty label, label > 63 or name > 255
// octets) or TXT string (> 255 octets) fails with BadRequest.
core::Result<std::string> encode(const Message& m, size_t maxSize = 0);

// The largest UDP reply for a query: 512 without EDNS0, else the client's size capped at `cap`.
size_t maxUdpReply(const Message& query, size_t cap = 1232);

// Lower-cases ASCII letters (DNS names compare case-insensitively, RFC 4343).
std::string lowerName(std::string_view name);

// A reply skeleton for `query`: same id, opcode, RD and CD, question copied, QR and RA set, and
// an OPT record when the query had one.
Message replyTo(const Message& query, uint8_t rcode, uint16_t ourUdpSize = 1232);

// The id of a raw message (0 when too short) and a copy of it with another id.
uint16_t wireId(std::string_view wire);
void setWireId(std::string& wire, uint16_t id);

}  // namespace berth::dns
