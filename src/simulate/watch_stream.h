#pragma once
// WatchStreamDecoder: turns the raw body bytes of a watch response (HTTP/1.1 chunked transfer
// coding, or a plain body read until close) into the stream's newline-delimited JSON lines, fed
// piece by piece as an event loop reads them. Chunk boundaries need not match line boundaries.
//
// Thread-safety: none; one decoder per stream, used by the thread reading it.
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace berth::simulate {

class WatchStreamDecoder {
 public:
  explicit WatchStreamDecoder(bool chunked) : chunked_(chunked) {}

  // Feeds bytes; `onLine` gets each complete non-empty line (without "\n"/"\r\n"). Returns an
  // error for malformed chunk framing or a line over 16 MiB; after the terminal chunk, ended().
  core::Status feed(std::string_view bytes, const std::function<void(std::string_view)>& onLine);
  bool ended() const { return state_ == State::kEnded; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kEnded };
  void body(std::string_view data, const std::function<void(std::string_view)>& onLine);

  const bool chunked_;
  State state_ = State::kSize;
  std::string sizeLine_;  // the chunk-size line (or trailer line) read so far
  size_t remaining_ = 0;  // bytes left in the current chunk
  std::string line_;      // the body line read so far
};

}  // namespace berth::simulate
