#include "simulate/watch_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::simulate {
namespace {

std::vector<std::string> decodeInPieces(bool chunked, const std::string& wire, size_t piece,
                                        bool* ended, bool* ok) {
  WatchStreamDecoder d(chunked);
  std::vector<std::string> lines;
  *ok = true;
  for (size_t i = 0; i < wire.size() && *ok; i += piece) {
    auto st = d.feed(std::string_view(wire).substr(i, piece),
                     [&](std::string_view l) { lines.emplace_back(l); });
    *ok = st.ok();
  }
  *ended = d.ended();
  return lines;
}

TEST(WatchStreamDecoder, ChunkedLinesAcrossChunkAndReadBoundaries) {
  // Line one is split over two chunks, line two shares a chunk with the start of line three.
  std::string wire =
      "5\r\n{\"a\":\r\n2\r\n1}\r\n"
      "d\r\n\n{\"b\":2}\n{\"c\"\r\n"
      "4\r\n:3}\n\r\n"
      "0\r\n\r\n";
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    bool ended = false, ok = false;
    auto lines = decodeInPieces(true, wire, piece, &ended, &ok);
    EXPECT_TRUE(ok) << piece;
    EXPECT_TRUE(ended) << piece;
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"})) << piece;
  }
}

TEST(WatchStreamDecoder, UnchunkedBodyAndMalformedSizes) {
  bool ended = true, ok = false;
  auto lines = decodeInPieces(false, "{\"x\":1}\r\n{\"y\":2}\n{\"partial\"", 4, &ended, &ok);
  EXPECT_TRUE(ok);
  EXPECT_FALSE(ended);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"x\":1}", "{\"y\":2}"}));

  WatchStreamDecoder d(true);
  auto st = d.feed("zz\r\nabc", [](std::string_view) {});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("malformed chunk size"), std::string::npos);
}

}  // namespace
}  // namespace berth::simulate
