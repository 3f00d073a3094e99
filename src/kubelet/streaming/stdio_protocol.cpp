#include "kubelet/streaming/stdio_protocol.h"

#include <boost/json.hpp>

#include <map>

#include "core/base64.h"
#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/websocket.h"

namespace berth::kubelet::streaming {
namespace json = boost::json;
namespace {

constexpr uint8_t kStdinChannel = 0, kErrorChannel = 3, kResizeChannel = 4, kCloseChannel = 255;

std::vector<std::string> splitList(std::string_view offered) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= offered.size()) {
    size_t comma = offered.find(',', pos);
    std::string_view item = offered.substr(pos, comma == offered.npos ? offered.npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == offered.npos) break;
    pos = comma + 1;
  }
  return out;
}

bool parseResize(std::string_view text, uint16_t* width, uint16_t* height) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  auto dim = [&](const char* key) -> uint16_t {
    const json::value* f = o.if_contains(key);
    if (f == nullptr) return 0;
    if (f->is_int64()) return static_cast<uint16_t>(f->as_int64());
    if (f->is_uint64()) return static_cast<uint16_t>(f->as_uint64());
    return 0;
  };
  *width = dim("Width");
  *height = dim("Height");
  return true;
}

// Text the pre-v4 protocols put on the error channel.
std::string exitText(const StdioOutcome& outcome) {
  if (!outcome.error.empty()) return outcome.error;
  if (outcome.exitCode == 0) return "";
  return "command terminated with non-zero exit code: exit status " +
         std::to_string(outcome.exitCode);
}

class WsStdio final : public StdioProtocol {
 public:
  explicit WsStdio(const std::string& protocol)
      : base64_(protocol == "base64.channel.k8s.io"),
        statusJson_(protocol == "v4.channel.k8s.io" || protocol == "v5.channel.k8s.io"),
        canCloseStdin_(protocol == "v5.channel.k8s.io"),
        decoder_(/*requireMask=*/true) {}

  bool onClientBytes(std::string_view bytes, std::vector<StdioEvent>& events,
                     std::string& reply) override {
    decoder_.feed(bytes);
    while (auto message = decoder_.next()) {
      switch (message->opcode) {
        case WsOpcode::kPing:
          reply += wsEncode(WsOpcode::kPong, message->payload);
          continue;
        case WsOpcode::kPong:
          continue;
        case WsOpcode::kClose:
          reply += wsEncode(WsOpcode::kClose, wsClosePayload(1000));
          return false;
        default:
          break;
      }
      std::string data = std::move(message->payload);
      if (base64_) {
        if (data.empty()) continue;
        uint8_t channel = static_cast<uint8_t>(data[0] - '0');
        auto decoded = core::base64Decode(std::string_view(data).substr(1));
        if (!decoded) return false;
        data = std::string(1, static_cast<char>(channel)) + *decoded;
      }
      if (data.empty()) continue;
      auto channel = static_cast<uint8_t>(data[0]);
      std::string_view payload = std::string_view(data).substr(1);
      if (channel == kStdinChannel) {
        if (!payload.empty())
          events.push_back({StdioEvent::Kind::kStdin, std::string(payload), 0, 0});
      } else if (channel == kResizeChannel) {
        StdioEvent e{StdioEvent::Kind::kResize, {}, 0, 0};
        if (parseResize(payload, &e.width, &e.height)) events.push_back(std::move(e));
      } else if (channel == kCloseChannel && canCloseStdin_ && !payload.empty() &&
                 static_cast<uint8_t>(payload[0]) == kStdinChannel) {
        events.push_back({StdioEvent::Kind::kStdinClosed, {}, 0, 0});
      }
    }
    return decoder_.error().empty();
  }

  bool ready() const override { return true; }

  std::string output(int stream, std::string_view data) override {
    return frame(static_cast<uint8_t>(stream), data);
  }

  std::string finish(const StdioOutcome& outcome) override {
    std::string status = statusJson_ ? exitStatusJson(outcome) : exitText(outcome);
    std::string out;
    if (!status.empty()) out = frame(kErrorChannel, status);
    out += wsEncode(WsOpcode::kClose, wsClosePayload(1000));
    return out;
  }

 private:
  std::string frame(uint8_t channel, std::string_view data) {
    if (base64_) {
      return wsEncode(WsOpcode::kText,
                      std::string(1, static_cast<char>('0' + channel)) + core::base64Encode(data));
    }
    std::string payload(1, static_cast<char>(channel));
    payload.append(data);
    return wsEncode(WsOpcode::kBinary, payload);
  }

  bool base64_;
  bool statusJson_;
  bool canCloseStdin_;
  WsDecoder decoder_;
};

class SpdyStdio final : public StdioProtocol {
 public:
  SpdyStdio(const std::string& version, const StdioOptions& options)
      : statusJson_(version == "v4.channel.k8s.io" || version == "v5.channel.k8s.io") {
    expected_ = {"error"};
    if (options.stdin) expected_.push_back("stdin");
    if (options.stdout) expected_.push_back("stdout");
    if (options.stderr && !options.tty) expected_.push_back("stderr");
    // Resize streams came with v3; v2 and v1 clients never open one.
    if (options.tty && version != "channel.k8s.io" && version != "v2.channel.k8s.io")
      expected_.push_back("resize");
  }

