#include "dns/message.h"

#include <algorithm>

namespace berth::dns {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4, length octets included
constexpr size_t kMaxLabel = 63;
constexpr int kMaxPointerHops = 127;

core::Status malformed(std::string what) {
  return core::Status::badRequest("malformed DNS message: " + std::move(what));
}

class Reader {
 public:
  explicit Reader(std::string_view wire) : w_(wire) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return w_.size() - pos_; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = static_cast<uint8_t>(w_[pos_++]);
    return true;
  }
  bool u16(uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<uint16_t>(byte(pos_) << 8 | byte(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    uint16_t hi, lo;
    if (!u16(hi) || !u16(lo)) return false;
    v = static_cast<uint32_t>(hi) << 16 | lo;
    return true;
  }
  bool bytes(size_t n, std::string& out) {
    if (remaining() < n) return false;
    out.assign(w_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  // A possibly compressed name. Every pointer must point before the start of the label run it
  // interrupts, so the offsets read strictly decrease across jumps and a loop cannot form.
  core::Status name(std::string& out) {
    out.clear();
    size_t p = pos_;
    size_t runStart = pos_;
    size_t wireLen = 1;  // the terminating zero octet
    bool jumped = false;
    for (int hops = 0;;) {
      if (p >= w_.size()) return malformed("name runs past the end");
      uint8_t len = byte(p);
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= w_.size()) return malformed("truncated compression pointer");
        size_t target = static_cast<size_t>(len & 0x3F) << 8 | byte(p + 1);
        if (target >= runStart) return malformed("compression pointer does not point backwards");
        if (++hops > kMaxPointerHops) return malformed("too many compression pointers");
        if (!jumped) pos_ = p + 2;
        jumped = true;
        p = runStart = target;
        continue;
      }
      if ((len & 0xC0) != 0) return malformed("unsupported label type");
      if (len == 0) {
        if (!jumped) pos_ = p + 1;
        return {};
      }
      if (p + 1 + len > w_.size()) return malformed("label runs past the end");
      wireLen += 1 + len;
      if (wireLen > kMaxNameWire) return malformed("name longer than 255 octets");
      std::string_view label = w_.substr(p + 1, len);
      if (label.find('.') != std::string_view::npos) return malformed("label contains a dot");
      if (!out.empty()) out += '.';
      out += label;
      p += 1 + len;
    }
  }

 private:
  uint8_t byte(size_t i) const { return static_cast<uint8_t>(w_[i]); }
  std::string_view w_;
  size_t pos_ = 0;
};

core::Status readRData(Reader& r, uint16_t rtype, size_t rdlen, RData& data) {
  size_t end = r.pos() + rdlen;
  auto overrun = [&] { return r.pos() != end; };
  switch (rtype) {
    case type::kA:
    case type::kAAAA: {
      std::string raw;
      if (rdlen != (rtype == type::kA ? 4u : 16u) || !r.bytes(rdlen, raw))
        return malformed("bad address length");
      if (rtype == type::kA) {
        Ipv4 a;
        std::copy(raw.begin(), raw.end(), a.begin());
        data = a;
      } else {
        Ipv6 a;
        std::copy(raw.begin(), raw.end(), a.begin());
        data = a;
      }
      return {};
    }
    case type::kNS:
    case type::kCNAME:
    case type::kPTR: {
      NameData n;
      if (auto st = r.name(n.name); !st.ok()) return st;
      if (overrun()) return malformed("RDATA length does not match its name");
      data = std::move(n);
      return {};
    }
    case type::kSOA: {
      SoaData s;
      if (auto st = r.name(s.mname); !st.ok()) return st;
      if (auto st = r.name(s.rname); !st.ok()) return st;
      if (!r.u32(s.serial) || !r.u32(s.refresh) || !r.u32(s.retry) || !r.u32(s.expire) ||
          !r.u32(s.minimum) || overrun())
        return malformed("bad SOA RDATA");
      data = std::move(s);
      return {};
    }
    case type::kSRV: {
      SrvData s;
      if (!r.u16(s.priority) || !r.u16(s.weight) || !r.u16(s.port))
        return malformed("bad SRV RDATA");
      if (auto st = r.name(s.target); !st.ok()) return st;
      if (overrun()) return malformed("RDATA length does not match SRV");
      data = std::move(s);
      return {};
    }
    case type::kTXT: {
      TxtData t;
      while (r.pos() < end) {
        uint8_t len;
        std::string s;
        if (!r.u8(len) || r.pos() + len > end || !r.bytes(len, s)) return malformed("bad TXT");
        t.strings.push_back(std::move(s));
      }
      data = std::move(t);
      return {};
    }
    default: {
      RawData raw;
      if (!r.bytes(rdlen, raw.bytes)) return malformed("RDATA runs past the end");
      data = std::move(raw);
      return {};
    }
  }
}

core::Status readRecord(Reader& r, ResourceRecord& rr) {
  if (auto st = r.name(rr.name); !st.ok()) return st;
  uint16_t rdlen;
  if (!r.u16(rr.rtype) || !r.u16(rr.rclass) || !r.u32(rr.ttl) || !r.u16(rdlen))
    return malformed("truncated record");
  if (rdlen > r.remaining()) return malformed("RDATA runs past the end");
  return readRData(r, rr.rtype, rdlen, rr.data);
}

class Writer {
 public:
  explicit Writer(size_t reserve) {
    out_.reserve(reserve);
    names_.reserve(16);  // a typical reply's suffixes, without regrowing on the hot path
  }
  std::string& out() { return out_; }
  size_t size() const { return out_.size(); }

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<char>(v >> 8));
    out_.push_back(static_cast<char>(v & 0xFF));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v & 0xFFFF));
  }
  void patch16(size_t at, uint16_t v) {
    out_[at] = static_cast<char>(v >> 8);
    out_[at + 1] = static_cast<char>(v & 0xFF);
  }

  // Writes `name`, pointing at an earlier copy of its longest known suffix.
  core::Status name(std::string_view name, bool compress = true) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "a.b." is "a.b"
    if (!name.empty() && name.size() + 2 > kMaxNameWire)
      return malformed("name longer than 255 octets");
    size_t start = 0;
    while (start < name.size()) {
      // Exact (case-sensitive) matches only, so every name reads back as it was written.
      std::string_view suffix = name.substr(start);
      if (compress) {
        for (const auto& [known, offset] : names_) {
          if (known == suffix) {
            u16(static_cast<uint16_t>(0xC000 | offset));
            return {};
          }
        }
        if (out_.size() < 0x4000) names_.emplace_back(suffix, out_.size());
      }
      size_t dot = name.find('.', start);
      if (dot == std::string_view::npos) dot = name.size();
      size_t len = dot - start;
      if (len == 0 || len > kMaxLabel) return malformed("empty or over-long label in " +
                                                         std::string(name));
      u8(static_cast<uint8_t>(len));
      out_.append(name.substr(start, len));
      start = dot + 1;
    }
    u8(0);
    return {};
  }

  // Undo everything written from `size` on, including compression targets inside it.
  void rollback(size_t size) {
    out_.resize(size);
    std::erase_if(names_, [size](const auto& e) { return e.second >= size; });
  }

 private:
  std::string out_;
  // Suffix → offset. The views point into the Message being encoded, which outlives the Writer.
  std::vector<std::pair<std::string_view, size_t>> names_;
};

