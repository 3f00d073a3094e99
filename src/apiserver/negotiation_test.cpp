#include "apiserver/negotiation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/wire.h"
#include "apiserver/yaml_json.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

MediaKind kindFor(std::string_view accept, bool stream = false) {
  auto m = negotiateOutput(accept, stream);
  EXPECT_TRUE(m.ok()) << accept;
  return m.ok() ? m->kind : MediaKind::kJson;
}

TEST(Negotiation, PicksTheFirstServableClauseByQuality) {
  EXPECT_EQ(kindFor(""), MediaKind::kJson);
  EXPECT_EQ(kindFor("*/*"), MediaKind::kJson);
  EXPECT_EQ(kindFor("application/*"), MediaKind::kJson);
  EXPECT_EQ(kindFor("application/yaml"), MediaKind::kYaml);
  EXPECT_EQ(kindFor("application/vnd.kubernetes.protobuf, application/json"), MediaKind::kProtobuf);
  EXPECT_EQ(kindFor("application/json;q=0.5, application/yaml"), MediaKind::kYaml);
  EXPECT_EQ(kindFor("application/yaml;q=0.1, application/json;q=0.9"), MediaKind::kJson);
  EXPECT_EQ(kindFor("text/html, application/yaml;q=0.2"), MediaKind::kYaml);
  EXPECT_EQ(kindFor("application/json;charset=utf-8"), MediaKind::kJson);
}

TEST(Negotiation, TablesAndTransformations) {
  auto t = negotiateOutput(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
      "g=meta.k8s.io,application/json");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->table);
  // Unserved transformations fall through to the client's plain clause.
  auto p = negotiateOutput(
      "application/vnd.kubernetes.protobuf;as=Thing;g=meta.k8s.io;v=v1,application/json");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->table);
  EXPECT_EQ(p->partial, PartialMetadata::kNone);
  EXPECT_EQ(p->kind, MediaKind::kJson);
  EXPECT_FALSE(negotiateOutput("application/json;as=Table;v=v2;g=meta.k8s.io").ok());
  EXPECT_FALSE(
      negotiateOutput("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io").ok());
  EXPECT_FALSE(negotiateOutput("application/json;foo=bar").ok());
}

// client-go's metadata client (metadata.go): protobuf first, then JSON, then plain JSON.
constexpr const char* kMetadataClientList =
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
constexpr const char* kMetadataClientGet =
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

// The negotiated encoding and PartialObjectMetadata form of an Accept header.
std::pair<MediaKind, PartialMetadata> partialFor(std::string_view accept, bool stream = false) {
  auto m = negotiateOutput(accept, stream);
  EXPECT_TRUE(m.ok()) << accept;
  return m.ok() ? std::pair{m->kind, m->partial}
                : std::pair{MediaKind::kJson, PartialMetadata::kNone};
}

TEST(Negotiation, PartialObjectMetadataAsTheMetadataClientAsks) {
  auto list = negotiateOutput(kMetadataClientList);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->partial, PartialMetadata::kList);
  EXPECT_EQ(list->kind, MediaKind::kProtobuf);
  EXPECT_EQ(list->metaVersion, "v1");
  EXPECT_FALSE(list->table);
  // Errors are negotiated without the transformation clauses: the plain JSON one.
  EXPECT_EQ(list->statusKind, MediaKind::kJson);
  auto get = negotiateOutput(kMetadataClientGet);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->partial, PartialMetadata::kObject);
  EXPECT_EQ(get->kind, MediaKind::kProtobuf);
  // A watch streams JSON when the client takes it, keeping the transformation.
  EXPECT_EQ(partialFor(kMetadataClientGet, true),
            std::pair(MediaKind::kJson, PartialMetadata::kObject));
  EXPECT_EQ(partialFor("application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;"
                       "g=meta.k8s.io;v=v1",
                       true),
            std::pair(MediaKind::kProtobuf, PartialMetadata::kObject));
  // YAML too, and v1beta1 (JSON: Berth has no v1beta1 protobuf schema).
  EXPECT_EQ(partialFor("application/yaml;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"),
            std::pair(MediaKind::kYaml, PartialMetadata::kObject));
  auto beta = negotiateOutput(
      "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1,"
      "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1,application/json");
  ASSERT_TRUE(beta.ok());
  EXPECT_EQ(beta->kind, MediaKind::kJson);
  EXPECT_EQ(beta->partial, PartialMetadata::kList);
  EXPECT_EQ(beta->metaVersion, "v1beta1");
  // Wrong group or version: the clause is skipped.
  EXPECT_EQ(partialFor("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v2,"
                       "application/json;as=PartialObjectMetadata;g=apps;v=v1,application/yaml"),
            std::pair(MediaKind::kYaml, PartialMetadata::kNone));
  EXPECT_FALSE(
      negotiateOutput("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v3").ok());
  // Nothing plain accepted: errors go out in JSON.
  auto only = negotiateOutput("application/yaml;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
  EXPECT_EQ(only->statusKind, MediaKind::kJson);
  auto yamlPlain = negotiateOutput(
      "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/yaml");
  EXPECT_EQ(yamlPlain->statusKind, MediaKind::kYaml);
}

