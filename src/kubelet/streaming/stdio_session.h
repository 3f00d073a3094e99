#pragma once
// Runs one exec or attach session: relays between the client (an upgraded connection speaking
// a StdioProtocol) and a StdioTarget (a `runc exec` process, or a container's attach socket) on
// the handler's thread with poll(2), until the target ends (then the exit status goes to the
// client) or the client goes away (then the target is aborted).
//
// Thread-safety: a session and its target live on one thread.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/http/server.h"
#include "core/result.h"
#include "kubelet/streaming/stdio_protocol.h"

namespace berth::kubelet::streaming {

class StdioTarget {
 public:
  virtual ~StdioTarget() = default;
  // Descriptors to poll for output; an empty list once all output has ended.
  virtual std::vector<int> outputFds() = 0;
  // Reads what `fd` has; appends (stream, bytes) pairs, stream 1 stdout or 2 stderr.
  virtual void readOutput(int fd, std::vector<std::pair<int, std::string>>& out) = 0;
  virtual void writeStdin(std::string_view data) = 0;
  virtual void closeStdin() = 0;
  virtual void resize(uint16_t width, uint16_t height) = 0;
  // After all output ended: how the command ended (may wait for the process).
  virtual StdioOutcome wait() = 0;
  // The client is gone: stop the command (exec) or just detach (attach).
  virtual void abort() = 0;
};

// Builds the target once the protocol is ready (SPDY waits for the client's streams first).
using StdioTargetFactory = std::function<core::Result<std::unique_ptr<StdioTarget>>()>;

void runStdioSession(apiserver::http::RawStream& client, StdioProtocol& protocol,
                     const StdioTargetFactory& makeTarget);

// Waits until `fd` is readable or `timeoutMs` passes (-1: forever). Returns false on timeout.
bool waitReadable(int fd, int timeoutMs);

}  // namespace berth::kubelet::streaming