core::Status writeRData(Writer& w, const RData& data) {
  return std::visit(
      [&w](const auto& d) -> core::Status {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, RawData>) {
          w.out().append(d.bytes);
        } else if constexpr (std::is_same_v<T, Ipv4> || std::is_same_v<T, Ipv6>) {
          w.out().append(reinterpret_cast<const char*>(d.data()), d.size());
        } else if constexpr (std::is_same_v<T, NameData>) {
          return w.name(d.name);
        } else if constexpr (std::is_same_v<T, SrvData>) {
          w.u16(d.priority);
          w.u16(d.weight);
          w.u16(d.port);
          return w.name(d.target, false);  // RFC 2782: the target is not compressed
        } else if constexpr (std::is_same_v<T, SoaData>) {
          if (auto st = w.name(d.mname); !st.ok()) return st;
          if (auto st = w.name(d.rname); !st.ok()) return st;
          for (uint32_t v : {d.serial, d.refresh, d.retry, d.expire, d.minimum}) w.u32(v);
        } else if constexpr (std::is_same_v<T, TxtData>) {
          for (const auto& s : d.strings) {
            if (s.size() > 255) return malformed("TXT string longer than 255 octets");
            w.u8(static_cast<uint8_t>(s.size()));
            w.out().append(s);
          }
        }
        return {};
      },
      data);
}

core::Status writeRecord(Writer& w, const ResourceRecord& rr) {
  if (auto st = w.name(rr.name); !st.ok()) return st;
  w.u16(rr.rtype);
  w.u16(rr.rclass);
  w.u32(rr.ttl);
  size_t lenAt = w.size();
  w.u16(0);
  if (auto st = writeRData(w, rr.data); !st.ok()) return st;
  size_t rdlen = w.size() - lenAt - 2;
  if (rdlen > 0xFFFF) return malformed("RDATA longer than 65535 octets");
  w.patch16(lenAt, static_cast<uint16_t>(rdlen));
  return {};
}

uint16_t flagsOf(const Header& h) {
  return static_cast<uint16_t>(h.qr << 15 | (h.opcode & 0xF) << 11 | h.aa << 10 | h.tc << 9 |
                               h.rd << 8 | h.ra << 7 | h.ad << 5 | h.cd << 4 | (h.rcode & 0xF));
}

}  // namespace

