#include "kubelet/streaming/spdy.h"

#include <zlib.h>

#include <array>

namespace berth::kubelet::streaming {
namespace {

// The dictionary is a list of length-prefixed header names and values followed by a run of
// common status lines, dates and media types (SPDY/3 section 2.6.10.1).
constexpr std::array<std::string_view, 65> kDictionaryWords = {"options",
                                                               "head",
                                                               "post",
                                                               "put",
                                                               "delete",
                                                               "trace",
                                                               "accept",
                                                               "accept-charset",
                                                               "accept-encoding",
                                                               "accept-language",
                                                               "accept-ranges",
                                                               "age",
                                                               "allow",
                                                               "authorization",
                                                               "cache-control",
                                                               "connection",
                                                               "content-base",
                                                               "content-encoding",
                                                               "content-language",
                                                               "content-length",
                                                               "content-location",
                                                               "content-md5",
                                                               "content-range",
                                                               "content-type",
                                                               "date",
                                                               "etag",
                                                               "expect",
                                                               "expires",
                                                               "from",
                                                               "host",
                                                               "if-match",
                                                               "if-modified-since",
                                                               "if-none-match",
                                                               "if-range",
                                                               "if-unmodified-since",
                                                               "last-modified",
                                                               "location",
                                                               "max-forwards",
                                                               "pragma",
                                                               "proxy-authenticate",
                                                               "proxy-authorization",
                                                               "range",
                                                               "referer",
                                                               "retry-after",
                                                               "server",
                                                               "te",
                                                               "trailer",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "user-agent",
                                                               "vary",
                                                               "via",
                                                               "warning",
                                                               "www-authenticate",
                                                               "method",
                                                               "get",
                                                               "status",
                                                               "200 OK",
                                                               "version",
                                                               "HTTP/1.1",
                                                               "url",
                                                               "public",
                                                               "set-cookie",
                                                               "keep-alive",
                                                               "origin"};
constexpr std::string_view kDictionaryTail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

constexpr size_t kMaxFramePayload = (1u << 24) - 1;
constexpr size_t kMaxDataChunk = 32 * 1024;
constexpr size_t kMaxHeaderBlock = 1 << 20;

void put32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put24(std::string& out, uint32_t v) {
  for (int shift = 16; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint32_t get32(std::string_view s, size_t pos) {
  return (uint32_t{static_cast<uint8_t>(s[pos])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[pos + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[pos + 2])} << 8) | static_cast<uint8_t>(s[pos + 3]);
}

std::string controlFrame(SpdyType type, uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(8 + payload.size());
  out.push_back(static_cast<char>(0x80));
  out.push_back(3);  // version
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) >> 8));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) & 0xff));
  out.push_back(static_cast<char>(flags));
  put24(out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

}  // namespace

std::string spdyHeader(const SpdyHeaders& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

const std::string& spdyDictionary() {
  static const std::string dictionary = [] {
    std::string d;
    for (std::string_view word : kDictionaryWords) {
      put32(d, static_cast<uint32_t>(word.size()));
      d.append(word);
    }
    d.append(kDictionaryTail);
    return d;
  }();
  return dictionary;
}

struct SpdyCodec::Zlib {
  z_stream deflater{};
  z_stream inflater{};
  Zlib() {
    deflateInit(&deflater, Z_BEST_COMPRESSION);
    const std::string& dict = spdyDictionary();
    deflateSetDictionary(&deflater, reinterpret_cast<const Bytef*>(dict.data()),
                         static_cast<uInt>(dict.size()));
    inflateInit(&inflater);
  }
  ~Zlib() {
    deflateEnd(&deflater);
    inflateEnd(&inflater);
  }
};

SpdyCodec::SpdyCodec() : zlib_(std::make_unique<Zlib>()) {}
SpdyCodec::~SpdyCodec() = default;

std::string SpdyCodec::compressHeaders(const SpdyHeaders& headers) {
  std::string block;
  put32(block, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    put32(block, static_cast<uint32_t>(name.size()));
    block.append(name);
    put32(block, static_cast<uint32_t>(value.size()));
    block.append(value);
  }
  z_stream& z = zlib_->deflater;
  z.next_in = reinterpret_cast<Bytef*>(block.data());
  z.avail_in = static_cast<uInt>(block.size());
  std::string out;
  char chunk[4096];
  do {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    deflate(&z, Z_SYNC_FLUSH);
    out.append(chunk, sizeof(chunk) - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

std::optional<SpdyHeaders> SpdyCodec::decompressHeaders(std::string_view compressed) {
  z_stream& z = zlib_->inflater;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string block;
  char chunk[4096];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& dict = spdyDictionary();
      if (inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()),
                               static_cast<uInt>(dict.size())) != Z_OK)
        return std::nullopt;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return std::nullopt;
    block.append(chunk, sizeof(chunk) - z.avail_out);
    if (block.size() > kMaxHeaderBlock) return std::nullopt;
    if (rc == Z_BUF_ERROR || (z.avail_in == 0 && z.avail_out != 0)) break;
  }
  SpdyHeaders headers;
  size_t pos = 0;
  auto take32 = [&](uint32_t* v) {
    if (block.size() - pos < 4) return false;
    *v = get32(block, pos);
    pos += 4;
    return true;
  };
  uint32_t count = 0;
  if (!take32(&count) || count > 1000) return std::nullopt;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t n = 0;
    if (!take32(&n) || block.size() - pos < n) return std::nullopt;
    std::string name = block.substr(pos, n);
    pos += n;
    if (!take32(&n) || block.size() - pos < n) return std::nullopt;
    headers.emplace_back(std::move(name), block.substr(pos, n));
    pos += n;
  }
  if (pos != block.size()) return std::nullopt;
  return headers;
}

