// Golden bytes (assembled by hand from the generated.proto field numbers, not by our encoder)
// and decoder behaviour: zero dropping, pointer fields, packed fields, errors.
#include "apiserver/protobuf/codec.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <initializer_list>
#include <string>

namespace berth::apiserver::protobuf {
namespace {

namespace json = boost::json;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

json::object parse(std::string_view text) { return json::parse(text).as_object(); }

TEST(Golden, Namespace) {
  const std::string body = bytes({
      0x6b, 0x38, 0x73, 0x00,                                           // "k8s\0"
      0x0a, 0x0f,                                                       // 1 typeMeta, 15 bytes
      0x0a, 0x02, 'v',  '1',                                            //   1 apiVersion "v1"
      0x12, 0x09, 'N',  'a',  'm',  'e',  's',  'p',  'a',  'c',  'e',  //   2 kind "Namespace"
      0x12, 0x26,                                                       // 2 raw, 38 bytes
      0x0a, 0x20,                                                       //   1 metadata, 32 bytes
      0x0a, 0x03, 'n',  's',  '1',                                      //     1 name
      0x2a, 0x00,                                                       //     5 uid "" (dropped)
      0x38, 0x00,                                                       //     7 generation 0
      0x42, 0x08, 0x08, 0xa5, 0xfa, 0xcd, 0xac, 0x06, 0x10, 0x00,       //     8 creationTimestamp
      0x5a, 0x0b,                                                       //     11 labels entry
      0x0a, 0x03, 'e',  'n',  'v',  0x12, 0x04, 'p',  'r',  'o',  'd',  //       env: prod
      0x12, 0x00,                                                       //   2 spec {}
      0x1a, 0x00,                                                       //   3 status {}
      0x1a, 0x00,                                                       // 3 contentEncoding ""
      0x22, 0x00,                                                       // 4 contentType ""
  });
  auto got = decodeEnvelope(body);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, parse(R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"ns1",
      "creationTimestamp":"2024-01-02T03:04:05Z","labels":{"env":"prod"}}})"))
      << json::serialize(*got);
}

TEST(Golden, ConfigMap) {
  const std::string body = bytes({
      0x6b, 0x38, 0x73, 0x00,                                         // "k8s\0"
      0x0a, 0x0f,                                                     // 1 typeMeta
      0x0a, 0x02, 'v',  '1',                                          //   apiVersion
      0x12, 0x09, 'C',  'o',  'n', 'f',  'i',  'g',  'M',  'a', 'p',  //   kind
      0x12, 0x2c,                                                     // 2 raw, 44 bytes
      0x0a, 0x0d,                                                     //   1 metadata
      0x0a, 0x02, 'c',  'm',                                          //     name
      0x1a, 0x07, 'd',  'e',  'f', 'a',  'u',  'l',  't',             //     namespace
      0x12, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, '1',                   //   2 data a: "1"
      0x12, 0x05, 0x0a, 0x01, 'e', 0x12, 0x00,                        //   2 data e: ""
      0x1a, 0x07, 0x0a, 0x01, 'b', 0x12, 0x02, 0x00, 0xff,            //   3 binaryData b
      0x20, 0x01,                                                     //   4 immutable true
      0x98, 0x06, 0x07,                                               //   99 unknown varint
  });
  auto got = decodeEnvelope(body);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, parse(R"({"kind":"ConfigMap","apiVersion":"v1",
      "metadata":{"name":"cm","namespace":"default"},"data":{"a":"1","e":""},
      "binaryData":{"b":"AP8="},"immutable":true})"))
      << json::serialize(*got);
}

TEST(Golden, DeploymentKeepsPointerZerosAndDropsOthers) {
  const std::string body = bytes({
      0x6b, 0x38, 0x73, 0x00, 0x0a, 0x15, 0x0a, 0x07, 'a',  'p', 'p', 's',
      '/',  'v',  '1',  0x12, 0x0a, 'D',  'e',  'p',  'l',  'o', 'y', 'm',
      'e',  'n',  't',  0x12, 0x17, 0x0a, 0x03, 0x0a, 0x01, 'd',  // metadata.name "d"
      0x12, 0x10,                                                 // spec
      0x08, 0x00,                                                 //   1 replicas 0 (*int32)
      0x28, 0x00,                                                 //   5 minReadySeconds 0
      0x22, 0x0a, 0x0a, 0x08, 'R',  'e',  'c',  'r',  'e',  'a', 't', 'e',  // 4 strategy.type
  });
  auto got = decodeEnvelope(body);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, parse(R"({"kind":"Deployment","apiVersion":"apps/v1",
      "metadata":{"name":"d"},"spec":{"replicas":0,"strategy":{"type":"Recreate"}}})"))
      << json::serialize(*got);
}

TEST(Decode, IntOrStringBothForms) {
  // ServicePort: 3 port 80, 4 targetPort {1 type 1, 3 strVal "http"}; second: intVal 8080.
  auto named = decodeMessage(
      "k8s.io.api.core.v1.ServicePort",
      bytes({0x18, 0x50, 0x22, 0x0a, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x04, 'h', 't', 't', 'p'}));
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(*named, parse(R"({"port":80,"targetPort":"http"})"));
  auto numbered = decodeMessage("k8s.io.api.core.v1.ServicePort",
                                bytes({0x18, 0x00, 0x22, 0x05, 0x08, 0x00, 0x10, 0x90, 0x3f}));
  ASSERT_TRUE(numbered.ok());
  // port is not omitempty in Go: a zero is still sent.
  EXPECT_EQ(*numbered, parse(R"({"port":0,"targetPort":8080})"));
}