std::string lowerName(std::string_view name) {
  std::string out(name);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

core::Result<Message> decode(std::string_view wire) {
  if (wire.size() < kHeaderSize) return malformed("shorter than a header");
  Reader r(wire);
  Message m;
  uint16_t flags, counts[4];
  r.u16(m.header.id);
  r.u16(flags);
  for (auto& c : counts) r.u16(c);
  m.header.qr = flags & 0x8000;
  m.header.opcode = (flags >> 11) & 0xF;
  m.header.aa = flags & 0x0400;
  m.header.tc = flags & 0x0200;
  m.header.rd = flags & 0x0100;
  m.header.ra = flags & 0x0080;
  m.header.ad = flags & 0x0020;
  m.header.cd = flags & 0x0010;
  m.header.rcode = flags & 0xF;
  // Each question takes at least 5 octets and each record 11: counts beyond what the packet
  // can hold are refused before anything is reserved.
  if (counts[0] * 5ul + (counts[1] + counts[2] + counts[3]) * 11ul > r.remaining())
    return malformed("section counts exceed the message");
  m.questions.resize(counts[0]);
  for (auto& q : m.questions) {
    if (auto st = r.name(q.name); !st.ok()) return st;
    if (!r.u16(q.qtype) || !r.u16(q.qclass)) return malformed("truncated question");
  }
  std::vector<ResourceRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3; ++s) {
    sections[s]->reserve(counts[s + 1]);
    for (int i = 0; i < counts[s + 1]; ++i) {
      ResourceRecord rr;
      if (auto st = readRecord(r, rr); !st.ok()) return st;
      if (rr.rtype == type::kOPT) {
        if (s != 2 || m.edns || !rr.name.empty()) return malformed("misplaced OPT record");
        Edns e;
        e.udpSize = rr.rclass;
        e.extendedRcode = static_cast<uint8_t>(rr.ttl >> 24);
        e.version = static_cast<uint8_t>(rr.ttl >> 16);
        e.dnssecOk = rr.ttl & 0x8000;
        e.options = std::move(std::get<RawData>(rr.data).bytes);
        m.edns = std::move(e);
        continue;
      }
      sections[s]->push_back(std::move(rr));
    }
  }
  return m;
}

core::Result<std::string> encode(const Message& m, size_t maxSize) {
  Writer w(maxSize ? std::min<size_t>(maxSize, 1232) : 512);
  Header h = m.header;
  w.u16(h.id);
  w.u16(0);  // flags, patched below (TC may change)
  for (size_t n : {m.questions.size(), m.answers.size(), m.authority.size(),
                   m.additional.size() + (m.edns ? 1 : 0)})
    w.u16(static_cast<uint16_t>(std::min<size_t>(n, 0xFFFF)));
  for (const auto& q : m.questions) {
    if (auto st = w.name(q.name); !st.ok()) return st;
    w.u16(q.qtype);
    w.u16(q.qclass);
  }
  size_t optSize = m.edns ? 11 + m.edns->options.size() : 0;
  if (maxSize && w.size() + optSize > maxSize) return malformed("question does not fit");
  size_t limit = maxSize ? maxSize - optSize : SIZE_MAX;
  const std::vector<ResourceRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  uint16_t written[3] = {0, 0, 0};
  bool full = false;
  for (int s = 0; s < 3 && !full; ++s) {
    for (const auto& rr : *sections[s]) {
      size_t before = w.size();
      if (auto st = writeRecord(w, rr); !st.ok()) return st;
      if (w.size() > limit) {
        w.rollback(before);
        full = true;
        if (s < 2) h.tc = true;
        break;
      }
      ++written[s];
    }
  }
  if (m.edns) {
    const Edns& e = *m.edns;
    w.u8(0);  // root
    w.u16(type::kOPT);
    w.u16(e.udpSize);
    w.u32(static_cast<uint32_t>(e.extendedRcode) << 24 | static_cast<uint32_t>(e.version) << 16 |
          (e.dnssecOk ? 0x8000u : 0u));
    w.u16(static_cast<uint16_t>(e.options.size()));
    w.out().append(e.options);
  }
  w.patch16(2, flagsOf(h));
  for (int s = 0; s < 3; ++s) w.patch16(6 + 2 * s, written[s] + (s == 2 && m.edns ? 1 : 0));
  return std::move(w.out());
}

size_t maxUdpReply(const Message& query, size_t cap) {
  if (!query.edns) return kMaxUdpWithoutEdns;
  return std::clamp<size_t>(query.edns->udpSize, kMaxUdpWithoutEdns,
                            std::max(cap, kMaxUdpWithoutEdns));
}

Message replyTo(const Message& query, uint8_t rc, uint16_t ourUdpSize) {
  Message r;
  r.header.id = query.header.id;
  r.header.opcode = query.header.opcode;
  r.header.rd = query.header.rd;
  r.header.cd = query.header.cd;
  r.header.qr = true;
  r.header.ra = true;
  r.header.rcode = rc;
  r.questions = query.questions;
  if (query.edns) {
    Edns e;
    e.udpSize = ourUdpSize;
    e.dnssecOk = query.edns->dnssecOk;
    r.edns = e;
  }
  return r;
}

uint16_t wireId(std::string_view wire) {
  if (wire.size() < 2) return 0;
  return static_cast<uint16_t>(static_cast<uint8_t>(wire[0]) << 8 | static_cast<uint8_t>(wire[1]));
}

void setWireId(std::string& wire, uint16_t id) {
  if (wire.size() < 2) return;
  wire[0] = static_cast<char>(id >> 8);
  wire[1] = static_cast<char>(id & 0xFF);
}

}  // namespace berth::dns
