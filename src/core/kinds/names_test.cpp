// Name and syntax validators: upstream messages, and a property test against std::regex of the
// upstream patterns.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "core/kinds/internal.h"
#include "core/kinds/strategy.h"

namespace berth::core::kinds {
namespace {

TEST(Names, Dns1123SubdomainMessage) {
  auto errs = isDns1123Subdomain("Bad_Name");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            "'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  EXPECT_TRUE(isDns1123Subdomain("a.b-c.d").empty());
  EXPECT_EQ(isDns1123Subdomain(std::string(254, 'a')).front(), "must be no more than 253 characters");
}

TEST(Names, Dns1123LabelDotsAndExamples) {
  EXPECT_EQ(isDns1123Label("a.b"), std::vector<std::string>{"must not contain dots"});
  auto errs = isDns1123Label("-x");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("(e.g. 'my-name',  or '123-abc', regex used"), std::string::npos);
  EXPECT_TRUE(isDns1123Label("123-abc").empty());
  EXPECT_FALSE(isDns1035Label("123-abc").empty());
  EXPECT_TRUE(isDns1035Label("abc-123").empty());
}

TEST(Names, QualifiedNameParts) {
  EXPECT_TRUE(isQualifiedName("example.com/MyName").empty());
  EXPECT_EQ(isQualifiedName("/x"), std::vector<std::string>{"prefix part must be non-empty"});
  auto errs = isQualifiedName("a/");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "name part must be non-empty");
  auto three = isQualifiedName("a/b/c");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].rfind("a qualified name must consist of", 0), 0u);
  EXPECT_NE(three[0].find("with an optional DNS subdomain prefix and '/' (e.g. "
                          "'example.com/MyName')"),
            std::string::npos);
  EXPECT_EQ(isQualifiedName("Bad_/x").front().rfind("prefix part a lowercase RFC 1123", 0), 0u);
}

TEST(Names, LabelValue) {
  EXPECT_TRUE(isValidLabelValue("").empty());
  EXPECT_TRUE(isValidLabelValue("My_value.1").empty());
  auto errs = isValidLabelValue(std::string(64, 'a'));
  EXPECT_EQ(errs, std::vector<std::string>{"must be no more than 63 characters"});
  EXPECT_NE(isValidLabelValue("-a").front().find("'MyValue',  or 'my_value',  or '12345'"),
            std::string::npos);
}

TEST(Names, OtherSyntaxes) {
  using namespace detail;
  EXPECT_TRUE(isConfigMapKey("key.name").empty());
  EXPECT_EQ(isConfigMapKey("..x").back(), "must not start with '..'");
  EXPECT_FALSE(isConfigMapKey("a/b").empty());
  EXPECT_TRUE(isValidPortName("http").empty());
  EXPECT_EQ(isValidPortName("80").back(), "must contain at least one letter (a-z)");
  EXPECT_TRUE(isValidPercent("25%").empty());
  EXPECT_FALSE(isValidPercent("25").empty());
  EXPECT_TRUE(isValidIp("10.96.0.1"));
  EXPECT_TRUE(isValidIp("fd00::1"));
  EXPECT_FALSE(isValidIp("10.096.0.1"));
  EXPECT_FALSE(isValidIp("300.1.1.1"));
  EXPECT_EQ(validatePathSegmentName("a/b", false), std::vector<std::string>{"may not contain '/'"});
  EXPECT_EQ(validatePathSegmentName("..", false), std::vector<std::string>{"may not be '..'"});
}

TEST(Names, Quantities) {
  using detail::parseQuantity;
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("100m")), 0.1);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("1Gi")), 1073741824.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("1e3")), 1000.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("-2")), -2.0);
  EXPECT_FALSE(parseQuantity("1Gb"));
  EXPECT_FALSE(parseQuantity("abc"));
  EXPECT_FALSE(parseQuantity(""));
  EXPECT_FALSE(parseQuantity("1.2.3"));
}

TEST(Names, CronSchedules) {
  using detail::parseCronSchedule;
  EXPECT_FALSE(parseCronSchedule("*/5 * * * *"));
  EXPECT_FALSE(parseCronSchedule("0 0 1,15 JAN-MAR mon-fri"));
  EXPECT_FALSE(parseCronSchedule("@hourly"));
  EXPECT_EQ(*parseCronSchedule("bad"), "expected exactly 5 fields, found 1: [bad]");
  EXPECT_EQ(*parseCronSchedule("60 * * * *"), "end of range (60) above maximum (59): 60");
  EXPECT_EQ(*parseCronSchedule("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
  EXPECT_EQ(*parseCronSchedule("@weird"), "unrecognized descriptor: @weird");
}

TEST(Names, GoQuote) {
  using detail::goQuote;
  EXPECT_EQ(goQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(goQuote(std::string("\x01", 1)), "\"\\x01\"");
  EXPECT_EQ(goQuote("é"), "\"é\"");
  EXPECT_EQ(goQuote("\xff"), "\"\\xff\"");
}

// Property test: the hand-written matchers agree with upstream's regular expressions.
TEST(Names, PropertyAgreesWithUpstreamRegex) {
  const std::regex subdomain("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  const std::regex label("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  const std::regex name("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
  const std::regex value("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
  const std::string alphabet = "abcz09AZ-._/ ";
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t len = rng() % 12;
    for (size_t j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
    EXPECT_EQ(isDns1123Subdomain(s).empty(), std::regex_match(s, subdomain)) << s;
    EXPECT_EQ(isDns1123Label(s).empty(), std::regex_match(s, label)) << s;
    EXPECT_EQ(isValidLabelValue(s).empty(), std::regex_match(s, value)) << s;
    // Qualified name: optional subdomain prefix (≤253) + '/' + name (≤63).
    bool expected;
    size_t slash = s.find('/');
    if (slash == std::string::npos) {
      expected = std::regex_match(s, name);
    } else {
      std::string prefix = s.substr(0, slash);
      std::string rest = s.substr(slash + 1);
      expected = std::regex_match(prefix, subdomain) && std::regex_match(rest, name);
    }
    EXPECT_EQ(isQualifiedName(s).empty(), expected) << s;
  }
}

}  // namespace
}  // namespace berth::core::kinds
