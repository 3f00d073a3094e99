#pragma once
// SPDY/3.1 framing as Kubernetes' streaming protocols use it (moby/spdystream on the client):
// control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS,
// WINDOW_UPDATE and data frames, with name/value header blocks compressed by one zlib stream per
// direction that is primed with the SPDY/3 dictionary. Flow control is not enforced: spdystream
// ignores WINDOW_UPDATE, and so do we.
//
// Thread-safety: a codec belongs to one connection and is used from one thread (its zlib streams
// carry state from frame to frame).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::kubelet::streaming {

// Names are lower case; a value may hold several NUL-separated values, as SPDY sends them.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;
std::string spdyHeader(const SpdyHeaders& headers, std::string_view name);

// The SPDY/3 header compression dictionary (1423 bytes, RFC
// draft-mbelshe-httpbis-spdy-00 2.6.10.1).
const std::string& spdyDictionary();

enum class SpdyType : uint16_t {
  kData = 0,
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

constexpr uint8_t kSpdyFlagFin = 0x01;
constexpr uint32_t kSpdyRstProtocolError = 1;
constexpr uint32_t kSpdyRstRefusedStream = 3;
constexpr uint32_t kSpdyRstCancel = 5;

struct SpdyFrame {
  SpdyType type = SpdyType::kData;
  uint8_t flags = 0;
  uint32_t streamId = 0;      // data, SYN_*, RST_STREAM, HEADERS, WINDOW_UPDATE; GOAWAY: last id
  uint32_t associatedId = 0;  // SYN_STREAM
  uint32_t value = 0;         // RST_STREAM/GOAWAY status, PING id, WINDOW_UPDATE delta
  SpdyHeaders headers;        // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;           // data frames
  bool fin() const { return (flags & kSpdyFlagFin) != 0; }
};

class SpdyCodec {
 public:
  SpdyCodec();
  ~SpdyCodec();
  SpdyCodec(const SpdyCodec&) = delete;
  SpdyCodec& operator=(const SpdyCodec&) = delete;

  // Incoming bytes; next() returns frames as they complete. On a protocol violation error() is
  // set and next() returns nullopt from then on. Unknown control frame types are skipped.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  std::optional<SpdyFrame> next();
  const std::string& error() const { return error_; }

  // Outgoing frames, as bytes. Data larger than a frame allows is split over several frames.
  std::string synStream(uint32_t id, const SpdyHeaders& headers, bool fin = false);
  std::string synReply(uint32_t id, const SpdyHeaders& headers, bool fin = false);
  std::string data(uint32_t id, std::string_view payload, bool fin = false);
  std::string rstStream(uint32_t id, uint32_t status);
  std::string ping(uint32_t id);
  std::string goAway(uint32_t lastGoodId, uint32_t status = 0);

  // The header block codec on its own (tests).
  std::string compressHeaders(const SpdyHeaders& headers);
  std::optional<SpdyHeaders> decompressHeaders(std::string_view block);

 private:
  struct Zlib;
  std::unique_ptr<Zlib> zlib_;
  std::string buffer_;
  std::string error_;
};

}  // namespace berth::kubelet::streaming
