#include "kubelet/streaming/port_forward.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "core/base64.h"
#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/websocket.h"

namespace berth::kubelet::streaming {

core::Result<int> dialInNetns(const std::string& netnsPath, uint16_t port) {
  int fd = -1;
  std::string error;
  std::thread dialer([&] {
    if (!netnsPath.empty()) {
      int ns = ::open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
        error = "cannot enter network namespace " + netnsPath + ": " + std::strerror(errno);
        if (ns >= 0) ::close(ns);
        return;
      }
      ::close(ns);
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      error = std::string(std::strerror(errno));
      ::close(fd);
      fd = -1;
    }
  });
  dialer.join();
  if (fd < 0) return core::Status::internal(error);
  return fd;
}

namespace {

using apiserver::http::RawStream;

// The client's bytes, read without blocking past what poll said; false when it is gone.
bool readClient(RawStream& client, std::string* out) {
  char buf[32768];
  size_t n = client.readSome(buf, sizeof(buf));
  if (n == 0) return false;
  out->assign(buf, n);
  return true;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Pair {
  uint32_t errorId = 0, dataId = 0;
  uint16_t port = 0;
  int fd = -1;
  bool done = false;
};

class SpdyForwarder {
 public:
  SpdyForwarder(RawStream& client, std::string netns, bool overWs)
      : client_(client), netns_(std::move(netns)), overWs_(overWs), ws_(true) {}

  ~SpdyForwarder() {
    for (auto& [id, p] : pairs_)
      if (p.fd >= 0) ::close(p.fd);
  }

  void run() {
    for (;;) {
      std::vector<pollfd> polled;
      bool clientReady = client_.inputPending();
      if (!clientReady) polled.push_back({client_.pollFd(), POLLIN, 0});
      for (auto& [id, p] : pairs_)
        if (p.fd >= 0) polled.push_back({p.fd, POLLIN, 0});
      if (::poll(polled.data(), polled.size(), clientReady ? 0 : -1) < 0 && errno != EINTR) return;
      for (const auto& pfd : polled) {
        if (pfd.revents == 0) continue;
        if (pfd.fd == client_.pollFd()) {
          clientReady = true;
        } else if (!relayFromPod(pfd.fd)) {
          return;
        }
      }
      if (clientReady) {
        std::string bytes;
        if (!readClient(client_, &bytes) || !onClientBytes(bytes)) return;
      }
    }
  }

 private:
  bool send(const std::string& spdyBytes) {
    if (spdyBytes.empty()) return true;
    return client_.writeAll(overWs_ ? wsEncode(WsOpcode::kBinary, spdyBytes) : spdyBytes);
  }

  bool onClientBytes(const std::string& bytes) {
    if (!overWs_) return feedSpdy(bytes);
    ws_.feed(bytes);
    while (auto m = ws_.next()) {
      if (m->opcode == WsOpcode::kPing) {
        if (!client_.writeAll(wsEncode(WsOpcode::kPong, m->payload))) return false;
      } else if (m->opcode == WsOpcode::kClose) {
        client_.writeAll(wsEncode(WsOpcode::kClose, wsClosePayload(1000)));
        return false;
      } else if (m->opcode == WsOpcode::kBinary || m->opcode == WsOpcode::kText) {
        if (!feedSpdy(m->payload)) return false;
      }
    }
    return ws_.error().empty();
  }

  bool feedSpdy(const std::string& bytes) {
    codec_.feed(bytes);
    while (auto f = codec_.next()) {
      switch (f->type) {
        case SpdyType::kSynStream:
          if (!onSynStream(*f)) return false;
          break;
        case SpdyType::kData: {
          auto it = streams_.find(f->streamId);
          if (it == streams_.end()) break;
          Pair& p = pairs_[it->second];
          if (f->streamId == p.dataId && p.fd >= 0) {
            if (!f->data.empty() && !sendAll(p.fd, f->data)) closePair(it->second);
            if (f->fin() && p.fd >= 0) ::shutdown(p.fd, SHUT_WR);
          }
          break;
        }
        case SpdyType::kRstStream: {
          auto it = streams_.find(f->streamId);
          if (it != streams_.end()) {
            Pair& p = pairs_[it->second];
            if (p.fd >= 0) ::close(p.fd);
            p.fd = -1;
            p.done = true;
          }
          break;
        }
        case SpdyType::kPing:
          if (!send(codec_.ping(f->value))) return false;
          break;
        case SpdyType::kGoAway:
          return false;
        default:
          break;
      }
    }
    return codec_.error().empty();
  }

  bool onSynStream(const SpdyFrame& f) {
    if (!send(codec_.synReply(f.streamId, {}))) return false;
    std::string type = spdyHeader(f.headers, "streamtype");
    std::string requestId = spdyHeader(f.headers, "requestid");
    // Clients before requestID paired streams by id: data = error + 2.
    if (requestId.empty()) requestId = std::to_string(type == "data" ? f.streamId - 2 : f.streamId);
    Pair& p = pairs_[requestId];
    streams_[f.streamId] = requestId;
    std::string portText = spdyHeader(f.headers, "port");
    int port = std::atoi(portText.c_str());
    if (type == "error") {
      p.errorId = f.streamId;
    } else if (type == "data") {
      p.dataId = f.streamId;
    } else {
      return send(codec_.rstStream(f.streamId, kSpdyRstProtocolError));
    }
    if (port <= 0 || port > 65535) {
      return fail(requestId, "invalid port \"" + portText + "\"");
    }
    p.port = static_cast<uint16_t>(port);
    if (p.dataId != 0 && p.errorId != 0 && p.fd < 0 && !p.done) {
      auto fd = dialInNetns(netns_, p.port);
      if (!fd.ok()) {
        return fail(requestId,
                    "error forwarding port " + std::to_string(port) +
                        " to pod: failed to connect to localhost:" + std::to_string(port) +
                        " inside namespace: " + fd.status().message());
      }
      p.fd = *fd;
    }
    return true;
  }

  // Reports a failure on the pair's error stream and ends the pair.
  bool fail(const std::string& requestId, const std::string& message) {
    Pair& p = pairs_[requestId];
    if (p.errorId == 0) return true;  // reported once the error stream exists
    bool ok = send(codec_.data(p.errorId, message, /*fin=*/true));
    if (p.dataId != 0) ok = ok && send(codec_.data(p.dataId, {}, /*fin=*/true));
    p.done = true;
    return ok;
  }

  bool relayFromPod(int fd) {
    for (auto& [id, p] : pairs_) {
      if (p.fd != fd) continue;
      char buf[32768];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) return true;
      if (n > 0) return send(codec_.data(p.dataId, std::string_view(buf, static_cast<size_t>(n))));
      return closePair(id);
    }
    return true;
  }

  bool closePair(const std::string& id) {
    Pair& p = pairs_[id];
    if (p.fd >= 0) ::close(p.fd);
    p.fd = -1;
    p.done = true;
    return send(codec_.data(p.dataId, {}, true)) && send(codec_.data(p.errorId, {}, true));
  }

  RawStream& client_;
  std::string netns_;
  bool overWs_;
  WsDecoder ws_;
  SpdyCodec codec_;
  std::map<std::string, Pair> pairs_;
  std::map<uint32_t, std::string> streams_;
};

}  // namespace

