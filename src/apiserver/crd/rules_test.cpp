#include "apiserver/crd/rules.h"

#include "apiserver/crd/rule_cost.h"

#include <gtest/gtest.h>

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

constexpr std::string_view kSchema = R"J({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "x-kubernetes-validations": [
        {"rule": "self.minReplicas <= self.replicas", "message": "minReplicas must not exceed replicas"},
        {"rule": "!has(self.ratio) || self.ratio * 2.0 < 3.0"}
      ],
      "properties": {
        "replicas": {"type": "integer"},
        "minReplicas": {"type": "integer"},
        "ratio": {"type": "number"},
        "mode": {"type": "string", "x-kubernetes-validations": [
          {"rule": "self == oldSelf", "message": "mode is immutable"}]},
        "host-name": {"type": "string"},
        "tags": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 20},
                 "x-kubernetes-validations": [{"rule": "self.all(t, t.startsWith('t-'))",
                                               "messageExpression": "'bad tags: ' + self.join(',')"}]},
        "ports": {"type": "array", "items": {"type": "object",
                  "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                  "x-kubernetes-validations": [{"rule": "self.port > 0", "fieldPath": ".port",
                                                "reason": "FieldValueForbidden", "message": "positive"}]}},
        "labels": {"type": "object", "additionalProperties": {"type": "string",
                   "x-kubernetes-validations": [{"rule": "size(self) < 5"}]}},
        "named": {"type": "array", "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}, "v": {"type": "integer"}},
                            "x-kubernetes-validations": [{"rule": "self.v >= oldSelf.v",
                                                          "message": "v may only grow"}]}}
      }
    }
  },
  "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('ok')", "message": "bad name"}]
})J";

std::shared_ptr<const RuleValidator> compileText(std::string_view text,
                                                 FieldErrors* out = nullptr) {
  FieldErrors errs;
  auto schema = compileSchema(json::parse(text).as_object(), "s", errs);
  auto v = compileRules(schema, "s", errs);
  if (out) *out = errs;
  return v;
}

std::vector<std::string> run(std::string_view doc, std::string_view old = "") {
  static auto v = compileText(kSchema);
  json::value d = json::parse(doc);
  json::value o = old.empty() ? json::value() : json::parse(old);
  std::vector<std::string> out;
  for (const auto& e : validateRules(*v, d, old.empty() ? nullptr : &o))
    out.push_back(e.field + ": " + e.reason + ": " + e.message);
  return out;
}

TEST(CrdRules, PassingObjectHasNoErrors) {
  FieldErrors errs;
  ASSERT_NE(compileText(kSchema, &errs), nullptr);
  EXPECT_TRUE(errs.empty()) << errs[0].field << ": " << errs[0].message;
  EXPECT_TRUE(run(R"J({"metadata":{"name":"ok1"},"spec":{"replicas":3,"minReplicas":1,"ratio":1,
                    "tags":["t-a"],"ports":[{"port":80}],"labels":{"a":"b"}}})J")
                  .empty());
}

TEST(CrdRules, FailuresCarryPathMessageAndReason) {
  auto errs = run(R"J({"metadata":{"name":"x"},"spec":{"replicas":1,"minReplicas":2,"ratio":2,
                    "tags":["t-a","b"],"ports":[{"port":1},{"port":0}],"labels":{"k":"toolong"}}})J");
  std::vector<std::string> want = {
      "<nil>: FieldValueInvalid: Invalid value: \"object\": bad name",
      "spec: FieldValueInvalid: Invalid value: \"object\": minReplicas must not exceed replicas",
      "spec: FieldValueInvalid: Invalid value: \"object\": failed rule: !has(self.ratio) || "
      "self.ratio * 2.0 < 3.0",
      "spec.labels[k]: FieldValueInvalid: Invalid value: \"string\": failed rule: size(self) < 5",
      "spec.ports[1].port: FieldValueForbidden: Forbidden: positive",
      "spec.tags: FieldValueInvalid: Invalid value: \"array\": bad tags: t-a,b",
  };
  std::sort(errs.begin(), errs.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(errs, want);
}

TEST(CrdRules, TransitionRulesRunOnlyWithAnOldValue) {
  EXPECT_TRUE(
      run(R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"mode":"a"}})J")
          .empty());
  EXPECT_TRUE(
      run(R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"mode":"a"}})J",
          R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"mode":"a"}})J")
          .empty());
  EXPECT_EQ(run(R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"mode":"b"}})J",
                R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"mode":"a"}})J"),
            std::vector<std::string>{
                "spec.mode: FieldValueInvalid: Invalid value: \"string\": mode is immutable"});
  // list-type=map items correlate by key: a new item has no old value, a changed one does.
  EXPECT_EQ(
      run(R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"named":[{"name":"a","v":1},{"name":"b","v":0}]}})J",
          R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":1,"named":[{"name":"a","v":2}]}})J"),
      std::vector<std::string>{
          "spec.named[0]: FieldValueInvalid: Invalid value: \"object\": v may only grow"});
}

