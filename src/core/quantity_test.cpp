#include "core/quantity.h"

#include <gtest/gtest.h>

namespace berth::core {
namespace {

Quantity q(std::string_view s) {
  auto r = Quantity::parse(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r.value_or(Quantity());
}

TEST(Quantity, ParsesAndCanonicalizesAsUpstream) {
  EXPECT_EQ(q("100m").toString(), "100m");
  EXPECT_EQ(q("1.5").toString(), "1500m");
  EXPECT_EQ(q("2000m").toString(), "2");
  EXPECT_EQ(q("1000").toString(), "1k");
  EXPECT_EQ(q("1500").toString(), "1500");
  EXPECT_EQ(q("1Gi").toString(), "1Gi");
  EXPECT_EQ(q("1024Mi").toString(), "1Gi");
  EXPECT_EQ(q("0.5Gi").toString(), "512Mi");
  EXPECT_EQ(q("100").toString(), "100");
  EXPECT_EQ(q("1e3").toString(), "1e3");
  EXPECT_EQ(q("0").toString(), "0");
  EXPECT_EQ(q("-2").toString(), "-2");
  // Values finer than a nano-unit round up, as upstream's parser does.
  EXPECT_EQ(q("0.1n").toString(), "1n");
}

TEST(Quantity, RejectsWhatIsNotAQuantity) {
  for (const char* bad : {"", "abc", "1.2.3", "1Kb", "1K", "e3", ".", "1e", "--1"}) {
    EXPECT_FALSE(Quantity::parse(bad).has_value()) << bad;
  }
}

TEST(Quantity, ArithmeticIsExact) {
  // 0.1 + 0.2 must equal 0.3, which binary floating point gets wrong.
  EXPECT_EQ(q("100m") + q("200m"), q("300m"));
  EXPECT_LT(q("999m"), q("1"));
  EXPECT_EQ(q("1Gi") + q("512Mi"), q("1536Mi"));
  EXPECT_EQ((q("1Gi") + q("512Mi")).toString(), "1536Mi");
  // A zero left-hand side takes the format of what is added (upstream's Add).
  Quantity sum;
  sum += q("1Gi");
  sum += q("1Gi");
  EXPECT_EQ(sum.toString(), "2Gi");
  // Binary values that are not multiples of 1024 print in decimal.
  EXPECT_EQ((q("1Ki") + q("1")).toString(), "1025");
  EXPECT_EQ(q("1Ei").ceilValue(), 1152921504606846976LL);
  EXPECT_EQ(q("1500m").ceilValue(), 2);
}

}  // namespace
}  // namespace berth::core