void runSpdyPortForward(RawStream& client, const std::string& netnsPath, bool overWebSocket) {
  SpdyForwarder(client, netnsPath, overWebSocket).run();
}

void runWsPortForward(RawStream& client, const std::string& netnsPath,
                      const std::vector<uint16_t>& ports, bool base64) {
  auto frame = [&](size_t channel, std::string_view data) {
    if (base64) {
      return wsEncode(WsOpcode::kText,
                      std::string(1, static_cast<char>('0' + channel)) + core::base64Encode(data));
    }
    std::string payload(1, static_cast<char>(channel));
    payload.append(data);
    return wsEncode(WsOpcode::kBinary, payload);
  };
  std::vector<int> fds(ports.size(), -1);
  std::string opening;
  for (size_t i = 0; i < ports.size(); ++i) {
    char portBytes[2] = {static_cast<char>(ports[i] & 0xff), static_cast<char>(ports[i] >> 8)};
    opening += frame(2 * i, std::string_view(portBytes, 2));
    opening += frame(2 * i + 1, std::string_view(portBytes, 2));
  }
  if (!client.writeAll(opening)) return;
  for (size_t i = 0; i < ports.size(); ++i) {
    auto fd = dialInNetns(netnsPath, ports[i]);
    if (fd.ok()) {
      fds[i] = *fd;
    } else if (!client.writeAll(frame(2 * i + 1, "error forwarding port " +
                                                     std::to_string(ports[i]) + ": " +
                                                     fd.status().message()))) {
      return;
    }
  }
  WsDecoder decoder(true);
  auto closeAll = [&] {
    for (int& fd : fds)
      if (fd >= 0) ::close(fd), fd = -1;
  };
  for (;;) {
    std::vector<pollfd> polled;
    bool clientReady = client.inputPending();
    if (!clientReady) polled.push_back({client.pollFd(), POLLIN, 0});
    size_t open = 0;
    for (int fd : fds)
      if (fd >= 0) polled.push_back({fd, POLLIN, 0}), ++open;
    if (open == 0) break;
    if (::poll(polled.data(), polled.size(), clientReady ? 0 : -1) < 0 && errno != EINTR) break;
    for (const auto& pfd : polled) {
      if (pfd.revents == 0) continue;
      if (pfd.fd == client.pollFd()) {
        clientReady = true;
        continue;
      }
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i] != pfd.fd) continue;
        char buf[32768];
        ssize_t n = ::recv(fds[i], buf, sizeof(buf), 0);
        if (n > 0) {
          if (!client.writeAll(frame(2 * i, std::string_view(buf, static_cast<size_t>(n))))) {
            closeAll();
            return;
          }
        } else if (n == 0 || errno != EINTR) {
          ::close(fds[i]);
          fds[i] = -1;
        }
      }
    }
    if (!clientReady) continue;
    std::string bytes;
    if (!readClient(client, &bytes)) break;
    decoder.feed(bytes);
    while (auto m = decoder.next()) {
      if (m->opcode == WsOpcode::kPing) {
        client.writeAll(wsEncode(WsOpcode::kPong, m->payload));
        continue;
      }
      if (m->opcode == WsOpcode::kClose) {
        client.writeAll(wsEncode(WsOpcode::kClose, wsClosePayload(1000)));
        closeAll();
        return;
      }
      std::string data = std::move(m->payload);
      if (base64 && !data.empty()) {
        auto decoded = core::base64Decode(std::string_view(data).substr(1));
        data = std::string(1, static_cast<char>(data[0] - '0')) + decoded.value_or("");
      }
      if (data.empty()) continue;
      size_t channel = static_cast<uint8_t>(data[0]);
      if (channel % 2 == 0 && channel / 2 < fds.size() && fds[channel / 2] >= 0 && data.size() > 1)
        sendAll(fds[channel / 2], std::string_view(data).substr(1));
    }
    if (!decoder.error().empty()) break;
  }
  closeAll();
  client.writeAll(wsEncode(WsOpcode::kClose, wsClosePayload(1000)));
}

}  // namespace berth::kubelet::streaming