TEST(CrdRules, EvaluationErrorsNameTheRule) {
  EXPECT_EQ(
      run(R"J({"metadata":{"name":"ok"},"spec":{"replicas":1}})J"),
      std::vector<std::string>{"spec: FieldValueInvalid: Invalid value: \"object\": no such key: "
                               "minReplicas evaluating rule: minReplicas must not exceed "
                               "replicas"});
}

TEST(CrdRules, UnchangedValuesAreRatcheted) {
  std::string bad = R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":2}})J";
  EXPECT_EQ(run(bad).size(), 1u);
  EXPECT_TRUE(run(bad, bad).empty());
  // The ratcheted failure becomes a warning with the field error's text; a changed sibling
  // still fails.
  static auto v = compileText(kSchema);
  json::value d = json::parse(bad), o = json::parse(bad);
  std::vector<std::string> warnings;
  EXPECT_TRUE(validateRules(*v, d, &o, &warnings).empty());
  EXPECT_EQ(warnings, std::vector<std::string>{"spec: Invalid value: \"object\": minReplicas "
                                               "must not exceed replicas"});
  json::value changed = json::parse(
      R"J({"metadata":{"name":"ok"},"spec":{"replicas":1,"minReplicas":2,"tags":["x"]}})J");
  warnings.clear();
  auto errs = validateRules(*v, changed, &o, &warnings);
  ASSERT_EQ(errs.size(), 2u);  // spec changed: its rule fails again, and so does the new tag
  EXPECT_TRUE(warnings.empty());
}

TEST(CrdRules, CompileErrorsAreFieldErrors) {
  FieldErrors errs;
  EXPECT_EQ(compileText(R"J({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"integer"}},
      "x-kubernetes-validations":[{"rule":"self.b > 0"},{"rule":"self.a"},{"rule":""},
                                   {"rule":"self.a > 0","reason":"Nope"},
                                   {"rule":"self.a > 0","fieldPath":".zz"}]}}})J",
                        &errs),
            nullptr);
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0].field, "s.properties[spec].x-kubernetes-validations[2].rule");
  EXPECT_EQ(errs[0].message, "Required value: rule is not specified");
  EXPECT_EQ(errs[1].field, "s.properties[spec].x-kubernetes-validations[3].reason");
  EXPECT_EQ(errs[2].message, "Invalid value: \".zz\": fieldPath must be a valid path");

  errs.clear();
  compileText(R"J({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"integer"}},
      "x-kubernetes-validations":[{"rule":"self.b > 0"},{"rule":"self.a"}]}}})J",
              &errs);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].field, "s.properties[spec].x-kubernetes-validations[0].rule");
  EXPECT_NE(errs[0].message.find("compilation failed: ERROR: <input>:1:5: undefined field 'b'"),
            std::string::npos)
      << errs[0].message;
  EXPECT_NE(errs[1].message.find("cel expression must evaluate to a bool"), std::string::npos);
}

TEST(CrdRules, OptionalOldSelfRunsOnCreateToo) {
  FieldErrors errs;
  auto v = compileText(R"J({"type":"object","properties":{"tier":{"type":"string",
      "x-kubernetes-validations":[{"rule":"oldSelf.hasValue() || self == 'basic'",
                                   "optionalOldSelf":true, "message":"start basic"},
                                  {"rule":"!oldSelf.hasValue() || self >= oldSelf.value()",
                                   "optionalOldSelf":true, "message":"no downgrade"}]}}})J",
                       &errs);
  ASSERT_NE(v, nullptr) << errs[0].message;
  auto check = [&](std::string_view doc, std::string_view old) {
    json::value d = json::parse(doc), o = old.empty() ? json::value() : json::parse(old);
    std::vector<std::string> out;
    for (const auto& e : validateRules(*v, d, old.empty() ? nullptr : &o)) out.push_back(e.message);
    return out;
  };
  EXPECT_TRUE(check(R"J({"tier":"basic"})J", "").empty());
  EXPECT_EQ(check(R"J({"tier":"gold"})J", ""),
            std::vector<std::string>{"Invalid value: \"string\": start basic"});
  EXPECT_TRUE(check(R"J({"tier":"gold"})J", R"J({"tier":"basic"})J").empty());
  EXPECT_EQ(check(R"J({"tier":"alpha"})J", R"J({"tier":"basic"})J"),
            std::vector<std::string>{"Invalid value: \"string\": no downgrade"});
  // optionalOldSelf on a rule that does not use oldSelf is refused.
  compileText(R"J({"type":"object","properties":{"a":{"type":"string",
      "x-kubernetes-validations":[{"rule":"self != ''","optionalOldSelf":true}]}}})J",
              &errs);
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs.back().message.find("may not be set if oldSelf is not used in rule"),
            std::string::npos);
}

