#include "apiserver/crd/schema.h"

#include <gtest/gtest.h>

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

std::shared_ptr<const Schema> compile(std::string_view text, FieldErrors* errsOut = nullptr) {
  FieldErrors errs;
  auto s = compileSchema(json::parse(text).as_object(), "root", errs);
  if (errsOut) *errsOut = errs;
  return s;
}

// The errors of `doc` as "field: message" lines.
std::vector<std::string> errorsOf(const Schema& s, std::string_view doc) {
  std::vector<std::string> out;
  for (const auto& e : validateObject(s, json::parse(doc)))
    out.push_back(e.field + ": " + e.message);
  return out;
}

constexpr std::string_view kCronTab = R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["cronSpec"],
      "properties": {
        "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
        "image": {"type": "string", "minLength": 2, "maxLength": 5},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
        "mode": {"type": "string", "enum": ["Fast", "Slow"], "default": "Slow"},
        "port": {"x-kubernetes-int-or-string": true},
        "note": {"type": "string", "nullable": true, "default": "n"},
        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "minLength": 1}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "properties": {"spec": {"type": "object", "properties": {"x": {"type": "integer"}}}}},
        "workers": {"type": "array", "items": {"type": "object",
                    "properties": {"name": {"type": "string"}, "size": {"type": "integer", "default": 3}}}}
      }
    },
    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}
  }
})";

TEST(CrdSchema, ValidObjectHasNoErrors) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  EXPECT_TRUE(errorsOf(*s, R"({"apiVersion":"a/v1","kind":"K","metadata":{"name":"x"},
      "spec":{"cronSpec":"* * * * */5","image":"abc","replicas":3,"port":"http",
              "template":{"apiVersion":"v1","kind":"Pod"},
              "tags":["a"],"labels":{"k":"v"},"note":null,"ratio":1.2}})")
                  .empty());
  EXPECT_TRUE(
      errorsOf(*s, R"({"spec":{"cronSpec":"1 2 3 4 5","port":8080,"replicas":2.0}})").empty());
}

TEST(CrdSchema, MessagesFollowKubeOpenApi) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  auto errs = errorsOf(*s, R"({"spec":{"cronSpec":"bad","image":"toolong","replicas":20,
      "mode":"x","port":true,"tags":["a","",3],"labels":{"k":1},"ratio":1.5}})");
  std::vector<std::string> want = {
      "spec.cronSpec: Invalid value: \"bad\": spec.cronSpec in body should match "
      "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'",
      "spec.image: Too long: may not be more than 5 bytes",
      "spec.labels.k: Invalid value: \"integer\": spec.labels.k in body must be of type string: "
      "\"integer\"",
      "spec.mode: Unsupported value: \"x\": supported values: \"Fast\", \"Slow\"",
      "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer: "
      "\"boolean\"",
      "spec.port: Invalid value: \"boolean\": spec.port in body must be of type string: "
      "\"boolean\"",
      "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5",
      "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10",
      "spec.tags: Too many: 3: must have at most 2 items",
      "spec.tags[1]: Invalid value: \"\": spec.tags[1] in body should be at least 1 chars long",
      "spec.tags[2]: Invalid value: \"integer\": spec.tags[2] in body must be of type string: "
      "\"integer\"",
  };
  std::sort(errs.begin(), errs.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(errs, want);
}

TEST(CrdSchema, EmbeddedResourcesNameTheirType) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  EXPECT_EQ(
      errorsOf(*s, R"({"spec":{"cronSpec":"1 2 3 4 5","template":{"kind":"Pod"}}})"),
      std::vector<std::string>{"spec.template.apiVersion: Required value: must not be empty"});
  EXPECT_TRUE(
      errorsOf(*s, R"({"spec":{"cronSpec":"1 2 3 4 5","template":{"apiVersion":"v1","kind":"Pod",
      "spec":{"x":1}}}})")
          .empty());
}

TEST(CrdSchema, PatternsMatchHugeStringsInLinearTime) {
  // std::regex recursed per character here and overflowed the stack near 100k characters.
  auto s = compile(
      R"({"type":"object","properties":{"d":{"type":"string","pattern":"^(\\d+|\\*)+$"}}})");
  ASSERT_TRUE(s);
  std::string digits(2 << 20, '7');
  EXPECT_TRUE(validateObject(*s, json::object{{"d", digits}}).empty());
  digits.back() = 'x';
  auto errs = validateObject(*s, json::object{{"d", digits}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "d");
}

TEST(CrdSchema, RequiredTypeAndNull) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  EXPECT_EQ(errorsOf(*s, R"({"spec":{}})"),
            std::vector<std::string>{"spec.cronSpec: Required value"});
  EXPECT_EQ(
      errorsOf(*s, R"({"spec":"x"})"),
      std::vector<std::string>{
          "spec: Invalid value: \"string\": spec in body must be of type object: \"string\""});
  EXPECT_EQ(errorsOf(*s, R"({"spec":{"cronSpec":"1 2 3 4 5","replicas":null}})"),
            std::vector<std::string>{"spec.replicas: Invalid value: \"null\": spec.replicas in "
                                     "body must be of type integer: \"null\""});
  auto causes = validateObject(*s, json::parse(R"({"spec":{"cronSpec":1}})"));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].reason, "FieldValueTypeInvalid");
  EXPECT_EQ(causes[0].field, "spec.cronSpec");
}

