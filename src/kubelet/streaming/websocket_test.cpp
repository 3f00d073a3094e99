#include "kubelet/streaming/websocket.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::kubelet::streaming {
namespace {

TEST(WebSocket, AcceptKeyIsTheRfcExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(wsAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, MaskedFramesOfEveryLengthClassRoundTrip) {
  for (size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(size, 'x');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
    WsDecoder decoder(/*requireMask=*/true);
    decoder.feed(wsEncode(WsOpcode::kBinary, payload, /*mask=*/true));
    auto m = decoder.next();
    ASSERT_TRUE(m) << size << " " << decoder.error();
    EXPECT_EQ(m->opcode, WsOpcode::kBinary);
    EXPECT_EQ(m->payload, payload);
    EXPECT_FALSE(decoder.next());
  }
}

TEST(WebSocket, DecodesWhateverWayTheBytesAreSplit) {
  std::string wire = wsEncode(WsOpcode::kText, "hello", true) +
                     wsEncode(WsOpcode::kPing, "p", true) +
                     wsEncode(WsOpcode::kBinary, std::string(300, 'b'), true);
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    WsDecoder decoder(true);
    std::vector<WsMessage> got;
    size_t pos = 0;
    while (pos < wire.size()) {
      size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 40);
      decoder.feed(std::string_view(wire).substr(pos, n));
      pos += n;
      while (auto m = decoder.next()) got.push_back(*m);
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].payload, "hello");
    EXPECT_EQ(got[1].opcode, WsOpcode::kPing);
    EXPECT_EQ(got[2].payload, std::string(300, 'b'));
  }
}

TEST(WebSocket, ReassemblesFragmentsAroundControlFrames) {
  // First fragment: text, FIN clear; then a ping; then the continuation with FIN.
  std::string first = wsEncode(WsOpcode::kText, "hel", true);
  first[0] = static_cast<char>(0x01);
  std::string wire =
      first + wsEncode(WsOpcode::kPing, "", true) + wsEncode(WsOpcode::kContinuation, "lo", true);
  WsDecoder decoder(true);
  decoder.feed(wire);
  auto ping = decoder.next();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, WsOpcode::kPing);
  auto text = decoder.next();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->opcode, WsOpcode::kText);
  EXPECT_EQ(text->payload, "hello");
}

TEST(WebSocket, ServerRejectsUnmaskedAndOversizedFrames) {
  WsDecoder unmasked(true);
  unmasked.feed(wsEncode(WsOpcode::kBinary, "x", /*mask=*/false));
  EXPECT_FALSE(unmasked.next());
  EXPECT_EQ(unmasked.error(), "client frame not masked");

  WsDecoder small(true, /*maxMessageBytes=*/10);
  small.feed(wsEncode(WsOpcode::kBinary, std::string(11, 'x'), true));
  EXPECT_FALSE(small.next());
  EXPECT_EQ(small.error(), "message too large");
}

TEST(WebSocket, CloseCodes) {
  EXPECT_EQ(wsCloseCode(wsClosePayload(1000, "bye")), 1000);
  EXPECT_EQ(wsCloseCode(""), 1005);
}

}  // namespace
}  // namespace berth::kubelet::streaming
