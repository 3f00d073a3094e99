#include "kubelet/streaming/streaming_server.h"

#include <algorithm>
#include <charconv>

#include "apiserver/http/server.h"
#include "kubelet/streaming/container_logs.h"
#include "kubelet/streaming/port_forward.h"
#include "kubelet/streaming/stdio_protocol.h"
#include "kubelet/streaming/stdio_session.h"
#include "kubelet/streaming/stdio_targets.h"
#include "kubelet/streaming/websocket.h"

namespace berth::kubelet::streaming {

namespace http = apiserver::http;
using core::Status;

namespace {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool queryBool(const http::Request& req, const char* key) {
  if (!req.hasQueryParam(key)) return false;
  std::string v = req.queryParam(key);
  return v == "1" || v == "true" || v == "True" || v == "TRUE" || v == "t" || v == "T";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

enum class Upgrade { kNone, kWebSocket, kSpdy };

Upgrade upgradeOf(const http::Request& req) {
  if (!req.isUpgrade()) return Upgrade::kNone;
  std::string up = lower(req.header("upgrade"));
  if (up == "websocket") return Upgrade::kWebSocket;
  if (up.rfind("spdy/3.1", 0) == 0) return Upgrade::kSpdy;
  return Upgrade::kNone;
}

// Answers a WebSocket handshake with `protocol`; nullptr if the connection is gone.
http::RawStream* acceptWebSocket(const http::Request& req, http::ResponseWriter& w,
                                 const std::string& protocol) {
  w.addHeader("Upgrade", "websocket");
  w.addHeader("Connection", "Upgrade");
  w.addHeader("Sec-WebSocket-Accept", wsAcceptKey(req.header("sec-websocket-key")));
  if (!protocol.empty()) w.addHeader("Sec-WebSocket-Protocol", protocol);
  return w.switchProtocols();
}

http::RawStream* acceptSpdy(http::ResponseWriter& w, const std::string& version) {
  w.addHeader("Connection", "Upgrade");
  w.addHeader("Upgrade", "SPDY/3.1");
  if (!version.empty()) w.addHeader("X-Stream-Protocol-Version", version);
  return w.switchProtocols();
}

Status negotiationFailure(const std::string& offered, const char* supported) {
  return Status::forbidden("unable to upgrade: unable to negotiate protocol: client supports [" +
                           offered + "], server supports [" + supported + "]");
}

}  // namespace

class StreamingServer::Impl {
 public:
  Impl(StreamingServerConfig config, ContainerLocator& locator)
      : config_(std::move(config)), locator_(locator) {}

  Status start() {
    http::ServerConfig hc;
    hc.bindAddress = config_.bindAddress;
    hc.port = config_.port;
    hc.certFile = config_.certFile;
    hc.keyFile = config_.keyFile;
    hc.clientCaFile = config_.clientCaFile;
    // A streaming session is bounded by its client, not by the server: kubectl exec -it can sit
    // idle for hours.
    hc.writeTimeoutSeconds = 300;
    server_ = std::make_unique<http::Server>(
        hc, nullptr, [this](http::Request& req, http::ResponseWriter& w) { handle(req, w); });
    return server_->start();
  }

  void stop() {
    if (server_) server_->stop();
  }
  uint16_t port() const { return server_ ? server_->port() : 0; }

