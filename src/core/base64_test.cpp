#include "core/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace berth::core {
namespace {

TEST(Base64, KnownVectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm9vYg==").value(), "foob");
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zg=", "Z===", "Zm9v!", "=Zg=", "Zg==Zg=="}) {
    EXPECT_FALSE(base64Decode(bad).has_value()) << bad;
  }
}

// Property: decode(encode(x)) == x for random bytes, and random text never crashes decode.
TEST(Base64, RoundTripsRandomBytes) {
  std::mt19937 gen(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(gen() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(gen());
    auto back = base64Decode(base64Encode(bytes));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, bytes);
    std::string junk(gen() % 16, '\0');
    for (auto& c : junk) c = static_cast<char>(gen());
    (void)base64Decode(junk);
  }
}

}  // namespace
}  // namespace berth::core
