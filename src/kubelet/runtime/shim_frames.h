#pragma once
// The attach socket's framing as the shim speaks it (the format is described with
// streaming::ContainerInfo::attachSocket): [stream id][4-byte big-endian length][payload].
// Kept in the runtime component so the shim needs nothing from the streaming server.
//
// Thread-safety: a decoder belongs to one connection's thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::kubelet::runtime {

// Stream ids on the attach socket.
enum AttachStream : uint8_t {
  kAttachStdin = 0,       // to the shim: bytes for the container's stdin
  kAttachStdout = 1,      // from it (a TTY container's whole output)
  kAttachStderr = 2,      // from it
  kAttachResize = 3,      // to it: {"Width":W,"Height":H}
  kAttachStdinEnded = 4,  // to it: this client's stdin ended (closes a stdinOnce container's)
  kAttachExited = 5,      // from it: the exit code as decimal text, then it closes
};

struct AttachFrame {
  uint8_t stream = 0;
  std::string payload;
};

std::string encodeAttachFrame(uint8_t stream, std::string_view payload);

class AttachFrameDecoder {
 public:
  static constexpr size_t kMaxPayload = 1u << 20;
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame, or nullopt when more bytes are needed or the stream is broken.
  std::optional<AttachFrame> next();
  // A frame longer than kMaxPayload: the peer does not speak this protocol.
  bool broken() const { return broken_; }

 private:
  std::string buffer_;
  bool broken_ = false;
};

struct WindowSize {
  uint16_t width = 0, height = 0;
};
// A resize payload; nullopt unless it is a JSON object with Width and Height in 1..65535.
std::optional<WindowSize> parseWindowSize(std::string_view json);

}  // namespace berth::kubelet::runtime
