#include "kubelet/runtime/shim_frames.h"

#include <gtest/gtest.h>

namespace berth::kubelet::runtime {
namespace {

TEST(ShimFrames, EncodesStreamLengthAndPayload) {
  EXPECT_EQ(encodeAttachFrame(kAttachResize, "ab"), std::string("\x03\0\0\0\x02"
                                                                "ab",
                                                                7));
  EXPECT_EQ(encodeAttachFrame(kAttachStdinEnded, ""), std::string("\x04\0\0\0\0", 5));
}

TEST(ShimFrames, DecodesFramesSplitAcrossReads) {
  std::string wire = encodeAttachFrame(kAttachStdin, "echo hi\r") +
                     encodeAttachFrame(kAttachResize, R"({"Width":100,"Height":30})") +
                     encodeAttachFrame(kAttachStdinEnded, "");
  AttachFrameDecoder d;
  std::vector<AttachFrame> got;
  for (char c : wire) {  // one byte at a time: every boundary is a split
    d.feed(std::string_view(&c, 1));
    while (auto f = d.next()) got.push_back(*f);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].stream, kAttachStdin);
  EXPECT_EQ(got[0].payload, "echo hi\r");
  EXPECT_EQ(got[1].stream, kAttachResize);
  EXPECT_EQ(got[2].stream, kAttachStdinEnded);
  EXPECT_EQ(got[2].payload, "");
  EXPECT_FALSE(d.broken());
}

TEST(ShimFrames, AnOversizedFrameBreaksTheStream) {
  AttachFrameDecoder d;
  d.feed(std::string("\x00\x7f\xff\xff\xff", 5));
  EXPECT_FALSE(d.next());
  EXPECT_TRUE(d.broken());
}

TEST(ShimFrames, ParsesResizePayloads) {
  auto ws = parseWindowSize(R"({"Width":132,"Height":43})");
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->width, 132);
  EXPECT_EQ(ws->height, 43);
  EXPECT_FALSE(parseWindowSize(R"({"Width":0,"Height":43})"));      // a zero size is no size
  EXPECT_FALSE(parseWindowSize(R"({"Width":70000,"Height":43})"));  // beyond a winsize field
  EXPECT_FALSE(parseWindowSize(R"({"Width":"80","Height":24})"));
  EXPECT_FALSE(parseWindowSize(R"({"Width":80})"));
  EXPECT_FALSE(parseWindowSize("not json"));
}

}  // namespace
}  // namespace berth::kubelet::runtime
