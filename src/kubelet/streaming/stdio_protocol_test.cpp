#include "kubelet/streaming/stdio_protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/websocket.h"

namespace berth::kubelet::streaming {
namespace {

std::string clientMessage(uint8_t channel, std::string_view data) {
  std::string payload(1, static_cast<char>(channel));
  payload.append(data);
  return wsEncode(WsOpcode::kBinary, payload, /*mask=*/true);
}

std::vector<WsMessage> decodeServer(const std::string& bytes) {
  WsDecoder decoder(/*requireMask=*/false);
  decoder.feed(bytes);
  std::vector<WsMessage> out;
  while (auto m = decoder.next()) out.push_back(*m);
  return out;
}

TEST(StdioProtocol, NegotiatesTheFirstOfferedProtocolWeSpeak) {
  EXPECT_EQ(pickWsStdioProtocol("v5.channel.k8s.io, v4.channel.k8s.io"), "v5.channel.k8s.io");
  EXPECT_EQ(pickWsStdioProtocol("v9.channel.k8s.io,v4.channel.k8s.io"), "v4.channel.k8s.io");
  EXPECT_EQ(pickWsStdioProtocol("nope"), "");
  EXPECT_EQ(pickSpdyStdioProtocol("v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io"),
            "v4.channel.k8s.io");
}

TEST(StdioProtocol, WebSocketV5CarriesStdinResizeAndCloseStdin) {
  auto p = makeWsStdioProtocol("v5.channel.k8s.io");
  std::vector<StdioEvent> events;
  std::string reply;
  std::string wire = clientMessage(0, "input") + clientMessage(4, R"({"Width":120,"Height":40})") +
                     clientMessage(255, std::string(1, '\0')) +
                     wsEncode(WsOpcode::kPing, "hb", true);
  EXPECT_TRUE(p->onClientBytes(wire, events, reply));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "input");
  EXPECT_EQ(events[1].kind, StdioEvent::Kind::kResize);
  EXPECT_EQ(events[1].width, 120);
  EXPECT_EQ(events[1].height, 40);
  EXPECT_EQ(events[2].kind, StdioEvent::Kind::kStdinClosed);
  auto pong = decodeServer(reply);
  ASSERT_EQ(pong.size(), 1u);
  EXPECT_EQ(pong[0].opcode, WsOpcode::kPong);
  EXPECT_EQ(pong[0].payload, "hb");
}

TEST(StdioProtocol, V4ReportsTheExitCodeAsAStatusThenCloses) {
  auto p = makeWsStdioProtocol("v4.channel.k8s.io");
  auto out = decodeServer(p->output(2, "oops") + p->finish(StdioOutcome{3, ""}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].payload, std::string("\x02oops"));
  ASSERT_EQ(out[1].payload[0], 3);
  auto status = boost::json::parse(out[1].payload.substr(1)).as_object();
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  EXPECT_EQ(status["details"].at("causes").at(0).at("reason"), "ExitCode");
  EXPECT_EQ(status["details"].at("causes").at(0).at("message"), "3");
  EXPECT_EQ(out[2].opcode, WsOpcode::kClose);
  EXPECT_EQ(boost::json::parse(exitStatusJson({0, ""})).at("status"), "Success");
}

TEST(StdioProtocol, Base64ChannelsAreText) {
  auto p = makeWsStdioProtocol("base64.channel.k8s.io");
  auto out = decodeServer(p->output(1, "hi"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].opcode, WsOpcode::kText);
  EXPECT_EQ(out[0].payload, "1aGk=");
  // v1 protocols put the exit as text on the error channel.
  auto fin = decodeServer(p->finish({2, ""}));
  ASSERT_EQ(fin.size(), 2u);
  EXPECT_EQ(fin[0].payload[0], '3');
}

TEST(StdioProtocol, SpdyIsReadyOnceEveryExpectedStreamIsOpen) {
  StdioOptions options{true, true, true, false};
  auto p = makeSpdyStdioProtocol("v4.channel.k8s.io", options);
  SpdyCodec client;
  std::vector<StdioEvent> events;
  std::string reply;
  uint32_t id = 1;
  for (const char* type : {"error", "stdin", "stdout"}) {
    EXPECT_FALSE(p->ready());
    ASSERT_TRUE(p->onClientBytes(client.synStream(id, {{"streamtype", type}}), events, reply));
    id += 2;
  }
  EXPECT_FALSE(p->ready());  // stderr still missing
  ASSERT_TRUE(p->onClientBytes(client.synStream(7, {{"streamtype", "stderr"}}), events, reply));
  EXPECT_TRUE(p->ready());
  // Every stream was answered with a SYN_REPLY.
  client.feed(reply);
  int replies = 0;
  while (auto f = client.next()) replies += f->type == SpdyType::kSynReply;
  EXPECT_EQ(replies, 4);
  // stdin data, then its FIN.
  ASSERT_TRUE(p->onClientBytes(client.data(3, "abc") + client.data(3, "", true), events, reply));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "abc");
  EXPECT_EQ(events[1].kind, StdioEvent::Kind::kStdinClosed);
  // Output goes to the stdout stream; the status to the error stream, then GOAWAY.
  client.feed(p->output(1, "out") + p->finish({4, ""}));
  std::vector<SpdyFrame> frames;
  while (auto f = client.next()) frames.push_back(*f);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].streamId, 5u);
  EXPECT_EQ(frames[0].data, "out");
  bool sawStatus = false;
  for (const auto& f : frames) {
    if (f.type == SpdyType::kData && f.streamId == 1 && f.fin()) {
      sawStatus = true;
      EXPECT_NE(f.data.find("NonZeroExitCode"), std::string::npos);
    }
  }
  EXPECT_TRUE(sawStatus);
  EXPECT_EQ(frames.back().type, SpdyType::kGoAway);
}

}  // namespace
}  // namespace berth::kubelet::streaming
