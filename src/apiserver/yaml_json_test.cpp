#include "apiserver/yaml_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

namespace berth::apiserver {
namespace {

namespace json = boost::json;

TEST(YamlJson, ManifestScalarsResolveLikeKubernetes) {
  auto v = yamlToJson(R"(
apiVersion: v1
kind: Pod
metadata:
  name: x
  labels: {app: "123", on: "true"}
spec:
  replicas: 3
  ratio: 0.5
  enabled: true
  nothing: null
  tilde: ~
  quoted: "42"
  single: 'false'
  list: [a, 1, "b"]
)");
  ASSERT_TRUE(v.ok()) << v.status().message();
  const auto& o = v->as_object();
  EXPECT_EQ(o.at("kind").as_string(), "Pod");
  const auto& spec = o.at("spec").as_object();
  EXPECT_EQ(spec.at("replicas").as_int64(), 3);
  EXPECT_DOUBLE_EQ(spec.at("ratio").as_double(), 0.5);
  EXPECT_TRUE(spec.at("enabled").as_bool());
  EXPECT_TRUE(spec.at("nothing").is_null());
  EXPECT_TRUE(spec.at("tilde").is_null());
  EXPECT_EQ(spec.at("quoted").as_string(), "42");
  EXPECT_EQ(spec.at("single").as_string(), "false");
  EXPECT_EQ(o.at("metadata").at("labels").at("app").as_string(), "123");
  const auto& list = spec.at("list").as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].as_int64(), 1);
  EXPECT_EQ(list[2].as_string(), "b");
}

TEST(YamlJson, JsonIsYaml) {
  std::string doc = R"({"a":[1,2,{"b":"c"}],"d":{"e":null,"f":false}})";
  auto v = yamlToJson(doc);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::parse(doc));
}

TEST(YamlJson, BadInputIsBadRequest) {
  for (const char* bad : {"a: [1, 2", "a: b: c", "{a: 1", "@x", "a: \"unterminated"}) {
    auto v = yamlToJson(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), 400) << bad;
  }
}

TEST(YamlJson, InputThatHangsYamlCppLoadAllReturns) {
  auto v = yamlToJson(",@");
  EXPECT_TRUE(v.ok() || v.status().code() == 400);
}

TEST(YamlJson, DeepNestingIsRejectedNotCrashing) {
  std::string deep(5000, '[');
  auto v = yamlToJson(deep);
  EXPECT_FALSE(v.ok());
}

// Property: random printable documents never crash the converter; whatever converts is a
// JSON value that serializes and parses back to itself.
TEST(YamlJson, RandomInputNeverCrashes) {
  std::mt19937 gen(1234);
  const std::string alphabet = "ab:- \n\t[]{},\"'#&*!|>%@`0123456789.~";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int n = gen() % 80;
    for (int j = 0; j < n; ++j) s += alphabet[gen() % alphabet.size()];
    auto v = yamlToJson(s);
    if (v.ok()) {
      auto text = json::serialize(*v);
      EXPECT_EQ(json::parse(text), *v);
    } else {
      EXPECT_EQ(v.status().code(), 400);
    }
  }
}

// Property: a random JSON value rendered as YAML flow text converts back to the same value.
TEST(YamlJson, RandomJsonRoundTrips) {
  std::mt19937 gen(99);
  std::function<json::value(int)> make = [&](int depth) -> json::value {
    switch (depth > 3 ? gen() % 4 : gen() % 6) {
      case 0:
        return json::value(static_cast<int64_t>(gen() % 100000) - 50000);
      case 1:
        return json::value(gen() % 2 == 0);
      case 2:
        return json::value(nullptr);
      case 3: {
        std::string s;
        for (int i = 0, n = gen() % 8; i < n; ++i) s += "abc xyz:#-"[gen() % 10];
        return json::value(json::string(s));
      }
      case 4: {
        json::array a;
        for (int i = 0, n = gen() % 4; i < n; ++i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (int i = 0, n = gen() % 4; i < n; ++i)
          o["k" + std::to_string(gen() % 50)] = make(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 500; ++i) {
    json::value v = make(0);
    auto back = yamlToJson(json::serialize(v));
    ASSERT_TRUE(back.ok()) << json::serialize(v);
    EXPECT_EQ(*back, v) << json::serialize(v);
  }
}

}  // namespace
}  // namespace berth::apiserver
