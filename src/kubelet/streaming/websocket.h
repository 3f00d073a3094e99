#pragma once
// WebSocket framing (RFC 6455) as the streaming server speaks it: the handshake's accept key,
// frame encoding (a server's frames are unmasked, a client's masked) and an incremental decoder
// that reassembles fragmented messages and surfaces control frames (ping, pong, close).
//
// Thread-safety: plain values; a decoder belongs to one connection's thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::kubelet::streaming {

enum class WsOpcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10,
};

// base64(SHA-1(key + the RFC's GUID)), the Sec-WebSocket-Accept answer to Sec-WebSocket-Key.
std::string wsAcceptKey(std::string_view clientKey);

// One frame with FIN set. `mask` for frames a client sends (the test clients).
std::string wsEncode(WsOpcode opcode, std::string_view payload, bool mask = false);

struct WsMessage {
  WsOpcode opcode = WsOpcode::kBinary;  // kText, kBinary, kClose, kPing or kPong
  std::string payload;
};

class WsDecoder {
 public:
  // `requireMask`: a server must reject unmasked client frames (RFC 6455 5.1).
  explicit WsDecoder(bool requireMask, size_t maxMessageBytes = 16 << 20)
      : requireMask_(requireMask), maxMessage_(maxMessageBytes) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete message, or nullopt when more bytes are needed. A protocol violation
  // sets error() and returns nullopt from then on.
  std::optional<WsMessage> next();
  const std::string& error() const { return error_; }

 private:
  bool requireMask_;
  size_t maxMessage_;
  std::string buffer_;
  std::string fragments_;  // payload of a fragmented data message so far
  std::optional<WsOpcode> fragmentOpcode_;
  std::string error_;
};

// The code of a close frame's payload (1005 "no status" when empty).
int wsCloseCode(std::string_view payload);
std::string wsClosePayload(int code, std::string_view reason = {});

}  // namespace berth::kubelet::streaming