TEST(CrdSchema, DefaultsFillAbsentAndNonNullableNulls) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  json::value doc = json::parse(
      R"({"spec":{"cronSpec":"x","replicas":null,"note":null,"workers":[{"name":"a"},{"size":1}]}})");
  applyDefaults(*s, doc);
  const auto& spec = doc.at("spec").as_object();
  EXPECT_EQ(spec.at("replicas"), json::value(1));   // null, not nullable → default
  EXPECT_TRUE(spec.at("note").is_null());           // nullable keeps null
  EXPECT_EQ(spec.at("mode"), json::value("Slow"));  // absent → default
  EXPECT_EQ(spec.at("workers").at(0).at("size"), json::value(3));
  EXPECT_EQ(spec.at("workers").at(1).at("size"), json::value(1));
  json::value again = doc;
  applyDefaults(*s, again);
  EXPECT_EQ(again, doc);  // idempotent
  // No spec at all: nothing to default inside it.
  json::value empty = json::parse(R"({"metadata":{"name":"x"}})");
  applyDefaults(*s, empty);
  EXPECT_FALSE(empty.as_object().contains("spec"));
}

TEST(CrdSchema, PruningDropsUnknownFieldsOnly) {
  auto s = compile(kCronTab);
  ASSERT_TRUE(s);
  json::value doc = json::parse(R"({"apiVersion":"a/v1","kind":"K","metadata":{"name":"x"},
      "top":1,"spec":{"cronSpec":"x","bogus":true,"extra":{"any":{"thing":1}},
      "template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1,"y":2},"z":0},
      "workers":[{"name":"a","junk":1}],"labels":{"free":"form"}},"status":{"replicas":1,"other":2}})");
  EXPECT_EQ(unknownFields(*s, doc),
            (std::vector<std::string>{"top", "spec.bogus", "spec.template.spec.y",
                                      "spec.template.z", "spec.workers[0].junk", "status.other"}));
  prune(*s, doc);
  EXPECT_EQ(doc, json::parse(R"({"apiVersion":"a/v1","kind":"K","metadata":{"name":"x"},
      "spec":{"cronSpec":"x","extra":{"any":{"thing":1}},
      "template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1}},
      "workers":[{"name":"a"}],"labels":{"free":"form"}},"status":{"replicas":1}})"));
  EXPECT_TRUE(unknownFields(*s, doc).empty());
}

TEST(CrdSchema, StructuralChecksAtCompileTime) {
  FieldErrors errs;
  EXPECT_FALSE(compile(
      R"({"type":"object","properties":{"spec":{"properties":{"a":{"type":"string"}}}}})", &errs));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "root.properties[spec].type");
  EXPECT_EQ(errs[0].message, "Required value: must not be empty for specified object fields");

  EXPECT_FALSE(compile(R"({"type":"string"})", &errs));
  EXPECT_EQ(errs.at(0).message, "Invalid value: \"string\": must be object at the root");

  EXPECT_FALSE(
      compile(R"({"type":"object","properties":{"a":{"type":"string","pattern":"("}}})", &errs));
  EXPECT_EQ(errs.at(0).field, "root.properties[a].pattern");

  EXPECT_FALSE(
      compile(R"({"type":"object","properties":{"a":{"type":"integer","default":"x"}}})", &errs));
  EXPECT_EQ(errs.at(0).field, "root.properties[a].default");

  EXPECT_FALSE(compile(R"({"type":"object","properties":{"a":{"type":"strin"}}})", &errs));
  EXPECT_EQ(errs.at(0).reason, "FieldValueNotSupported");

  EXPECT_FALSE(compile(R"({"type":"object","properties":{"a":{"type":"array"}}})", &errs));
  EXPECT_EQ(errs.at(0).field, "root.properties[a].items");

  EXPECT_FALSE(compile(R"({"type":"object","x-kubernetes-preserve-unknown-fields":false})", &errs));
  EXPECT_TRUE(compile(R"({"type":"object","x-kubernetes-preserve-unknown-fields":true})", &errs));
  EXPECT_TRUE(compile(R"({"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true}}})",
                      &errs));
}

}  // namespace
}  // namespace berth::apiserver::crd
