#include "kubelet/streaming/stdio_session.h"

#include <poll.h>

#include <chrono>

namespace berth::kubelet::streaming {

bool waitReadable(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) > 0;
}

namespace {

// Reads what the client sent; false when it is gone. Events go to `events`.
bool pumpClient(apiserver::http::RawStream& client, StdioProtocol& protocol,
                std::vector<StdioEvent>& events) {
  char buf[16384];
  size_t n = client.readSome(buf, sizeof(buf));
  if (n == 0) return false;
  std::string reply;
  bool open = protocol.onClientBytes(std::string_view(buf, n), events, reply);
  if (!reply.empty() && !client.writeAll(reply)) return false;
  return open;
}

}  // namespace

void runStdioSession(apiserver::http::RawStream& client, StdioProtocol& protocol,
                     const StdioTargetFactory& makeTarget) {
  std::vector<StdioEvent> pending;
  // SPDY: the client opens its streams first (upstream waits up to 30 s for them).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!protocol.ready()) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return;
    if (!client.inputPending() && client.pollFd() >= 0 && !waitReadable(client.pollFd(), left))
      return;
    if (!pumpClient(client, protocol, pending)) return;
  }
  auto target = makeTarget();
  if (!target.ok()) {
    client.writeAll(protocol.finish(StdioOutcome{0, target.status().message()}));
    return;
  }
  StdioTarget& t = **target;
  bool clientOpen = true;
  auto apply = [&](std::vector<StdioEvent>& events) {
    for (auto& e : events) {
      switch (e.kind) {
        case StdioEvent::Kind::kStdin:
          t.writeStdin(e.data);
          break;
        case StdioEvent::Kind::kStdinClosed:
          t.closeStdin();
          break;
        case StdioEvent::Kind::kResize:
          t.resize(e.width, e.height);
          break;
      }
    }
    events.clear();
  };
  apply(pending);
  std::vector<std::pair<int, std::string>> output;
  for (;;) {
    std::vector<int> fds = t.outputFds();
    if (fds.empty()) break;
    std::vector<pollfd> polled;
    bool clientReady = clientOpen && client.inputPending();
    if (clientOpen && !clientReady) polled.push_back({client.pollFd(), POLLIN, 0});
    for (int fd : fds) polled.push_back({fd, POLLIN, 0});
    if (::poll(polled.data(), polled.size(), clientReady ? 0 : -1) < 0 && errno != EINTR) break;
    for (const auto& p : polled) {
      if (p.revents == 0) continue;
      if (p.fd == client.pollFd() && clientOpen) {
        clientReady = true;
        continue;
      }
      t.readOutput(p.fd, output);
    }
    for (auto& [stream, data] : output) {
      if (!client.writeAll(protocol.output(stream, data))) {
        t.abort();
        return;
      }
    }
    output.clear();
    if (clientReady) {
      std::vector<StdioEvent> events;
      clientOpen = pumpClient(client, protocol, events);
      apply(events);
      if (!clientOpen) {
        t.abort();
        return;
      }
    }
  }
  client.writeAll(protocol.finish(t.wait()));
}

}  // namespace berth::kubelet::streaming
