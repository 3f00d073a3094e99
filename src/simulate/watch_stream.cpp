#include "simulate/watch_stream.h"

#include <cstdlib>

namespace berth::simulate {

using core::Status;

namespace {
constexpr size_t kMaxLine = 16u << 20;  // the server's object limit plus the event envelope
}

void WatchStreamDecoder::body(std::string_view data,
                              const std::function<void(std::string_view)>& onLine) {
  while (!data.empty()) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      line_.append(data);
      return;
    }
    line_.append(data.substr(0, nl));
    data.remove_prefix(nl + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!line_.empty()) onLine(line_);
    line_.clear();
  }
}

Status WatchStreamDecoder::feed(std::string_view bytes,
                                const std::function<void(std::string_view)>& onLine) {
  if (!chunked_) {
    body(bytes, onLine);
    return line_.size() > kMaxLine ? Status::internal("watch event over 16 MiB") : Status();
  }
  while (!bytes.empty() && state_ != State::kEnded) {
    switch (state_) {
      case State::kSize:
      case State::kTrailer: {
        auto nl = bytes.find('\n');
        sizeLine_.append(bytes.substr(0, nl));
        if (sizeLine_.size() > 1024) return Status::internal("malformed chunked watch stream");
        if (nl == std::string_view::npos) return {};
        bytes.remove_prefix(nl + 1);
        if (!sizeLine_.empty() && sizeLine_.back() == '\r') sizeLine_.pop_back();
        if (state_ == State::kTrailer) {
          if (sizeLine_.empty()) state_ = State::kEnded;
          sizeLine_.clear();
          break;
        }
        char* end = nullptr;
        unsigned long long size = std::strtoull(sizeLine_.c_str(), &end, 16);
        if (end == sizeLine_.c_str() || (*end != '\0' && *end != ';'))
          return Status::internal("malformed chunk size \"" + sizeLine_.substr(0, 40) + "\"");
        sizeLine_.clear();
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        size_t take = std::min(remaining_, bytes.size());
        body(bytes.substr(0, take), onLine);
        if (line_.size() > kMaxLine) return Status::internal("watch event over 16 MiB");
        bytes.remove_prefix(take);
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {  // the CRLF after a chunk's data
        auto nl = bytes.find('\n');
        if (nl == std::string_view::npos) return {};
        bytes.remove_prefix(nl + 1);
        state_ = State::kSize;
        break;
      }
      case State::kEnded:
        break;
    }
  }
  return {};
}

}  // namespace berth::simulate
