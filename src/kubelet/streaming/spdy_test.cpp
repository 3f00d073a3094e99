#include "kubelet/streaming/spdy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

namespace berth::kubelet::streaming {
namespace {

TEST(Spdy, DictionaryIsTheSpdy3One) {
  // The published dictionary's size and Adler-32 (what zlib stores as the dictionary id).
  const std::string& d = spdyDictionary();
  EXPECT_EQ(d.size(), 1423u);
  uLong adler = adler32(0L, Z_NULL, 0);
  adler = adler32(adler, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size()));
  EXPECT_EQ(adler, 0xe3c6a7c2u);
}

TEST(Spdy, HeaderBlocksShareOneCompressionContextPerDirection) {
  SpdyCodec sender, receiver;
  for (int i = 0; i < 20; ++i) {
    SpdyHeaders headers = {{"streamtype", i % 2 ? "data" : "error"},
                           {"port", std::to_string(8000 + i)},
                           {"requestid", std::to_string(i)}};
    // Decoding only works if each block continues the previous one's zlib stream.
    auto decoded = receiver.decompressHeaders(sender.compressHeaders(headers));
    ASSERT_TRUE(decoded) << i;
    EXPECT_EQ(*decoded, headers);
  }
}

TEST(Spdy, FramesRoundTripThroughTheDecoderInAnySplit) {
  SpdyCodec client, server;
  std::string wire = client.synStream(1, {{"streamtype", "stdout"}}) +
                     client.data(1, std::string(70000, 'z')) + client.data(1, "", true) +
                     client.ping(7) + client.rstStream(3, kSpdyRstCancel) + client.goAway(5);
  std::mt19937 rng(7);
  size_t pos = 0;
  std::vector<SpdyFrame> frames;
  while (pos < wire.size()) {
    size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 5000);
    server.feed(std::string_view(wire).substr(pos, n));
    pos += n;
    while (auto f = server.next()) frames.push_back(*f);
  }
  ASSERT_TRUE(server.error().empty()) << server.error();
  // 70000 bytes travel as 3 data frames (32 KiB each at most).
  ASSERT_EQ(frames.size(), 1u + 3u + 1u + 3u);
  EXPECT_EQ(frames[0].type, SpdyType::kSynStream);
  EXPECT_EQ(spdyHeader(frames[0].headers, "streamtype"), "stdout");
  std::string data;
  for (int i = 1; i <= 3; ++i) data += frames[i].data;
  EXPECT_EQ(data, std::string(70000, 'z'));
  EXPECT_TRUE(frames[4].fin());
  EXPECT_EQ(frames[5].type, SpdyType::kPing);
  EXPECT_EQ(frames[5].value, 7u);
  EXPECT_EQ(frames[6].type, SpdyType::kRstStream);
  EXPECT_EQ(frames[6].streamId, 3u);
  EXPECT_EQ(frames[7].type, SpdyType::kGoAway);
}

TEST(Spdy, GarbageIsAnErrorNotACrash) {
  std::mt19937 rng(1);
  for (int round = 0; round < 200; ++round) {
    SpdyCodec codec;
    std::string junk(1 + rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    // Make it look like a SYN_STREAM so the header decompressor sees garbage too.
    if (round % 2 == 0 && junk.size() > 8) {
      junk[0] = static_cast<char>(0x80);
      junk[1] = 3;
      junk[2] = 0;
      junk[3] = 1;
      size_t len = junk.size() - 8;
      junk[5] = 0;
      junk[6] = static_cast<char>(len >> 8);
      junk[7] = static_cast<char>(len);
    }
    codec.feed(junk);
    while (codec.next()) {
    }
  }
  SpdyCodec codec;
  codec.feed(std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8));
  EXPECT_FALSE(codec.next());
  EXPECT_EQ(codec.error(), "unsupported SPDY version");
}

}  // namespace
}  // namespace berth::kubelet::streaming