TEST(Decode, PackedAndUnpackedRepeatedScalars) {
  // PodFailurePolicyOnExitCodesRequirement: 3 values (repeated int32).
  const std::string_view name = "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement";
  auto unpacked = decodeMessage(name, bytes({0x18, 0x01, 0x18, 0x7f}));
  auto packed = decodeMessage(name, bytes({0x1a, 0x02, 0x01, 0x7f}));
  ASSERT_TRUE(unpacked.ok());
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(*unpacked, parse(R"({"values":[1,127]})"));
  EXPECT_EQ(*packed, *unpacked);
}

TEST(Decode, NegativeInt32) {
  auto got =
      decodeMessage("k8s.io.api.core.v1.ContainerStateTerminated",
                    bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, parse(R"({"exitCode":-1})"));
}

TEST(Decode, WrongWireTypeNamesTheField) {
  // Deployment field 2 (spec) sent as a varint.
  auto got = decodeMessage("k8s.io.api.apps.v1.Deployment", bytes({0x10, 0x01}));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), 400);
  EXPECT_EQ(got.status().message(),
            "protobuf: field spec (2) of k8s.io.api.apps.v1.Deployment: wrong wire type 0");
}

TEST(Decode, UnknownKindIsBadRequest) {
  json::object obj = parse(R"({"kind":"ConfigMap","apiVersion":"v1"})");
  auto body = encodeEnvelope(obj);
  ASSERT_TRUE(body.ok());
  std::string tampered = *body;
  auto pos = tampered.find("ConfigMap");
  ASSERT_NE(pos, std::string::npos);
  tampered.replace(pos, 9, "ConfigMop");
  auto got = decodeEnvelope(tampered);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().reason(), "BadRequest");
  EXPECT_EQ(got.status().message(), "no kind \"ConfigMop\" is registered for version \"v1\"");

  auto encoded = encodeEnvelope(parse(R"({"kind":"Foo","apiVersion":"v1"})"));
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().message(), "no kind \"Foo\" is registered for version \"v1\"");
}

TEST(Decode, NonKindMessageIsNotAKind) {
  auto got = encodeEnvelope(parse(R"({"kind":"PodTemplateSpec","apiVersion":"v1"})"));
  EXPECT_FALSE(got.ok());
  auto meta = encodeEnvelope(parse(R"({"kind":"DeleteOptions","apiVersion":"batch/v1",
                                       "gracePeriodSeconds":0})"));
  ASSERT_TRUE(meta.ok()) << meta.status().message();
  auto back = decodeEnvelope(*meta);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at("gracePeriodSeconds"), 0);
}

TEST(Decode, MissingMagic) {
  auto got = decodeEnvelope("{\"kind\":\"Pod\"}");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), 400);
}

TEST(Decode, RawExtensionMayHoldAnEmbeddedEnvelope) {
  auto inner = encodeEnvelope(parse(R"({"kind":"ConfigMap","apiVersion":"v1",
                                        "metadata":{"name":"x"}})"));
  ASSERT_TRUE(inner.ok());
  // ControllerRevision: 1 metadata, 2 data (RawExtension {1 raw}), 3 revision.
  std::string raw;
  raw += bytes({0x0a});
  raw += static_cast<char>(inner->size());
  raw += *inner;
  std::string msg = bytes({0x12});
  msg += static_cast<char>(raw.size());
  msg += raw;
  msg += bytes({0x18, 0x02});
  auto got = decodeMessage("k8s.io.api.apps.v1.ControllerRevision", msg);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, parse(R"({"data":{"kind":"ConfigMap","apiVersion":"v1",
                                    "metadata":{"name":"x"}},"revision":2})"));
}

TEST(Encode, RejectsWrongJsonTypes) {
  EXPECT_FALSE(encodeEnvelope(parse(R"({"kind":"ConfigMap","apiVersion":"v1",
                                        "data":{"a":1}})"))
                   .ok());
  EXPECT_FALSE(encodeEnvelope(parse(R"({"kind":"Secret","apiVersion":"v1",
                                        "data":{"a":"not base64!"}})"))
                   .ok());
  EXPECT_FALSE(encodeEnvelope(parse(R"({"kind":"Deployment","apiVersion":"apps/v1",
                                        "spec":{"replicas":"3"}})"))
                   .ok());
  EXPECT_FALSE(encodeEnvelope(parse(R"({"kind":"Deployment","apiVersion":"apps/v1",
                                        "spec":{"replicas":4294967296}})"))
                   .ok());
  EXPECT_FALSE(encodeEnvelope(parse(R"({"kind":"Pod","apiVersion":"v1",
      "metadata":{"creationTimestamp":"yesterday"}})"))
                   .ok());
}

TEST(Encode, QuantityNumbersBecomeStrings) {
  auto body = encodeEnvelope(parse(R"({"kind":"ResourceQuota","apiVersion":"v1",
                                       "spec":{"hard":{"pods":10,"cpu":"1.5"}}})"));
  ASSERT_TRUE(body.ok());
  auto back = decodeEnvelope(*body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->at("spec"), json::parse(R"({"hard":{"cpu":"1.5","pods":"10"}})"));
}

TEST(Encode, InlinedStructsRoundTrip) {
  // Volume.volumeSource and Probe.handler are embedded with json:",inline".
  json::object pod = parse(R"({"kind":"Pod","apiVersion":"v1","spec":{
      "volumes":[{"name":"v","hostPath":{"path":"/x"}}],
      "containers":[{"name":"c","readinessProbe":{"exec":{"command":["true"]},
        "periodSeconds":3}}],
      "ephemeralContainers":[{"name":"dbg","image":"busybox","targetContainerName":"c"}]}})");
  auto body = encodeEnvelope(pod);
  ASSERT_TRUE(body.ok());
  auto back = decodeEnvelope(*body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, pod) << json::serialize(*back);
}

}  // namespace
}  // namespace berth::apiserver::protobuf
