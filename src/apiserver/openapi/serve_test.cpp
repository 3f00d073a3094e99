#include "apiserver/openapi/serve.h"

#include <gtest/gtest.h>

#include "apiserver/openapi/openapi.h"

namespace berth::apiserver::openapi {
namespace {

constexpr std::string_view kProto = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
constexpr std::string_view kProtoDeprecated =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

std::string header(const Reply& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string v2Hash() { return std::string(servedV2(false).hash); }

Reply get(std::string_view path, std::string_view accept = "", std::string_view ifNoneMatch = "",
          std::string_view hash = "") {
  auto r = serve({path, accept, ifNoneMatch, hash});
  EXPECT_TRUE(r.has_value()) << path;
  return r.value_or(Reply{});
}

TEST(OpenApiServe, V2IsJsonUnlessProtobufIsPreferred) {
  Reply json = get("/openapi/v2");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.contentType, "application/json");
  EXPECT_EQ(json.body, v2Document());
  EXPECT_EQ(header(json, "Vary"), "Accept, Accept-Encoding");
  EXPECT_EQ(header(json, "ETag"), "\"" + v2Hash() + "\"");

  // What kubectl 1.20–1.28 send, answered under the current media type name.
  for (std::string_view accept : {kProtoDeprecated, kProto}) {
    Reply pb = get("/openapi/v2", accept);
    EXPECT_EQ(pb.status, 200);
    EXPECT_EQ(pb.contentType, kProto);
    EXPECT_EQ(pb.body, v2Protobuf());
    EXPECT_EQ(header(pb, "ETag"), header(json, "ETag"));  // one ETag, Vary: Accept
  }
  EXPECT_EQ(get("/openapi/v2", "application/json;q=0.5, " + std::string(kProto)).body,
            v2Protobuf());
  EXPECT_EQ(get("/openapi/v2", std::string(kProto) + ";q=0.2, */*;q=0.9").body, v2Document());
  EXPECT_EQ(get("/openapi/v2", "application/*").body, v2Document());
  EXPECT_EQ(get("/openapi/v2/").body, v2Document());
}

TEST(OpenApiServe, NothingAcceptableIs406) {
  for (std::string_view accept : {"text/html", "application/json;q=0",
                                  "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"}) {
    Reply r = get("/openapi/v2", accept);
    EXPECT_EQ(r.status, 406) << accept;
    EXPECT_NE(r.body.find("\"reason\":\"NotAcceptable\""), std::string_view::npos);
  }
  EXPECT_EQ(get("/openapi/v3/api/v1", "application/com.github.proto-openapi.spec.v3.v1.0+protobuf")
                .status,
            406);
}

TEST(OpenApiServe, IfNoneMatchRevalidates) {
  const std::string etag = "\"" + v2Hash() + "\"";
  for (std::string accept : {std::string(), std::string(kProtoDeprecated)}) {
    for (std::string inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
      Reply r = get("/openapi/v2", accept, inm);
      EXPECT_EQ(r.status, 304) << inm;
      EXPECT_TRUE(r.body.empty());
      EXPECT_EQ(header(r, "ETag"), etag);
    }
  }
  EXPECT_EQ(get("/openapi/v2", "", "\"stale\"").status, 200);
  EXPECT_EQ(get("/openapi/v2", "", v2Hash()).status, 200);  // unquoted is not an entity tag

  Reply index = get("/openapi/v3");
  EXPECT_EQ(index.body, v3Index());
  EXPECT_EQ(header(index, "ETag"), "\"" + std::string(servedV3Index().hash) + "\"");
  EXPECT_EQ(get("/openapi/v3", "", header(index, "ETag")).status, 304);
}

TEST(OpenApiServe, V3GroupVersionsHonourTheHash) {
  const std::string hash(servedV3("apis/apps/v1").value_or(Served{}).hash);
  ASSERT_FALSE(hash.empty());
  EXPECT_NE(v3Index().find("/openapi/v3/apis/apps/v1?hash=" + hash), std::string::npos);

  Reply plain = get("/openapi/v3/apis/apps/v1", "application/json");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, *v3Document("apis/apps/v1"));
  EXPECT_EQ(header(plain, "ETag"), "\"" + hash + "\"");
  EXPECT_EQ(header(plain, "Cache-Control"), "");

  Reply hashed = get("/openapi/v3/apis/apps/v1", "application/json", "", hash);
  EXPECT_EQ(hashed.status, 200);
  EXPECT_EQ(header(hashed, "Cache-Control"), "public, immutable");
  EXPECT_NE(header(hashed, "Expires").find(" GMT"), std::string::npos);
  EXPECT_EQ(get("/openapi/v3/apis/apps/v1", "", "\"" + hash + "\"", hash).status, 304);

  Reply stale = get("/openapi/v3/apis/apps/v1", "application/json", "", "0123");
  EXPECT_EQ(stale.status, 301);
  EXPECT_EQ(header(stale, "Location"), "/openapi/v3/apis/apps/v1?hash=" + hash);

  EXPECT_FALSE(serve({"/openapi/v3/apis/nope/v1", "", "", ""}).has_value());
  EXPECT_FALSE(serve({"/openapi/v4", "", "", ""}).has_value());
  EXPECT_FALSE(serve({"/openapi/v3x", "", "", ""}).has_value());
  EXPECT_FALSE(serve({"/openapi", "", "", ""}).has_value());
}

TEST(OpenApiServe, GzipWhenTheClientTakesIt) {
  // What Go's transport adds to every kubectl request.
  Reply pb = *serve({"/openapi/v2", kProtoDeprecated, "", "", "gzip"});
  EXPECT_EQ(header(pb, "Content-Encoding"), "gzip");
  EXPECT_EQ(pb.body, servedV2(true).gzipped);
  ASSERT_GT(pb.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(pb.body[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(pb.body[1]), 0x8b);
  EXPECT_LT(pb.body.size() * 5, v2Protobuf().size());
  EXPECT_EQ(header(pb, "ETag"), "\"" + v2Hash() + "\"");  // the document's, as upstream's

  for (std::string_view enc : {"", "identity", "gzip;q=0", "br, deflate"}) {
    Reply plain = *serve({"/openapi/v2", "", "", "", enc});
    EXPECT_EQ(header(plain, "Content-Encoding"), "") << enc;
    EXPECT_EQ(plain.body, v2Document()) << enc;
  }
  EXPECT_EQ(header(*serve({"/openapi/v3", "", "", "", "deflate, gzip;q=0.5"}), "Content-Encoding"),
            "gzip");
  EXPECT_EQ(header(*serve({"/openapi/v3/api/v1", "", "", "", "*"}), "Content-Encoding"), "gzip");
  EXPECT_EQ(serve({"/openapi/v2", "", "\"" + v2Hash() + "\"", "", "gzip"})->status, 304);
}

}  // namespace
}  // namespace berth::apiserver::openapi
