#include "apiserver/openapi/gnostic.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>

#include "apiserver/openapi/openapi.h"

namespace berth::apiserver::openapi {
namespace {
namespace json = boost::json;

// A protobuf message read back with a reader written for this test alone (not the encoder's
// writer): field number → its occurrences, each a varint, a fixed64 or a byte string.
struct Value {
  int wireType = 0;
  std::uint64_t number = 0;
  std::string bytes;
};

class Message {
 public:
  static std::optional<Message> parse(std::string_view data) {
    Message m;
    size_t i = 0;
    auto varint = [&](std::uint64_t& out) {
      out = 0;
      for (int shift = 0; shift < 64 && i < data.size(); shift += 7) {
        auto b = static_cast<std::uint8_t>(data[i++]);
        out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return true;
      }
      return false;
    };
    while (i < data.size()) {
      std::uint64_t key = 0;
      if (!varint(key)) return std::nullopt;
      Value v;
      v.wireType = static_cast<int>(key & 7);
      if (v.wireType == 0) {
        if (!varint(v.number)) return std::nullopt;
      } else if (v.wireType == 1) {
        if (data.size() - i < 8) return std::nullopt;
        std::memcpy(&v.number, data.data() + i, 8);  // little-endian host
        i += 8;
      } else if (v.wireType == 2) {
        std::uint64_t len = 0;
        if (!varint(len) || len > data.size() - i) return std::nullopt;
        v.bytes = std::string(data.substr(i, len));
        i += len;
      } else {
        return std::nullopt;
      }
      m.fields_.emplace(static_cast<int>(key >> 3), std::move(v));
    }
    return m;
  }

  size_t count(int field) const { return fields_.count(field); }
  std::vector<const Value*> all(int field) const {
    std::vector<const Value*> out;
    auto [b, e] = fields_.equal_range(field);
    for (auto it = b; it != e; ++it) out.push_back(&it->second);
    return out;
  }
  std::string str(int field) const {
    auto it = fields_.find(field);
    return it == fields_.end() ? std::string() : it->second.bytes;
  }
  std::vector<std::string> strs(int field) const {
    std::vector<std::string> out;
    for (const Value* v : all(field)) out.push_back(v->bytes);
    return out;
  }
  std::optional<std::uint64_t> num(int field) const {
    auto it = fields_.find(field);
    if (it == fields_.end()) return std::nullopt;
    return it->second.number;
  }
  Message sub(int field) const {
    auto m = parse(str(field));
    EXPECT_TRUE(m.has_value()) << "field " << field;
    return m.value_or(Message{});
  }
  // Repeated Named<X> pairs {1: name, 2: value} at `field`, as name → value message.
  std::map<std::string, Message> named(int field) const {
    std::map<std::string, Message> out;
    for (const Value* v : all(field)) {
      auto pair = parse(v->bytes);
      EXPECT_TRUE(pair.has_value());
      if (pair) out.emplace(pair->str(1), pair->sub(2));
    }
    return out;
  }
  // A vendor extension's value: NamedAny → Any.yaml (field 2), parsed as JSON (what we wrote).
  std::optional<json::value> extension(int field, std::string_view name) const {
    auto ext = named(field);
    auto it = ext.find(std::string(name));
    if (it == ext.end()) return std::nullopt;
    return json::parse(it->second.str(2));
  }