 private:
  void handle(http::Request& req, http::ResponseWriter& w) {
    if (req.user.anonymous()) {
      sendStatus(w, Status::unauthorized());
      return;
    }
    if (std::find(config_.allowedUsers.begin(), config_.allowedUsers.end(), req.user.name) ==
        config_.allowedUsers.end()) {
      sendStatus(w, Status::forbidden("user \"" + req.user.name +
                                      "\" may not use the kubelet's streaming API"));
      return;
    }
    if (auto it = config_.endpoints.find(req.path); it != config_.endpoints.end()) {
      serveEndpoint(req, w, it->second);
      return;
    }
    auto segs = splitPath(req.path);
    if (segs.empty()) {
      sendStatus(w, Status::notFound("", ""));
      return;
    }
    const std::string& verb = segs[0];
    // {ns}/{pod}/{container} or {ns}/{pod}/{uid}/{container}; portForward: {ns}/{pod}[/{uid}].
    bool portForward = verb == "portForward";
    size_t want = portForward ? 3 : 4;
    if (segs.size() != want && segs.size() != want + 1) {
      sendStatus(w, Status::notFound("", req.path));
      return;
    }
    const std::string& ns = segs[1];
    const std::string& pod = segs[2];
    std::string container = portForward ? "" : segs.back();
    if (verb == "containerLogs") {
      if (req.method != "GET") {
        sendStatus(w, Status::methodNotSupported("containerLogs supports GET only"));
        return;
      }
      serveContainerLogs(req, w, locator_, ns, pod, container);
    } else if (verb == "exec" || verb == "attach") {
      serveStdio(req, w, verb == "exec", ns, pod, container);
    } else if (portForward) {
      servePortForward(req, w, ns, pod);
    } else {
      sendStatus(w, Status::notFound("", req.path));
    }
  }

  static void serveEndpoint(http::Request& req, http::ResponseWriter& w,
                            const StreamingServerConfig::Endpoint& endpoint) {
    if (req.method != "GET" && req.method != "HEAD") {
      sendStatus(w, Status::methodNotSupported(req.path + " supports GET only"));
      return;
    }
    auto body = endpoint.body();
    if (!body.ok()) {
      sendStatus(w, body.status());
      return;
    }
    w.send(200, endpoint.contentType, *body);
  }

  void serveStdio(http::Request& req, http::ResponseWriter& w, bool exec, const std::string& ns,
                  const std::string& pod, const std::string& container) {
    StdioOptions options{queryBool(req, "stdin"), queryBool(req, "stdout"),
                         queryBool(req, "stderr"), queryBool(req, "tty")};
    // Upstream: a TTY merges stderr into stdout.
    if (options.tty) options.stderr = false;
    if (!options.stdin && !options.stdout && !options.stderr) {
      sendStatus(w, Status::badRequest("you must specify at least 1 of stdin, stdout, stderr"));
      return;
    }
    std::vector<std::string> command;
    for (auto [it, end] = req.query.equal_range("command"); it != end; ++it)
      command.push_back(it->second);
    if (exec && command.empty()) {
      sendStatus(w, Status::badRequest("you must specify at least one command for the container"));
      return;
    }
    auto info = locator_.find(ns, pod, container);
    if (!info) {
      sendStatus(w, Status::notFound("pods", pod));
      return;
    }
    if (info->pid == 0) {
      sendStatus(w, Status::badRequest("container " + container + " is not running"));
      return;
    }
    std::unique_ptr<StdioProtocol> protocol;
    http::RawStream* raw = nullptr;
    switch (upgradeOf(req)) {
      case Upgrade::kWebSocket: {
        std::string offered = req.header("sec-websocket-protocol");
        std::string chosen = pickWsStdioProtocol(offered);
        // No subprotocol at all is upstream's plain channel protocol.
        if (chosen.empty() && !offered.empty()) {
          sendStatus(w, negotiationFailure(offered,
                                           "v5.channel.k8s.io, v4.channel.k8s.io, "
                                           "channel.k8s.io, base64.channel.k8s.io"));
          return;
        }
        protocol = makeWsStdioProtocol(chosen.empty() ? "channel.k8s.io" : chosen);
        raw = acceptWebSocket(req, w, chosen);
        break;
      }
      case Upgrade::kSpdy: {
        std::string offered = req.header("x-stream-protocol-version");
        std::string chosen = pickSpdyStdioProtocol(offered);
        if (chosen.empty()) {
          sendStatus(w, negotiationFailure(offered,
                                           "v4.channel.k8s.io, v3.channel.k8s.io, "
                                           "v2.channel.k8s.io, channel.k8s.io"));
          return;
        }
        protocol = makeSpdyStdioProtocol(chosen, options);
        raw = acceptSpdy(w, chosen);
        break;
      }
      case Upgrade::kNone:
        sendStatus(w, Status::badRequest("Upgrade request required"));
        return;
    }
    if (raw == nullptr) return;
    ContainerInfo c = *info;
    runStdioSession(*raw, *protocol, [&]() -> core::Result<std::unique_ptr<StdioTarget>> {
      if (exec) return startRuncExec(c, command, options, config_.runcBinary, config_.scratchDir);
      return connectAttach(c, options);
    });
  }

