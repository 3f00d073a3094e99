#include "kubelet/streaming/cri_log.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::kubelet::streaming {
namespace {

constexpr int64_t kSecond = 1000000000;

TEST(CriLog, ParsesALine) {
  auto e = parseCriLogLine("2024-01-02T03:04:05.123456789Z stderr P half a line");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->timestamp, "2024-01-02T03:04:05.123456789Z");
  EXPECT_EQ(e->unixNanos, 1704164645 * kSecond + 123456789);
  EXPECT_EQ(e->stream, "stderr");
  EXPECT_TRUE(e->partial);
  EXPECT_EQ(e->text, "half a line");
  auto empty = parseCriLogLine("2024-01-02T03:04:05Z stdout F");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
}

TEST(CriLog, RejectsMalformedLines) {
  for (const char* bad :
       {"", "nonsense", "2024-01-02T03:04:05Z stdin F x", "2024-13-02T03:04:05Z stdout F x",
        "2024-01-02T03:04:05Z stdout X x", "2024-01-02 03:04:05Z stdout F x"})
    EXPECT_FALSE(parseCriLogLine(bad)) << bad;
}

TEST(CriLog, Rfc3339WithOffsets) {
  EXPECT_EQ(parseRfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:01.5Z"), kSecond + kSecond / 2);
  EXPECT_FALSE(parseRfc3339("1970-01-01T00:00:01"));
}

// Property: any text written as CRI entries (split at random into partial pieces) reads back
// as the same text, and the timestamps survive formatting.
TEST(CriLog, WrittenEntriesReadBackAsTheSameText) {
  std::mt19937 rng(3);
  for (int round = 0; round < 100; ++round) {
    std::string expected, file;
    int64_t t = 1700000000 * kSecond + static_cast<int64_t>(rng() % 1000000000);
    int lines = 1 + static_cast<int>(rng() % 20);
    for (int l = 0; l < lines; ++l) {
      std::string text(rng() % 30, 'a');
      for (char& c : text) c = static_cast<char>(' ' + rng() % 94);
      size_t cut = text.empty() ? 0 : rng() % text.size();
      if (cut > 0) file += formatCriLogLine(t, "stdout", true, text.substr(0, cut));
      file += formatCriLogLine(t, "stderr", false, text.substr(cut));
      expected += text + "\n";
      t += 1000;
    }
    LogOptions options;
    LogRenderer renderer(options);
    std::string got;
    // Fed in random pieces, as a follower reads a growing file.
    size_t pos = 0;
    while (pos < file.size()) {
      size_t n = std::min<size_t>(file.size() - pos, 1 + rng() % 50);
      got += renderer.render(std::string_view(file).substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(parseRfc3339(formatRfc3339Nano(t)), t);
  }
}

std::string sampleLog() {
  std::string file;
  for (int i = 0; i < 5; ++i)
    file += formatCriLogLine((1000 + i) * kSecond, "stdout", false, "line" + std::to_string(i));
  return file;
}

TEST(CriLog, TailCountsEntriesFromTheEnd) {
  std::string file = sampleLog();
  EXPECT_EQ(tailStart(file, 2), file.find(formatRfc3339Nano(1003 * kSecond)));
  EXPECT_EQ(tailStart(file, 5), 0u);
  EXPECT_EQ(tailStart(file, 50), 0u);
  EXPECT_EQ(tailStart(file, 0), file.size());
  LogOptions options;
  LogRenderer renderer(options);
  EXPECT_EQ(renderer.render(std::string_view(file).substr(tailStart(file, 2))), "line3\nline4\n");
}

TEST(CriLog, SinceTimestampsAndLimit) {
  std::string file = sampleLog();
  LogOptions since;
  since.sinceNanos = 1003 * kSecond;
  EXPECT_EQ(LogRenderer(since).render(file), "line3\nline4\n");

  LogOptions stamps;
  stamps.timestamps = true;
  stamps.tailLines = 1;
  EXPECT_EQ(LogRenderer(stamps).render(std::string_view(file).substr(tailStart(file, 1))),
            formatRfc3339Nano(1004 * kSecond) + " line4\n");

  LogOptions limit;
  limit.limitBytes = 8;
  LogRenderer limited(limit);
  EXPECT_EQ(limited.render(file), "line0\nli");
  EXPECT_TRUE(limited.limitReached());
  EXPECT_EQ(limited.render(file), "");
}

TEST(CriLog, OptionsFromTheQuery) {
  std::multimap<std::string, std::string> q = {
      {"follow", "true"}, {"tailLines", "10"}, {"sinceSeconds", "5"}, {"timestamps", "1"}};
  auto o = parseLogOptions(q, 100 * kSecond);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->follow);
  EXPECT_TRUE(o->timestamps);
  EXPECT_EQ(*o->tailLines, 10);
  EXPECT_EQ(*o->sinceNanos, 95 * kSecond);

  auto badNumber = parseLogOptions({{"tailLines", "ten"}}, 0);
  EXPECT_EQ(badNumber.status().code(), 400);
  auto both = parseLogOptions({{"sinceSeconds", "1"}, {"sinceTime", "2024-01-01T00:00:00Z"}}, 0);
  EXPECT_EQ(both.status().code(), 400);
  EXPECT_EQ(parseLogOptions({{"limitBytes", "0"}}, 0).status().code(), 400);
  EXPECT_EQ(parseLogOptions({{"tailLines", "-1"}}, 0).status().code(), 400);
  auto sinceTime = parseLogOptions({{"sinceTime", "2024-01-01T00:00:00Z"}}, 0);
  ASSERT_TRUE(sinceTime.ok());
  EXPECT_EQ(*sinceTime->sinceNanos, 1704067200 * kSecond);
}

}  // namespace
}  // namespace berth::kubelet::streaming