 private:
  std::multimap<int, Value> fields_;
};

// Field numbers of gnostic's OpenAPIv2.proto used below.
constexpr int kDocSwagger = 1, kDocInfo = 2, kDocPaths = 8, kDocDefinitions = 9, kDocSecurity = 12,
              kDocSecurityDefinitions = 13;
constexpr int kSchemaRef = 1, kSchemaFormat = 2, kSchemaMaximum = 7, kSchemaMinLength = 12,
              kSchemaRequired = 19, kSchemaEnum = 20, kSchemaAdditionalProperties = 21,
              kSchemaType = 22, kSchemaItems = 23, kSchemaProperties = 25, kSchemaVendor = 31;

Message decode(const std::string& bytes) {
  auto m = Message::parse(bytes);
  EXPECT_TRUE(m.has_value());
  return m.value_or(Message{});
}

const Message& realDocument() {
  static const Message doc = decode(v2Protobuf());
  return doc;
}

std::map<std::string, Message> definitionsOf(const Message& doc) {
  return doc.sub(kDocDefinitions).named(1);
}

TEST(GnosticV2, TopLevelFieldsMatchTheJsonDocument) {
  json::object swagger = json::parse(v2Document()).as_object();
  const Message& doc = realDocument();
  EXPECT_EQ(doc.str(kDocSwagger), "2.0");
  Message info = doc.sub(kDocInfo);
  EXPECT_EQ(info.str(1), "Kubernetes");
  EXPECT_EQ(info.str(2), swagger.at("info").at("version").as_string());
  Message paths = doc.sub(kDocPaths);
  EXPECT_EQ(paths.count(2), swagger.at("paths").as_object().size());
  EXPECT_GT(paths.count(2), 100u);
  EXPECT_EQ(definitionsOf(doc).size(), swagger.at("definitions").as_object().size());
  // securityDefinitions: BearerToken as an ApiKeySecurity (arm 2); security: [{BearerToken: []}].
  auto schemes = doc.sub(kDocSecurityDefinitions).named(1);
  ASSERT_TRUE(schemes.count("BearerToken"));
  Message apiKey = schemes.at("BearerToken").sub(2);
  EXPECT_EQ(apiKey.str(1), "apiKey");
  EXPECT_EQ(apiKey.str(2), "authorization");
  EXPECT_EQ(apiKey.str(3), "header");
  ASSERT_EQ(doc.count(kDocSecurity), 1u);
  auto requirement = doc.sub(kDocSecurity).named(1);
  EXPECT_TRUE(requirement.count("BearerToken"));
}

TEST(GnosticV2, EveryKeyOfTheServedDocumentIsEncoded) {
  std::vector<std::string> skipped;
  std::string bytes = encodeGnosticV2(json::parse(v2Document()).as_object(), &skipped);
  EXPECT_TRUE(skipped.empty()) << skipped.front();
  EXPECT_EQ(bytes, v2Protobuf());  // deterministic, and what the server caches
}

TEST(GnosticV2, PodDefinitionKeepsPropertiesAndGroupVersionKind) {
  auto defs = definitionsOf(realDocument());
  ASSERT_TRUE(defs.count("io.k8s.api.core.v1.Pod"));
  const Message& pod = defs.at("io.k8s.api.core.v1.Pod");
  EXPECT_EQ(pod.sub(kSchemaType).strs(1), std::vector<std::string>{"object"});
  auto props = pod.sub(kSchemaProperties).named(1);
  for (const char* p : {"apiVersion", "kind", "metadata", "spec", "status"}) {
    EXPECT_TRUE(props.count(p)) << p;
  }
  EXPECT_EQ(props.at("spec").str(kSchemaRef), "#/definitions/io.k8s.api.core.v1.PodSpec");
  EXPECT_EQ(props.at("kind").sub(kSchemaType).strs(1), std::vector<std::string>{"string"});
  // kubectl finds a kind's model by this extension, read as YAML (JSON is YAML).
  auto gvk = pod.extension(kSchemaVendor, "x-kubernetes-group-version-kind");
  ASSERT_TRUE(gvk.has_value());
  EXPECT_EQ(*gvk, json::parse(R"([{"group":"","kind":"Pod","version":"v1"}])"));

  const Message& deploy = defs.at("io.k8s.api.apps.v1.Deployment");
  EXPECT_EQ(*deploy.extension(kSchemaVendor, "x-kubernetes-group-version-kind"),
            json::parse(R"([{"group":"apps","kind":"Deployment","version":"v1"}])"));
  // IntOrString keeps its format (kubectl's validator accepts both forms by it).
  EXPECT_EQ(defs.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString").str(kSchemaFormat),
            "int-or-string");
}

TEST(GnosticV2, PatchMergeKeysSurviveForClientSideApply) {
  auto defs = definitionsOf(realDocument());
  auto spec = defs.at("io.k8s.api.core.v1.PodSpec").sub(kSchemaProperties).named(1);
  const Message& containers = spec.at("containers");
  EXPECT_EQ(containers.sub(kSchemaType).strs(1), std::vector<std::string>{"array"});
  // items: ItemsItem {repeated Schema schema = 1} with exactly one schema.
  Message items = containers.sub(kSchemaItems);
  ASSERT_EQ(items.count(1), 1u);
  EXPECT_EQ(items.sub(1).str(kSchemaRef), "#/definitions/io.k8s.api.core.v1.Container");
  EXPECT_EQ(*containers.extension(kSchemaVendor, "x-kubernetes-patch-merge-key"), "name");
  EXPECT_EQ(*containers.extension(kSchemaVendor, "x-kubernetes-patch-strategy"), "merge");
  auto ports = defs.at("io.k8s.api.core.v1.ServiceSpec").sub(kSchemaProperties).named(1);
  EXPECT_EQ(*ports.at("ports").extension(kSchemaVendor, "x-kubernetes-patch-merge-key"), "port");
  // Maps are objects with an additionalProperties schema (arm 1).
  auto meta =
      defs.at("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta").sub(kSchemaProperties).named(1);
  Message labels = meta.at("labels");
  EXPECT_EQ(labels.sub(kSchemaType).strs(1), std::vector<std::string>{"object"});
  EXPECT_EQ(labels.sub(kSchemaAdditionalProperties).sub(1).sub(kSchemaType).strs(1),
            std::vector<std::string>{"string"});
}

TEST(GnosticV2, PatchOperationListsFieldValidationAndBody) {
  auto paths = realDocument().sub(kDocPaths).named(2);
  const std::string path = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}";
  ASSERT_TRUE(paths.count(path));
  const Message& item = paths.at(path);
  Message patch = item.sub(8);
  EXPECT_EQ(*patch.extension(13, "x-kubernetes-group-version-kind"),
            json::parse(R"({"group":"apps","kind":"Deployment","version":"v1"})"));
  EXPECT_EQ(*patch.extension(13, "x-kubernetes-action"), "patch");
  bool fieldValidation = false, body = false;
  for (const Value* p : patch.all(8)) {
    Message parameter = decode(p->bytes).sub(1);  // ParametersItem → Parameter
    if (parameter.count(1)) {                     // BodyParameter
      Message b = parameter.sub(1);
      body = b.str(2) == "body" && b.str(3) == "body" && b.num(4) == 1u &&
             b.sub(5).str(kSchemaRef) == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
    } else {
      Message query = parameter.sub(2).sub(3);  // NonBodyParameter → QueryParameterSubSchema
      if (query.str(4) == "fieldValidation" && query.str(2) == "query") fieldValidation = true;
    }
  }
  EXPECT_TRUE(fieldValidation);
  EXPECT_TRUE(body);
  // Path-item parameters: the path parameters (arm 4), required.
  bool namespaceParam = false;
  for (const Value* p : item.all(9)) {
    Message nonBody = decode(p->bytes).sub(1).sub(2);
    if (nonBody.count(4) && nonBody.sub(4).str(4) == "namespace") {
      namespaceParam = nonBody.sub(4).num(1) == 1u && nonBody.sub(4).str(5) == "string";
    }
  }
  EXPECT_TRUE(namespaceParam);
  // Responses: "200" → ResponseValue arm 1 → Response with a schema (SchemaItem arm 1).
  auto responses = patch.sub(9).named(1);
  ASSERT_TRUE(responses.count("200"));
  EXPECT_EQ(responses.at("200").sub(1).sub(2).sub(1).str(kSchemaRef),
            "#/definitions/io.k8s.api.apps.v1.Deployment");
}

TEST(GnosticV2, OneOfArmsScalarsAndZeroValues) {
  json::object swagger = json::parse(R"({
    "swagger": "2.0",
    "info": {"title": "t", "version": "", "x-info": 1},
    "paths": {
      "x-paths-ext": {"a": 1},
      "/p": {
        "parameters": [{"$ref": "#/parameters/shared"}],
        "get": {
          "deprecated": false,
          "parameters": [{"name": "h", "in": "header", "type": "string", "required": false}],
          "responses": {"default": {"$ref": "#/responses/err"}, "x-r": true}
        }
      }
    },
    "definitions": {
      "T": {
        "type": ["object", "null"],
        "required": ["a", "b"],
        "additionalProperties": false,
        "properties": {
          "n": {"type": "number", "maximum": 2.5, "minLength": 3, "enum": [1, "two"]},
          "tuple": {"items": [{"type": "string"}, {"type": "integer"}]},
          "bogus": {"oneOf": []}
        }
      }
    }
  })")
                             .as_object();
  std::vector<std::string> skipped;
  Message doc = decode(encodeGnosticV2(swagger, &skipped));
  EXPECT_EQ(skipped, std::vector<std::string>{"Schema.oneOf"});