std::optional<SpdyFrame> SpdyCodec::next() {
  while (error_.empty()) {
    if (buffer_.size() < 8) return std::nullopt;
    uint32_t first = get32(buffer_, 0);
    auto flags = static_cast<uint8_t>(buffer_[4]);
    uint32_t length = get32(buffer_, 4) & 0xffffff;
    if (buffer_.size() < 8 + size_t{length}) return std::nullopt;
    std::string payload = buffer_.substr(8, length);
    buffer_.erase(0, 8 + size_t{length});
    SpdyFrame f;
    f.flags = flags;
    if ((first & 0x80000000u) == 0) {
      f.type = SpdyType::kData;
      f.streamId = first & 0x7fffffff;
      f.data = std::move(payload);
      if (f.streamId == 0) error_ = "data frame on stream 0";
      return error_.empty() ? std::optional<SpdyFrame>(std::move(f)) : std::nullopt;
    }
    if (((first >> 16) & 0x7fff) != 3) {
      error_ = "unsupported SPDY version";
      return std::nullopt;
    }
    auto type = static_cast<uint16_t>(first & 0xffff);
    f.type = static_cast<SpdyType>(type);
    auto need = [&](size_t n, bool exact) {
      if (exact ? payload.size() != n : payload.size() < n) error_ = "short SPDY control frame";
      return error_.empty();
    };
    switch (f.type) {
      case SpdyType::kSynStream:
      case SpdyType::kSynReply:
      case SpdyType::kHeaders: {
        size_t headerStart = f.type == SpdyType::kSynStream ? 10 : 4;
        if (!need(headerStart, false)) return std::nullopt;
        f.streamId = get32(payload, 0) & 0x7fffffff;
        if (f.type == SpdyType::kSynStream) f.associatedId = get32(payload, 4) & 0x7fffffff;
        auto headers = decompressHeaders(std::string_view(payload).substr(headerStart));
        if (!headers) {
          error_ = "bad SPDY header block";
          return std::nullopt;
        }
        f.headers = std::move(*headers);
        return f;
      }
      case SpdyType::kRstStream:
      case SpdyType::kGoAway:
      case SpdyType::kWindowUpdate:
        if (!need(8, f.type != SpdyType::kGoAway)) return std::nullopt;
        f.streamId = get32(payload, 0) & 0x7fffffff;
        f.value = get32(payload, 4);
        return f;
      case SpdyType::kPing:
        if (!need(4, true)) return std::nullopt;
        f.value = get32(payload, 0);
        return f;
      case SpdyType::kSettings:
        return f;
      default:
        continue;  // unknown control frames are ignored (SPDY/3 2.2.1)
    }
  }
  return std::nullopt;
}

std::string SpdyCodec::synStream(uint32_t id, const SpdyHeaders& headers, bool fin) {
  std::string payload;
  put32(payload, id);
  put32(payload, 0);
  payload.push_back(0);
  payload.push_back(0);
  payload += compressHeaders(headers);
  return controlFrame(SpdyType::kSynStream, fin ? kSpdyFlagFin : 0, payload);
}

std::string SpdyCodec::synReply(uint32_t id, const SpdyHeaders& headers, bool fin) {
  std::string payload;
  put32(payload, id);
  payload += compressHeaders(headers);
  return controlFrame(SpdyType::kSynReply, fin ? kSpdyFlagFin : 0, payload);
}

std::string SpdyCodec::data(uint32_t id, std::string_view payload, bool fin) {
  std::string out;
  do {
    std::string_view piece = payload.substr(0, std::min(payload.size(), kMaxDataChunk));
    payload.remove_prefix(piece.size());
    put32(out, id & 0x7fffffff);
    out.push_back(static_cast<char>(fin && payload.empty() ? kSpdyFlagFin : 0));
    put24(out, static_cast<uint32_t>(piece.size()));
    out.append(piece);
  } while (!payload.empty());
  static_assert(kMaxDataChunk <= kMaxFramePayload);
  return out;
}

std::string SpdyCodec::rstStream(uint32_t id, uint32_t status) {
  std::string payload;
  put32(payload, id);
  put32(payload, status);
  return controlFrame(SpdyType::kRstStream, 0, payload);
}

std::string SpdyCodec::ping(uint32_t id) {
  std::string payload;
  put32(payload, id);
  return controlFrame(SpdyType::kPing, 0, payload);
}

std::string SpdyCodec::goAway(uint32_t lastGoodId, uint32_t status) {
  std::string payload;
  put32(payload, lastGoodId);
  put32(payload, status);
  return controlFrame(SpdyType::kGoAway, 0, payload);
}

}  // namespace berth::kubelet::streaming