TEST(CrdRules, OldSelfIsRefusedUnderUncorrelatableLists) {
  FieldErrors errs;
  compileText(R"J({"type":"object","properties":{"l":{"type":"array","maxItems":10,
      "items":{"type":"string","maxLength":10,
               "x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}})J",
              &errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].message.find("oldSelf cannot be used on the uncorrelatable portion"),
            std::string::npos);
}

TEST(CrdRules, TypesAndEscaping) {
  EXPECT_EQ(escapeCelName("foo-bar"), "foo__dash__bar");
  EXPECT_EQ(escapeCelName("namespace"), "__namespace__");
  EXPECT_EQ(escapeCelName("a__b.c/d"), "a__underscores__b__dot__c__slash__d");
  EXPECT_EQ(escapeCelName("1abc"), std::nullopt);
  EXPECT_EQ(escapeCelName("a b"), std::nullopt);
  FieldErrors errs;
  auto schema = compileSchema(json::parse(kSchema).as_object(), "", errs);
  auto t = celTypeOf(schema->properties.at("spec"), false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->fields->at("ratio").name(), "double");
  EXPECT_EQ(t->fields->at("tags").name(), "list(string)");
  EXPECT_EQ(t->fields->at("labels").name(), "map(string, string)");
  EXPECT_TRUE(t->fields->count("host__dash__name"));
  // A JSON integer under type number is a CEL double.
  auto v = celValueOf(schema->properties.at("spec"), json::parse(R"J({"ratio": 1})J"), false);
  EXPECT_EQ(v.get(cel::Value::string("ratio"))->kind(), cel::Kind::kDouble);
}

TEST(CrdRules, EstimatedCostOverTheLimitsIsRefused) {
  auto messages = [](std::string_view schema) {
    FieldErrors errs;
    auto v = compileText(schema, &errs);
    std::vector<std::string> out;
    for (const auto& e : errs) out.push_back(e.field + ": " + e.message);
    return std::make_pair(v != nullptr, out);
  };
  // A nested loop over unbounded lists of unbounded strings: far over the per-rule limit, and
  // so over the CRD's total too.
  auto [valid, errs] = messages(R"J({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"array","items":{"type":"string"}}},
      "x-kubernetes-validations":[{"rule":"self.a.all(x, self.a.exists(y, x == y))"}]}}})J");
  EXPECT_TRUE(valid);  // cost errors alone keep the rules of a stored CRD running
  EXPECT_EQ(errs, (std::vector<std::string>{
                      "s.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated "
                      "rule cost exceeds budget by factor of more than 100x (try simplifying the "
                      "rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, "
                      "and strings are declared)",
                      "s.properties[spec].x-kubernetes-validations[0].rule: Forbidden: "
                      "contributed to estimated rule cost total exceeding cost limit for entire "
                      "OpenAPIv3 schema",
                      "s: Forbidden: x-kubernetes-validations estimated rule cost total for entire "
                      "OpenAPIv3 schema exceeds budget by factor of more than 100x (try "
                      "simplifying the rule, or adding maxItems, maxProperties, and maxLength "
                      "where arrays, maps, and strings are declared)"}));
  // The same rule with bounds is accepted.
  EXPECT_EQ(messages(R"J({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"a":{"type":"array","maxItems":100,"items":{"type":"string","maxLength":63}}},
      "x-kubernetes-validations":[{"rule":"self.a.all(x, self.a.exists(y, x == y))"}]}}})J")
                .second,
            std::vector<std::string>{});
  // A cheap rule on every item of a bounded-per-request list is fine; an expensive string
  // comparison on each of them is multiplied by how many there can be.
  EXPECT_TRUE(messages(R"J({"type":"object","properties":{"l":{"type":"array",
      "items":{"type":"string","x-kubernetes-validations":[{"rule":"self.startsWith('a')"}]}}}})J")
                  .second.empty());
  auto each = messages(R"J({"type":"object","properties":{"l":{"type":"array",
      "items":{"type":"string","x-kubernetes-validations":[{"rule":"self.contains('a')"}]}}}})J");
  ASSERT_FALSE(each.second.empty());
  EXPECT_NE(each.second[0].find("s.properties[l].items.x-kubernetes-validations[0].rule: "
                                "Forbidden: estimated rule cost exceeds budget"),
            std::string::npos);
  EXPECT_EQ(costErrorMessage("x", 12'000'000, 10'000'000).substr(0, 44),
            "x exceeds budget by factor of 1.200000x (try");
  EXPECT_EQ(costErrorMessage("x", 25'000'000, 10'000'000).substr(0, 37),
            "x exceeds budget by factor of 2.5x (t");
}

}  // namespace
}  // namespace berth::apiserver::crd