  void servePortForward(http::Request& req, http::ResponseWriter& w, const std::string& ns,
                        const std::string& pod) {
    auto netns = locator_.podNetns(ns, pod);
    if (!netns) {
      sendStatus(w, Status::notFound("pods", pod));
      return;
    }
    switch (upgradeOf(req)) {
      case Upgrade::kSpdy: {
        std::string offered = req.header("x-stream-protocol-version");
        if (offered.find("portforward.k8s.io") == std::string::npos) {
          sendStatus(w, negotiationFailure(offered, "portforward.k8s.io"));
          return;
        }
        if (auto* raw = acceptSpdy(w, "portforward.k8s.io"))
          runSpdyPortForward(*raw, *netns, /*overWebSocket=*/false);
        return;
      }
      case Upgrade::kWebSocket: {
        std::string offered = req.header("sec-websocket-protocol");
        if (offered.find("SPDY/3.1+portforward.k8s.io") != std::string::npos) {
          if (auto* raw = acceptWebSocket(req, w, "SPDY/3.1+portforward.k8s.io"))
            runSpdyPortForward(*raw, *netns, /*overWebSocket=*/true);
          return;
        }
        std::vector<uint16_t> ports;
        for (auto [it, end] = req.query.equal_range("ports"); it != end; ++it) {
          for (const auto& item : splitPath(it->second + "/")) {
            size_t start = 0;
            while (start <= item.size()) {
              size_t comma = item.find(',', start);
              std::string p =
                  item.substr(start, comma == std::string::npos ? item.npos : comma - start);
              int port = 0;
              auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
              if (ec != std::errc() || ptr != p.data() + p.size() || port < 1 || port > 65535) {
                sendStatus(w, Status::badRequest("invalid port \"" + p + "\""));
                return;
              }
              ports.push_back(static_cast<uint16_t>(port));
              if (comma == std::string::npos) break;
              start = comma + 1;
            }
          }
        }
        if (ports.empty()) {
          sendStatus(w, Status::badRequest("query parameter \"ports\" is required"));
          return;
        }
        bool base64 = offered.find("base64.channel.k8s.io") != std::string::npos &&
                      offered.find("v4.channel.k8s.io") == std::string::npos;
        std::string chosen =
            base64                                                    ? "base64.channel.k8s.io"
            : offered.find("v4.channel.k8s.io") != std::string::npos  ? "v4.channel.k8s.io"
            : offered.find("portforward.k8s.io") != std::string::npos ? "portforward.k8s.io"
                                                                      : "";
        if (auto* raw = acceptWebSocket(req, w, chosen))
          runWsPortForward(*raw, *netns, ports, base64);
        return;
      }
      case Upgrade::kNone:
        sendStatus(w, Status::badRequest("Upgrade request required"));
        return;
    }
  }

  StreamingServerConfig config_;
  ContainerLocator& locator_;
  std::unique_ptr<http::Server> server_;
};

StreamingServer::StreamingServer(StreamingServerConfig config, ContainerLocator& locator)
    : impl_(std::make_unique<Impl>(std::move(config), locator)) {}
StreamingServer::~StreamingServer() { stop(); }
core::Status StreamingServer::start() { return impl_->start(); }
void StreamingServer::stop() { impl_->stop(); }
uint16_t StreamingServer::port() const { return impl_->port(); }

}  // namespace berth::kubelet::streaming
