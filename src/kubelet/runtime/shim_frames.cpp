#include "kubelet/runtime/shim_frames.h"

#include <boost/json.hpp>

namespace berth::kubelet::runtime {

std::string encodeAttachFrame(uint8_t stream, std::string_view payload) {
  std::string out(1, static_cast<char>(stream));
  auto n = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(payload);
  return out;
}

std::optional<AttachFrame> AttachFrameDecoder::next() {
  if (broken_ || buffer_.size() < 5) return std::nullopt;
  size_t len = 0;
  for (int i = 1; i <= 4; ++i) len = (len << 8) | static_cast<uint8_t>(buffer_[i]);
  if (len > kMaxPayload) {
    broken_ = true;
    return std::nullopt;
  }
  if (buffer_.size() < 5 + len) return std::nullopt;
  AttachFrame f{static_cast<uint8_t>(buffer_[0]), buffer_.substr(5, len)};
  buffer_.erase(0, 5 + len);
  return f;
}

std::optional<WindowSize> parseWindowSize(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto dim = [&](const char* key) -> std::optional<uint16_t> {
    const auto* f = v.as_object().if_contains(key);
    if (f == nullptr || !f->is_number()) return std::nullopt;
    auto n = f->to_number<double>();
    if (n < 1 || n > 65535 || n != static_cast<double>(static_cast<uint32_t>(n)))
      return std::nullopt;
    return static_cast<uint16_t>(n);
  };
  auto w = dim("Width"), h = dim("Height");
  if (!w || !h) return std::nullopt;
  return WindowSize{*w, *h};
}

}  // namespace berth::kubelet::runtime
