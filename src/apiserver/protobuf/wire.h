#pragma once
// Protobuf wire-format primitives for the codec: a bounds-checked reader over a byte span and
// append-only writers. Internal to src/apiserver/protobuf.
//
// Thread-safety: a Reader is a cursor owned by one caller; the writers are free functions.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace berth::apiserver::protobuf::internal {

enum WireType : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Every read checks the remaining length first; a failed read leaves the cursor unspecified and
// returns false.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const std::uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool empty() const { return p_ == end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

  bool varint(std::uint64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      std::uint8_t b = *p_++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = v;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  bool fixed(std::size_t size, std::uint64_t& out) {
    if (remaining() < size) return false;
    out = 0;
    for (std::size_t i = 0; i < size; ++i) out |= static_cast<std::uint64_t>(p_[i]) << (8 * i);
    p_ += size;
    return true;
  }

  // A length-delimited payload; `length` is the declared length, checked against the rest.
  bool bytes(std::string_view& out, std::uint64_t& length) {
    if (!varint(length) || length > remaining()) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(length));
    p_ += length;
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

inline void putVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

inline void putTag(std::string& out, int number, WireType type) {
  putVarint(out, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint64_t>(type));
}

inline void putBytesField(std::string& out, int number, std::string_view bytes) {
  putTag(out, number, kLengthDelimited);
  putVarint(out, bytes.size());
  out.append(bytes);
}

inline void putVarintField(std::string& out, int number, std::uint64_t v) {
  putTag(out, number, kVarint);
  putVarint(out, v);
}

}  // namespace berth::apiserver::protobuf::internal
