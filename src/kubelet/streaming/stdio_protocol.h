#pragma once
// The client side of exec and attach as the kubelet speaks it, one implementation per wire
// protocol, behind one interface the session loop (stdio_session.h) drives:
//  - WebSocket channel protocols: v5.channel.k8s.io (kubectl 1.30+: adds closing stdin with
//    [255, 0]), v4.channel.k8s.io (the Python client: JSON Status on the error channel),
//    channel.k8s.io and base64.channel.k8s.io (v1: text error). Messages are [channel][data]:
//    0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize.
//  - SPDY/3.1 with X-Stream-Protocol-Version v4/v3/v2.channel.k8s.io (kubectl up to 1.29 and
//    1.20): the client opens one stream per streamType (error, stdin, stdout, stderr, resize);
//    the session is ready once every expected stream is open.
// Upstream: k8s.io/apimachinery wsstream and the kubelet's remotecommand server.
//
// Thread-safety: one per connection, used from the connection's handler thread.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace berth::kubelet::streaming {

struct StdioOptions {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  bool tty = false;
};

struct StdioEvent {
  enum class Kind { kStdin, kStdinClosed, kResize };
  Kind kind = Kind::kStdin;
  std::string data;
  uint16_t width = 0, height = 0;
};

// How the command ended: exitCode when it ran, or an error message when it could not.
struct StdioOutcome {
  int exitCode = 0;
  std::string error;  // non-empty: the command did not run (InternalError)
};

class StdioProtocol {
 public:
  virtual ~StdioProtocol() = default;
  // Client bytes in. Appends events and any immediate answer (pong, SYN_REPLY) to `reply`.
  // False when the client closed the session or broke the protocol.
  virtual bool onClientBytes(std::string_view bytes, std::vector<StdioEvent>& events,
                             std::string& reply) = 0;
  // Every stream the client must open is open (always true for WebSocket).
  virtual bool ready() const = 0;
  // Output of the command on stream 1 (stdout) or 2 (stderr), framed for the client.
  virtual std::string output(int stream, std::string_view data) = 0;
  // The status message that ends the session and the close that follows.
  virtual std::string finish(const StdioOutcome& outcome) = 0;
};

// WebSocket: `subprotocol` is the one negotiated (see pickWsStdioProtocol).
std::unique_ptr<StdioProtocol> makeWsStdioProtocol(const std::string& subprotocol);
// The first protocol of the client's Sec-WebSocket-Protocol list we speak, or "".
std::string pickWsStdioProtocol(std::string_view offered);
// SPDY: `version` is the negotiated X-Stream-Protocol-Version.
std::unique_ptr<StdioProtocol> makeSpdyStdioProtocol(const std::string& version,
                                                     const StdioOptions& options);
// The first of the client's X-Stream-Protocol-Version values we speak, or "".
std::string pickSpdyStdioProtocol(std::string_view offered);

// The Status JSON v4+ clients read on the error channel (exit code in a NonZeroExitCode cause).
std::string exitStatusJson(const StdioOutcome& outcome);

}  // namespace berth::kubelet::streaming
