// CRD rules with the newer CEL features: formatted strings as timestamps/durations/bytes, the
// optional syntax on schema objects, type values, Kubernetes' libraries, and rules refused under
// allOf/anyOf/oneOf/not.
#include <gtest/gtest.h>

#include "apiserver/crd/rules.h"

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

constexpr std::string_view kSchema = R"J({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "properties": {
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "timeout": {"type": "string", "format": "duration"},
        "blob": {"type": "string", "format": "byte"},
        "memory": {"type": "string"},
        "endpoint": {"type": "string"},
        "subnet": {"type": "string"},
        "port": {"type": "integer"},
        "v": {"x-kubernetes-int-or-string": true}
      },
      "x-kubernetes-validations": [
        {"rule": "!has(self.end) || self.end > self.start", "message": "end must follow start"},
        {"rule": "self.?timeout.orValue(duration('0s')) <= duration('1h')", "message": "timeout too long"},
        {"rule": "!has(self.day) || self.day.getDayOfWeek() != 0", "message": "no sundays"},
        {"rule": "!has(self.blob) || size(self.blob) <= 4", "message": "blob too big"},
        {"rule": "!has(self.memory) || quantity(self.memory).compareTo(quantity('1Gi')) <= 0", "message": "too much memory"},
        {"rule": "!has(self.endpoint) || (isURL(self.endpoint) && url(self.endpoint).getScheme() == 'https')", "message": "https only"},
        {"rule": "!has(self.subnet) || cidr('10.0.0.0/8').containsCIDR(self.subnet)", "message": "subnet outside 10/8"},
        {"rule": "self.?port.orValue(1) > 0", "message": "port must be positive"},
        {"rule": "!has(self.v) || type(self.v) == int || self.v.endsWith('%')", "message": "int or percent"}
      ]
    }
  }
})J";

std::vector<std::string> run(std::string_view spec) {
  static auto v = [] {
    FieldErrors errs;
    auto schema = compileSchema(json::parse(kSchema).as_object(), "s", errs);
    auto rules = compileRules(schema, "s", errs);
    for (const auto& e : errs) ADD_FAILURE() << e.field << ": " << e.message;
    return rules;
  }();
  json::value d = json::parse(R"({"metadata":{"name":"x"},"spec":)" + std::string(spec) + "}");
  std::vector<std::string> out;
  for (const auto& e : validateRules(*v, d, nullptr)) out.push_back(e.field + ": " + e.message);
  return out;
}

using Errors = std::vector<std::string>;

TEST(CrdRuleValues, FormattedStringsAreTyped) {
  EXPECT_EQ(run(R"({"start":"2024-01-01T00:00:00Z","end":"2024-01-02T00:00:00+01:00"})"), Errors{});
  EXPECT_EQ(run(R"({"start":"2024-01-02T00:00:00Z","end":"2024-01-01T00:00:00Z"})"),
            Errors{"spec: Invalid value: \"object\": end must follow start"});
  EXPECT_EQ(run(R"({"timeout":"90m"})"),
            Errors{"spec: Invalid value: \"object\": timeout too long"});
  EXPECT_EQ(run(R"({"timeout":"30m"})"), Errors{});
  EXPECT_EQ(run(R"({"day":"2024-03-03"})"), Errors{"spec: Invalid value: \"object\": no sundays"});
  EXPECT_EQ(run(R"({"day":"2024-03-04"})"), Errors{});
  EXPECT_EQ(run(R"({"blob":"aGVsbG8="})"), Errors{"spec: Invalid value: \"object\": blob too big"});
  EXPECT_EQ(run(R"({"blob":"aGk="})"), Errors{});
}

TEST(CrdRuleValues, LibrariesAndOptionals) {
  EXPECT_EQ(run(R"({"memory":"512Mi","endpoint":"https://a.example/x","subnet":"10.1.0.0/16",
                    "port":8080,"v":"50%"})"),
            Errors{});
  EXPECT_EQ(run(R"({"memory":"2Gi"})"), Errors{"spec: Invalid value: \"object\": too much memory"});
  EXPECT_EQ(run(R"({"endpoint":"http://a.example"})"),
            Errors{"spec: Invalid value: \"object\": https only"});
  EXPECT_EQ(run(R"({"subnet":"192.168.0.0/16"})"),
            Errors{"spec: Invalid value: \"object\": subnet outside 10/8"});
  EXPECT_EQ(run(R"({"port":0})"), Errors{"spec: Invalid value: \"object\": port must be positive"});
  EXPECT_EQ(run(R"({"v":3})"), Errors{});
  EXPECT_EQ(run(R"({"v":"3"})"), Errors{"spec: Invalid value: \"object\": int or percent"});
  // A malformed quantity is an evaluation error naming the rule.
  auto errs = run(R"({"memory":"lots"})");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("quantities must match the regular expression"), std::string::npos);
  EXPECT_NE(errs[0].find("evaluating rule: too much memory"), std::string::npos);
}

TEST(CrdRuleValues, RulesUnderJunctorsAreRefused) {
  FieldErrors errs;
  compileSchema(json::parse(R"J({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"integer"}},
      "allOf":[{"x-kubernetes-validations":[{"rule":"self.a > 0"}]}],
      "anyOf":[{"properties":{"a":{"x-kubernetes-validations":[{"rule":"self > 0"}]}}}],
      "not":{"oneOf":[{"x-kubernetes-validations":[{"rule":"true"}]}]}}}})J")
                    .as_object(),
                "s", errs);
  std::vector<std::string> got;
  for (const auto& e : errs) got.push_back(e.field + ": " + e.reason + ": " + e.message);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (Errors{"s.properties[spec].allOf[0].x-kubernetes-validations: FieldValueForbidden: "
                    "Forbidden: must be empty to be structural",
                    "s.properties[spec].anyOf[0].properties[a].x-kubernetes-validations: "
                    "FieldValueForbidden: Forbidden: must be empty to be structural",
                    "s.properties[spec].not.oneOf[0].x-kubernetes-validations: "
                    "FieldValueForbidden: Forbidden: must be empty to be structural"}));
}

}  // namespace
}  // namespace berth::apiserver::crd