  bool onClientBytes(std::string_view bytes, std::vector<StdioEvent>& events,
                     std::string& reply) override {
    codec_.feed(bytes);
    while (auto frame = codec_.next()) {
      switch (frame->type) {
        case SpdyType::kSynStream: {
          std::string type = spdyHeader(frame->headers, "streamtype");
          streams_[type] = frame->streamId;
          byId_[frame->streamId] = type;
          reply += codec_.synReply(frame->streamId, {});
          if (frame->fin()) onFin(type, events);
          break;
        }
        case SpdyType::kData: {
          auto it = byId_.find(frame->streamId);
          if (it == byId_.end()) break;
          if (it->second == "stdin" && !frame->data.empty()) {
            events.push_back({StdioEvent::Kind::kStdin, frame->data, 0, 0});
          } else if (it->second == "resize") {
            resizeBuffer_ += frame->data;
            takeResizes(events);
          }
          if (frame->fin()) onFin(it->second, events);
          break;
        }
        case SpdyType::kRstStream: {
          auto it = byId_.find(frame->streamId);
          if (it != byId_.end()) onFin(it->second, events);
          break;
        }
        case SpdyType::kPing:
          reply += codec_.ping(frame->value);
          break;
        case SpdyType::kGoAway:
          return false;
        default:
          break;
      }
    }
    return codec_.error().empty();
  }

  bool ready() const override {
    for (const auto& type : expected_)
      if (!streams_.count(type)) return false;
    return true;
  }

  std::string output(int stream, std::string_view data) override {
    auto it = streams_.find(stream == 1 ? "stdout" : "stderr");
    if (it == streams_.end() || data.empty()) return {};
    return codec_.data(it->second, data);
  }

  std::string finish(const StdioOutcome& outcome) override {
    std::string out;
    std::string status = statusJson_ ? exitStatusJson(outcome) : exitText(outcome);
    for (const char* type : {"stdout", "stderr"}) {
      auto it = streams_.find(type);
      if (it != streams_.end()) out += codec_.data(it->second, {}, /*fin=*/true);
    }
    auto error = streams_.find("error");
    if (error != streams_.end()) out += codec_.data(error->second, status, /*fin=*/true);
    uint32_t last = byId_.empty() ? 0 : byId_.rbegin()->first;
    out += codec_.goAway(last);
    return out;
  }

 private:
  void onFin(const std::string& type, std::vector<StdioEvent>& events) {
    if (type == "stdin" && !stdinClosed_) {
      stdinClosed_ = true;
      events.push_back({StdioEvent::Kind::kStdinClosed, {}, 0, 0});
    }
  }
  // The resize stream carries a sequence of JSON objects ({"Width":80,"Height":24}).
  void takeResizes(std::vector<StdioEvent>& events) {
    size_t end;
    while ((end = resizeBuffer_.find('}')) != std::string::npos) {
      StdioEvent e{StdioEvent::Kind::kResize, {}, 0, 0};
      if (parseResize(std::string_view(resizeBuffer_).substr(0, end + 1), &e.width, &e.height))
        events.push_back(std::move(e));
      resizeBuffer_.erase(0, end + 1);
    }
  }

  bool statusJson_;
  SpdyCodec codec_;
  std::vector<std::string> expected_;
  std::map<std::string, uint32_t> streams_;
  std::map<uint32_t, std::string> byId_;
  std::string resizeBuffer_;
  bool stdinClosed_ = false;
};

}  // namespace

std::string exitStatusJson(const StdioOutcome& outcome) {
  json::object status{{"metadata", json::object()}};
  if (outcome.error.empty() && outcome.exitCode == 0) {
    status["status"] = "Success";
  } else if (outcome.error.empty()) {
    status["status"] = "Failure";
    status["message"] = "command terminated with non-zero exit code: exit status " +
                        std::to_string(outcome.exitCode);
    status["reason"] = "NonZeroExitCode";
    status["details"] = json::object{
        {"causes", json::array{json::object{{"reason", "ExitCode"},
                                            {"message", std::to_string(outcome.exitCode)}}}}};
  } else {
    status["status"] = "Failure";
    status["message"] = outcome.error;
    status["reason"] = "InternalError";
    status["code"] = 500;
    status["details"] =
        json::object{{"causes", json::array{json::object{{"message", outcome.error}}}}};
  }
  return json::serialize(status);
}

std::unique_ptr<StdioProtocol> makeWsStdioProtocol(const std::string& subprotocol) {
  return std::make_unique<WsStdio>(subprotocol);
}

std::string pickWsStdioProtocol(std::string_view offered) {
  for (const auto& p : splitList(offered)) {
    if (p == "v5.channel.k8s.io" || p == "v4.channel.k8s.io" || p == "channel.k8s.io" ||
        p == "base64.channel.k8s.io")
      return p;
  }
  return "";
}

std::unique_ptr<StdioProtocol> makeSpdyStdioProtocol(const std::string& version,
                                                     const StdioOptions& options) {
  return std::make_unique<SpdyStdio>(version, options);
}

std::string pickSpdyStdioProtocol(std::string_view offered) {
  // Upstream's kubelet prefers the client's order among those it supports; v5 is WebSocket-only.
  for (const auto& p : splitList(offered)) {
    if (p == "v4.channel.k8s.io" || p == "v3.channel.k8s.io" || p == "v2.channel.k8s.io" ||
        p == "channel.k8s.io")
      return p;
  }
  return "";
}

}  // namespace berth::kubelet::streaming
