#include "kubelet/streaming/websocket.h"

#include <openssl/sha.h>

#include <random>

#include "core/base64.h"

namespace berth::kubelet::streaming {

std::string wsAcceptKey(std::string_view clientKey) {
  std::string input(clientKey);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return core::base64Encode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::string wsEncode(WsOpcode opcode, std::string_view payload, bool mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  uint8_t maskBit = mask ? 0x80 : 0;
  size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(maskBit | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(maskBit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(maskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  thread_local std::mt19937 rng{std::random_device{}()};
  uint32_t key = rng();
  char k[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16),
               static_cast<char>(key >> 8), static_cast<char>(key)};
  out.append(k, 4);
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(payload[i] ^ k[i % 4]));
  return out;
}

std::optional<WsMessage> WsDecoder::next() {
  while (error_.empty()) {
    if (buffer_.size() < 2) return std::nullopt;
    auto b0 = static_cast<uint8_t>(buffer_[0]);
    auto b1 = static_cast<uint8_t>(buffer_[1]);
    bool fin = (b0 & 0x80) != 0;
    auto opcode = static_cast<WsOpcode>(b0 & 0x0f);
    bool masked = (b1 & 0x80) != 0;
    uint64_t length = b1 & 0x7f;
    size_t pos = 2;
    if (length == 126 || length == 127) {
      size_t bytes = length == 126 ? 2 : 8;
      if (buffer_.size() < pos + bytes) return std::nullopt;
      length = 0;
      for (size_t i = 0; i < bytes; ++i)
        length = (length << 8) | static_cast<uint8_t>(buffer_[pos + i]);
      pos += bytes;
    }
    if ((b0 & 0x70) != 0) {
      error_ = "reserved bits set";
    } else if (masked != requireMask_ && requireMask_) {
      error_ = "client frame not masked";
    } else if (length > maxMessage_ || fragments_.size() + length > maxMessage_) {
      error_ = "message too large";
    }
    bool control = (static_cast<uint8_t>(opcode) & 0x08) != 0;
    if (error_.empty() && control && (!fin || length > 125)) error_ = "bad control frame";
    if (error_.empty() && !control && opcode != WsOpcode::kContinuation &&
        opcode != WsOpcode::kText && opcode != WsOpcode::kBinary)
      error_ = "unknown opcode";
    if (error_.empty() && control && opcode != WsOpcode::kClose && opcode != WsOpcode::kPing &&
        opcode != WsOpcode::kPong)
      error_ = "unknown opcode";
    if (!error_.empty()) return std::nullopt;
    size_t maskPos = pos;
    if (masked) pos += 4;
    if (buffer_.size() < pos + length) return std::nullopt;
    std::string payload = buffer_.substr(pos, length);
    if (masked) {
      for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= buffer_[maskPos + i % 4];
    }
    buffer_.erase(0, pos + length);
    if (control) return WsMessage{opcode, std::move(payload)};
    if (opcode == WsOpcode::kContinuation) {
      if (!fragmentOpcode_) {
        error_ = "continuation without a message";
        return std::nullopt;
      }
      fragments_ += payload;
    } else {
      if (fragmentOpcode_) {
        error_ = "new message inside a fragmented one";
        return std::nullopt;
      }
      fragmentOpcode_ = opcode;
      fragments_ = std::move(payload);
    }
    if (fin) {
      WsMessage message{*fragmentOpcode_, std::move(fragments_)};
      fragments_.clear();
      fragmentOpcode_.reset();
      return message;
    }
  }
  return std::nullopt;
}

int wsCloseCode(std::string_view payload) {
  if (payload.size() < 2) return 1005;
  return (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
}

std::string wsClosePayload(int code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>((code >> 8) & 0xff));
  out.push_back(static_cast<char>(code & 0xff));
  out.append(reason.substr(0, 123));
  return out;
}

}  // namespace berth::kubelet::streaming
