// Tests of request-target parsing and Request accessors (no network).
#include <gtest/gtest.h>

#include "apiserver/http/internal/target.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::http {
namespace {

using internal::parseTarget;
using internal::percentDecode;

TEST(PercentDecodeTest, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(percentDecode("a%2Fb%3d", false).value_or("?"), "a/b=");
  EXPECT_EQ(percentDecode("a+b", false).value_or("?"), "a+b");
  EXPECT_EQ(percentDecode("a+b", true).value_or("?"), "a b");
  EXPECT_EQ(percentDecode("%41", false).value_or("?"), "A");
  EXPECT_FALSE(percentDecode("%", false));
  EXPECT_FALSE(percentDecode("abc%4", false));
  EXPECT_FALSE(percentDecode("%g0", false));
}

TEST(ParseTargetTest, SplitsPathAndQuery) {
  auto parsed = parseTarget("/api/v1/namespaces/default/pods?watch=1&resourceVersion=10&x");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(parsed->query.size(), 3u);
  EXPECT_EQ(parsed->query.find("watch")->second, "1");
  EXPECT_EQ(parsed->query.find("x")->second, "");

  parsed = parseTarget("/p%20q+r?a+b=c%2Bd&&=e#frag");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->path, "/p q+r");  // '+' is literal in a path
  EXPECT_EQ(parsed->query.find("a b")->second, "c+d");
  EXPECT_EQ(parsed->query.find("")->second, "e");
  EXPECT_EQ(parsed->query.size(), 2u);

  EXPECT_FALSE(parseTarget(""));
  EXPECT_FALSE(parseTarget("http://host/path"));  // absolute-form is not served
  EXPECT_FALSE(parseTarget("/a?b=%"));
}

TEST(RequestTest, Accessors) {
  Request request;
  request.query = {{"a", "1"}, {"a", "2"}};
  request.headers = {{"connection", "keep-alive, Upgrade"}, {"upgrade", "websocket"}};
  EXPECT_EQ(request.queryParam("a"), "1");
  EXPECT_TRUE(request.hasQueryParam("a"));
  EXPECT_FALSE(request.hasQueryParam("b"));
  EXPECT_EQ(request.queryParam("b"), "");
  EXPECT_EQ(request.header("upgrade"), "websocket");
  EXPECT_TRUE(request.isUpgrade());
  request.headers.erase("upgrade");
  EXPECT_FALSE(request.isUpgrade());
}

}  // namespace
}  // namespace berth::apiserver::http
