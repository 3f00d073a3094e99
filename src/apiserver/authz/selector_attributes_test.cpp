#include "apiserver/authz/selector_attributes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/request_info.h"

namespace berth::apiserver::authz {
namespace {

namespace json = boost::json;

json::object ra(std::string_view text) { return json::parse(text).as_object(); }

std::vector<std::string> causeMessages(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& c : validateReviewSelectors(ra(text), "spec.resourceAttributes"))
    out.push_back(c.field + ": " + c.message);
  return out;
}

TEST(SelectorAttributes, RequestsCarryParsedSelectorsOnCollectionVerbsOnly) {
  Attributes list =
      requestAttributes("GET", "/api/v1/pods",
                        {{"fieldSelector", "spec.nodeName=n1"}, {"labelSelector", "app in (a,b)"}});
  ASSERT_EQ(list.fieldRequirements.size(), 1u);
  EXPECT_EQ(list.fieldRequirements[0].field, "spec.nodeName");
  EXPECT_TRUE(list.fieldRequirements[0].equals);
  EXPECT_EQ(list.fieldRequirements[0].value, "n1");
  ASSERT_EQ(list.labelRequirements.size(), 1u);
  EXPECT_EQ(list.labelRequirements[0].key, "app");
  EXPECT_EQ(list.labelRequirements[0].values, (std::vector<std::string>{"a", "b"}));

  Attributes dc =
      requestAttributes("DELETE", "/api/v1/namespaces/ns/pods", {{"labelSelector", "x"}});
  EXPECT_EQ(dc.verb, "deletecollection");
  EXPECT_EQ(dc.labelRequirements.size(), 1u);

  Attributes get = requestAttributes("GET", "/api/v1/namespaces/ns/pods/p",
                                     {{"fieldSelector", "spec.nodeName=n1"}});
  EXPECT_EQ(get.fieldSelector, "");
  EXPECT_TRUE(get.fieldRequirements.empty());

  Attributes bad = requestAttributes("GET", "/api/v1/pods", {{"labelSelector", "a in (b"}});
  EXPECT_TRUE(bad.labelRequirements.empty());
  EXPECT_NE(bad.labelSelectorError, "");
}

TEST(SelectorAttributes, ReviewValidationAsUpstream) {
  EXPECT_TRUE(causeMessages(R"({"fieldSelector":{"rawSelector":"a=b"}})").empty());
  EXPECT_EQ(causeMessages(R"({"fieldSelector":{"rawSelector":"foo","requirements":[{}]}})")[0],
            "spec.resourceAttributes.fieldSelector.rawSelector: Invalid value: \"foo\": may not "
            "specified at the same time as requirements");
  EXPECT_EQ(causeMessages(R"({"labelSelector":{}})")[0],
            "spec.resourceAttributes.labelSelector.requirements: Required value: when "
            "spec.resourceAttributes.labelSelector is specified, requirements or rawSelector is "
            "required");
  EXPECT_EQ(
      causeMessages(
          R"({"fieldSelector":{"requirements":[{"key":"","operator":"In","values":["x"]}]}})")[0],
      "spec.resourceAttributes.fieldSelector.requirements[0].key: Required value: must be "
      "specified");
  EXPECT_EQ(
      causeMessages(R"({"fieldSelector":{"requirements":[{"key":"k","operator":"NotIn"}]}})")[0],
      "spec.resourceAttributes.fieldSelector.requirements[0].values: Required value: must be "
      "specified when `operator` is 'In' or 'NotIn'");
  EXPECT_EQ(
      causeMessages(
          R"({"labelSelector":{"requirements":[{"key":"k","operator":"Exists","values":["v"]}]}})")
          [0],
      "spec.resourceAttributes.labelSelector.requirements[0].values: Forbidden: may not be "
      "specified when `operator` is 'Exists' or 'DoesNotExist'");
  EXPECT_EQ(
      causeMessages(R"({"labelSelector":{"requirements":[{"key":"","operator":"Exists"}]}})")[0],
      "spec.resourceAttributes.labelSelector.requirements[0].key: Invalid value: \"\": name "
      "part must be non-empty");
  // Unknown operators pass validation (a newer client's): they are dropped when parsing instead.
  EXPECT_TRUE(
      causeMessages(
          R"({"labelSelector":{"requirements":[{"key":"k","operator":"Gt","values":["1"]}]}})")
          .empty());
}

TEST(SelectorAttributes, ReviewRequirementsAndEvaluationErrors) {
  Attributes a;
  reviewSelectors(ra(R"({"fieldSelector":{"requirements":[
      {"key":"spec.nodeName","operator":"In","values":["n1"]},
      {"key":"status.phase","operator":"NotIn","values":["Failed"]}]},
    "labelSelector":{"requirements":[{"key":"app","operator":"Exists"}]}})"),
                  a);
  ASSERT_EQ(a.fieldRequirements.size(), 2u);
  EXPECT_TRUE(a.fieldRequirements[0].equals);
  EXPECT_FALSE(a.fieldRequirements[1].equals);
  ASSERT_EQ(a.labelRequirements.size(), 1u);
  EXPECT_EQ(a.labelRequirements[0].op, core::LabelSelector::Op::kExists);
  EXPECT_EQ(selectorErrors(a), "");

  Attributes partial;
  reviewSelectors(ra(R"({"fieldSelector":{"requirements":[
      {"key":"spec.nodeName","operator":"In","values":["n1"]},
      {"key":"a","operator":"In","values":["x","y"]},
      {"key":"b","operator":"Exists"}]}})"),
                  partial);
  EXPECT_EQ(partial.fieldRequirements.size(), 1u);
  EXPECT_EQ(partial.fieldSelectorError,
            "[fieldSelectors do not yet support multiple values, fieldSelectors do not yet "
            "support Exists]");
  EXPECT_EQ(selectorErrors(partial),
            "spec.resourceAttributes.fieldSelector partially ignored due to parse error");

  Attributes raw;
  reviewSelectors(ra(R"({"fieldSelector":{"rawSelector":"spec.nodeName=n1"},
                         "labelSelector":{"rawSelector":"a in (b"}})"),
                  raw);
  EXPECT_EQ(raw.fieldRequirements.size(), 1u);
  EXPECT_EQ(raw.fieldSelector, "spec.nodeName=n1");
  EXPECT_TRUE(raw.labelRequirements.empty());
  EXPECT_EQ(selectorErrors(raw),
            "spec.resourceAttributes.labelSelector ignored due to parse error");

  Attributes op;
  reviewSelectors(
      ra(R"({"labelSelector":{"requirements":[{"key":"k","operator":"Gt","values":["1"]}]}})"), op);
  EXPECT_EQ(op.labelSelectorError, "\"Gt\" is not a valid label selector operator");
}

}  // namespace
}  // namespace berth::apiserver::authz
