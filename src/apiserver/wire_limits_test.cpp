#include "apiserver/wire_limits.h"

#include <gtest/gtest.h>

#include "apiserver/api_handler.h"

namespace berth::apiserver {
namespace {

http::Request request(std::string method, std::multimap<std::string, std::string> query) {
  http::Request r;
  r.method = std::move(method);
  r.query = std::move(query);
  return r;
}

TEST(WireLimits, IntegerQueryValuesParseAsGoDoes) {
  auto ok = int64QueryParam(request("GET", {{"limit", "-12"}}), "limit");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(**ok, -12);
  EXPECT_FALSE(int64QueryParam(request("GET", {}), "limit")->has_value());
  for (auto [value, why] : {std::pair{"10abc", "invalid syntax"},
                            {"", "invalid syntax"},
                            {"+", "invalid syntax"},
                            {" 1", "invalid syntax"},
                            {"99999999999999999999", "value out of range"}}) {
    auto r = int64QueryParam(request("GET", {{"limit", value}}), "limit");
    ASSERT_FALSE(r.ok()) << value;
    EXPECT_EQ(r.status().code(), 400);
    EXPECT_EQ(r.status().message(),
              std::string("strconv.ParseInt: parsing \"") + value + "\": " + why);
  }
  EXPECT_EQ(**int64QueryParam(request("GET", {{"l", "-9223372036854775808"}}), "l"), INT64_MIN);
}

TEST(WireLimits, QueryParamsPerVerb) {
  EXPECT_EQ(checkQueryParams(request("GET", {{"timeoutSeconds", "abc"}}), true).code(), 400);
  EXPECT_EQ(checkQueryParams(request("DELETE", {{"gracePeriodSeconds", "x"}}), false).code(), 400);
  // Options a verb does not decode are not checked (upstream ignores them).
  EXPECT_TRUE(checkQueryParams(request("GET", {{"limit", "x"}}), false).ok());
  EXPECT_TRUE(checkQueryParams(request("POST", {{"limit", "x"}}), true).ok());
  EXPECT_TRUE(checkQueryParams(request("POST", {{"dryRun", "All"}}), true).ok());
  auto bogus = checkQueryParams(request("POST", {{"dryRun", "bogus"}}), true);
  EXPECT_EQ(bogus.code(), 422);
  EXPECT_EQ(bogus.message(),
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: "
            "[]string{\"bogus\"}: supported values: \"All\"");
}

TEST(WireLimits, BooleanQueryValuesAsTheParameterCodecReadsThem) {
  for (auto v : {"true", "1", "True", "t", "yes", "abc"}) EXPECT_TRUE(parseGoBool(v)) << v;
  for (auto v : {"", "0", "false", "False", "FALSE"}) EXPECT_FALSE(parseGoBool(v)) << v;
}

TEST(WireLimits, StoredSizeAndGenerateName) {
  EXPECT_TRUE(checkStoredSize("k", std::string(kMaxStoredObjectBytes - 1, 'x')).ok());
  auto big = checkStoredSize("k", std::string(kMaxStoredObjectBytes, 'x'));
  EXPECT_EQ(big.code(), 413);
  EXPECT_EQ(big.message(), "etcdserver: request is too large");
  EXPECT_EQ(generateNameBase(std::string(100, 'a')).size(), 58u);
  EXPECT_EQ(generateNameBase("web-"), "web-");
}

}  // namespace
}  // namespace berth::apiserver