TEST(Negotiation, NothingAcceptableIs406) {
  for (auto accept : {"text/html", "application/xml", "application/json;q=0", "image/*"}) {
    auto m = negotiateOutput(accept);
    ASSERT_FALSE(m.ok()) << accept;
    EXPECT_EQ(m.status().code(), 406);
    EXPECT_EQ(m.status().reason(), "NotAcceptable");
    EXPECT_NE(m.status().message().find("only the following media types are accepted"),
              std::string::npos);
  }
  // Watches stream JSON or protobuf only; JSON whenever the client takes it.
  EXPECT_FALSE(negotiateOutput("application/yaml", true).ok());
  EXPECT_EQ(kindFor("application/vnd.kubernetes.protobuf, application/json", true),
            MediaKind::kJson);
  EXPECT_EQ(kindFor("application/vnd.kubernetes.protobuf;stream=watch", true),
            MediaKind::kProtobuf);
}

TEST(Negotiation, ResponsesEndWithNewlineOrEncodeAsAsked) {
  std::string ct;
  std::string cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},)"
                   R"("data":{"k":"true","n":"10","s":"plain text","e":""}})";
  EXPECT_EQ(encodeResponse(OutputMedia{}, cm, ct), cm + "\n");
  EXPECT_EQ(ct, "application/json");
  OutputMedia yaml{MediaKind::kYaml};
  std::string y = encodeResponse(yaml, cm, ct);
  EXPECT_EQ(ct, "application/yaml");
  auto back = yamlToJson(y);
  ASSERT_TRUE(back.ok()) << y;
  EXPECT_EQ(*back, json::parse(cm)) << y;
  OutputMedia pb{MediaKind::kProtobuf};
  std::string p = encodeResponse(pb, cm, ct);
  EXPECT_EQ(ct, protobuf::kMediaType);
  auto decoded = protobuf::decodeEnvelope(p);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->at("data"), json::parse(cm).at("data"));
  // A body the schema has no kind for is answered in JSON, and says so.
  std::string other = R"({"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[]})";
  EXPECT_EQ(encodeResponse(pb, other, ct), other + "\n");
  EXPECT_EQ(ct, "application/json");
}

TEST(Negotiation, YamlRoundTripsAwkwardValues) {
  json::value v = json::parse(R"({"b":{"list":[{"x":1,"y":[1,[2,3],{}]},[],"- dash",
      "a: b","#c","yes","No","~","null","1.5","0x10","2024-01-02T03:04:05Z"," lead",
      "multi\nline","quote\"d","ünï","ok/path_1.2-x","key=value"],"e":{},"n":null,
      "t":true,"f":1.25,"i":-7},"a":"z"})");
  std::string y = jsonToYaml(v);
  auto back = yamlToJson(y);
  ASSERT_TRUE(back.ok()) << y;
  EXPECT_EQ(*back, v) << y;
  EXPECT_LT(y.find("a: z"), y.find("b:")) << "keys sorted";
}

TEST(Negotiation, ProtobufWatchFramesDecode) {
  std::string lines =
      R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}})"
      "\n"
      R"({"type":"DELETED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}})"
      "\n";
  std::string frames = protobufWatchFrames(lines);
  std::vector<std::string> names, types;
  size_t pos = 0;
  while (pos + 4 <= frames.size()) {
    uint32_t n = (uint32_t(uint8_t(frames[pos])) << 24) |
                 (uint32_t(uint8_t(frames[pos + 1])) << 16) |
                 (uint32_t(uint8_t(frames[pos + 2])) << 8) | uint32_t(uint8_t(frames[pos + 3]));
    ASSERT_LE(pos + 4 + n, frames.size());
    std::string_view env(frames.data() + pos + 4, n);
    pos += 4 + n;
    ASSERT_EQ(env.substr(0, 4), protobuf::kMagic);
    // runtime.Unknown: field 2 is the WatchEvent.
    protobuf::internal::Reader unknown(env.substr(4));
    std::string_view raw;
    while (!unknown.empty()) {
      uint64_t key = 0;
      ASSERT_TRUE(unknown.varint(key));
      std::string_view b;
      uint64_t len = 0;
      ASSERT_TRUE(unknown.bytes(b, len));
      if ((key >> 3) == 2) raw = b;
    }
    auto ev = protobuf::decodeMessage("k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent", raw);
    ASSERT_TRUE(ev.ok()) << ev.status().message();
    types.push_back(std::string(ev->at("type").as_string()));
    names.push_back(std::string(ev->at("object").at("metadata").at("name").as_string()));
  }
  EXPECT_EQ(pos, frames.size());
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "DELETED"}));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace berth::apiserver
