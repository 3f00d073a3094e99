#include "apiserver/protobuf/special_types.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::apiserver::protobuf::internal {
namespace {

TEST(Rfc3339, FormatsAndParses) {
  EXPECT_EQ(formatRfc3339({1704164645, 0}, false), "2024-01-02T03:04:05Z");
  EXPECT_EQ(formatRfc3339({0, 0}, false), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339({951782400, 123456789}, true), "2000-02-29T00:00:00.123456Z");
  EXPECT_EQ(formatRfc3339({-1, 0}, false), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatRfc3339({-62135596800, 0}, false), "0001-01-01T00:00:00Z");
  EXPECT_FALSE(formatRfc3339({253402300800, 0}, false));  // year 10000
  EXPECT_FALSE(formatRfc3339({INT64_MIN, 0}, false));

  auto t = parseRfc3339("2024-01-02T03:04:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, 1704164645);
  auto offset = parseRfc3339("2024-01-02T05:04:05.5+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(offset->seconds, 1704164645);
  EXPECT_EQ(offset->nanos, 500000000);
  EXPECT_FALSE(parseRfc3339("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2024-01-02 03:04:05Z"));
  EXPECT_FALSE(parseRfc3339("2024-01-02T03:04:05"));
  EXPECT_FALSE(parseRfc3339("2024-01-02T03:04:05Zjunk"));
  EXPECT_FALSE(parseRfc3339(""));
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(formatGoDuration(0), "0s");
  EXPECT_EQ(formatGoDuration(1), "1ns");
  EXPECT_EQ(formatGoDuration(1500), "1.5\u00b5s");
  EXPECT_EQ(formatGoDuration(2000000), "2ms");
  EXPECT_EQ(formatGoDuration(90000000000), "1m30s");
  EXPECT_EQ(formatGoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(formatGoDuration(3723500000000), "1h2m3.5s");
  EXPECT_EQ(formatGoDuration(-1500000000), "-1.5s");
  EXPECT_EQ(formatGoDuration(INT64_MIN), "-2562047h47m16.854775808s");
}

TEST(GoDuration, Parses) {
  EXPECT_EQ(parseGoDuration("1m30s"), 90000000000);
  EXPECT_EQ(parseGoDuration("1.5h"), 5400000000000);
  EXPECT_EQ(parseGoDuration("300ms"), 300000000);
  EXPECT_EQ(parseGoDuration("-2us"), -2000);
  EXPECT_EQ(parseGoDuration("0"), 0);
  EXPECT_FALSE(parseGoDuration(""));
  EXPECT_FALSE(parseGoDuration("5"));
  EXPECT_FALSE(parseGoDuration("1d"));
  EXPECT_FALSE(parseGoDuration("99999999999999999999h"));
  EXPECT_FALSE(parseGoDuration("3000000h"));
  for (std::int64_t d :
       {std::int64_t{1}, std::int64_t{1500}, std::int64_t{3723500000000}, std::int64_t{-7}}) {
    EXPECT_EQ(parseGoDuration(formatGoDuration(d)), d);
  }
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64Decode(base64Encode(s)), s);
  }
  EXPECT_EQ(base64Encode("pass"), "cGFzcw==");
  EXPECT_EQ(base64Decode("cGFz\r\ncw=="), "pass");
  EXPECT_FALSE(base64Decode("cGFzcw="));
  EXPECT_FALSE(base64Decode("cG=zcw=="));
  EXPECT_FALSE(base64Decode("cGFz!w=="));
  EXPECT_FALSE(base64Decode("===="));
}

}  // namespace
}  // namespace berth::apiserver::protobuf::internal