  Message info = doc.sub(kDocInfo);
  EXPECT_EQ(info.count(2), 0u);  // proto3: an empty string is not sent
  EXPECT_EQ(*info.extension(7, "x-info"), 1);

  Message paths = doc.sub(kDocPaths);
  EXPECT_EQ(*paths.extension(1, "x-paths-ext"), json::parse(R"({"a":1})"));
  Message p = paths.named(2).at("/p");
  EXPECT_EQ(decode(p.all(9).at(0)->bytes).sub(2).str(1), "#/parameters/shared");  // JsonReference
  Message get = p.sub(2);
  EXPECT_EQ(get.count(11), 0u);  // deprecated: false is a zero value
  Message header = decode(get.all(8).at(0)->bytes).sub(1).sub(2).sub(1);  // header arm
  EXPECT_EQ(header.str(4), "h");
  EXPECT_EQ(header.count(1), 0u);  // required: false
  Message responses = get.sub(9);
  EXPECT_EQ(responses.named(1).at("default").sub(2).str(1), "#/responses/err");
  EXPECT_EQ(*responses.extension(2, "x-r"), true);

  Message t = definitionsOf(doc).at("T");
  EXPECT_EQ(t.sub(kSchemaType).strs(1), (std::vector<std::string>{"object", "null"}));
  EXPECT_EQ(t.strs(kSchemaRequired), (std::vector<std::string>{"a", "b"}));
  // A one-of arm holding false is still sent: field 2 = 0.
  Message additional = t.sub(kSchemaAdditionalProperties);
  EXPECT_EQ(additional.num(2), 0u);
  EXPECT_EQ(additional.count(1), 0u);
  auto props = t.sub(kSchemaProperties).named(1);
  const Message& n = props.at("n");
  double maximum = 0;
  std::uint64_t bits = n.num(kSchemaMaximum).value_or(0);
  std::memcpy(&maximum, &bits, sizeof maximum);
  EXPECT_EQ(maximum, 2.5);
  EXPECT_EQ(n.num(kSchemaMinLength), 3u);
  auto enums = n.all(kSchemaEnum);
  ASSERT_EQ(enums.size(), 2u);
  EXPECT_EQ(json::parse(decode(enums[1]->bytes).str(2)), "two");
  EXPECT_EQ(props.at("tuple").sub(kSchemaItems).count(1), 2u);
}

TEST(GnosticV2, WrongTypesAreSkippedNotFatal) {
  json::object swagger = json::parse(
                             R"({"swagger": 2, "paths": [], "definitions": {"X": "notobj"},
                                 "tags": [{"name": "n"}], "schemes": "https"})")
                             .as_object();
  std::vector<std::string> skipped;
  Message doc = decode(encodeGnosticV2(swagger, &skipped));
  EXPECT_EQ(doc.count(kDocSwagger), 0u);
  EXPECT_EQ(doc.sub(14).str(1), "n");
  EXPECT_EQ(skipped.size(), 4u);
}

}  // namespace
}  // namespace berth::apiserver::openapi
