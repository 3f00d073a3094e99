#include "apiserver/admission/webhook_match_conditions.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/resources.h"

namespace berth::apiserver::admission {
namespace {

namespace json = boost::json;

json::object hook(std::string_view conditions, std::string_view failurePolicy = "Fail") {
  return json::parse(std::string(R"({"name":"a.example.com","failurePolicy":")") +
                     std::string(failurePolicy) + R"(","matchConditions":)" +
                     std::string(conditions) + "}")
      .as_object();
}

struct Request {
  json::object object = json::parse(R"({"metadata":{"name":"cm","labels":{"skip":"true"}},
                                        "data":{"k":"v"}})")
                            .as_object();
  Attributes attrs;
  Request() {
    attrs.operation = Operation::kCreate;
    attrs.resource = core::findResource("", "v1", "configmaps");
    attrs.ns = "default";
    attrs.name = "cm";
    attrs.user.name = "alice";
    attrs.user.groups = {"devs", "system:authenticated"};
    attrs.object = &object;
  }
};

TEST(WebhookMatchConditions, AllTrueCallsTheWebhook) {
  Request r;
  auto out = evaluateMatchConditions(hook(R"J([{"name":"a","expression":"object.data.k == 'v'"},
               {"name":"b","expression":"request.operation == 'CREATE' && request.namespace == 'default'"},
               {"name":"c","expression":"request.userInfo.groups.exists(g, g == 'devs')"},
               {"name":"d","expression":"oldObject == null && request.subResource == ''"},
               {"name":"e","expression":"request.resource.resource == 'configmaps' && request.kind.kind == 'ConfigMap'"}])J"),
                                     r.attrs);
  EXPECT_TRUE(out.matches);
  EXPECT_TRUE(out.error.ok());
}

TEST(WebhookMatchConditions, NoConditionsMatch) {
  Request r;
  EXPECT_TRUE(evaluateMatchConditions(json::parse(R"({"name":"x"})").as_object(), r.attrs).matches);
}

TEST(WebhookMatchConditions, AnyFalseSkipsEvenWithErrors) {
  Request r;
  auto out = evaluateMatchConditions(hook(R"J([{"name":"err","expression":"object.nope == 1"},
               {"name":"skip","expression":"object.metadata.labels['skip'] != 'true'"}])J"),
                                     r.attrs);
  EXPECT_FALSE(out.matches);
  EXPECT_TRUE(out.error.ok());
}

TEST(WebhookMatchConditions, ErrorsFollowTheFailurePolicy) {
  Request r;
  const char* conds = R"J([{"name":"err","expression":"object.nope == 1"},
                          {"name":"ok","expression":"true"}])J";
  auto fail = evaluateMatchConditions(hook(conds, "Fail"), r.attrs);
  EXPECT_FALSE(fail.matches);
  EXPECT_EQ(fail.error.code(), 403);
  EXPECT_EQ(fail.error.message(),
            "configmaps \"cm\" is forbidden: expression 'object.nope == 1' resulted in error: "
            "no such key: nope");
  auto ignore = evaluateMatchConditions(hook(conds, "Ignore"), r.attrs);
  EXPECT_FALSE(ignore.matches);
  EXPECT_TRUE(ignore.error.ok());

  // Two errors are listed together; an expression stored before validation counts as one.
  auto two = evaluateMatchConditions(
      hook(R"J([{"name":"a","expression":"object.nope == 1"},{"name":"b","expression":"1 +"}])J"),
      r.attrs);
  EXPECT_EQ(two.error.message().rfind(
                "configmaps \"cm\" is forbidden: [expression 'object.nope == 1' resulted in "
                "error: no such key: nope, expression '1 +' resulted in error: compilation failed",
                0),
            0u)
      << two.error.message();
}

TEST(WebhookMatchConditions, ConditionsShareOneCostBudget) {
  Request r;
  // Each condition alone stays under the budget (10^5 iterations); the webhook's conditions
  // together do not.
  std::string range = "[0,1,2,3,4,5,6,7,8,9]";
  std::string heavy = range + ".all(a, " + range + ".all(b, " + range + ".all(c, " + range +
                      ".all(d, " + range + ".all(e, true)))))";
  std::string conds = "[";
  for (int i = 0; i < 12; ++i) {
    conds += std::string(i ? "," : "") + R"({"name":"c)" + std::to_string(i) +
             R"(","expression":")" + heavy + R"("})";
  }
  auto out = evaluateMatchConditions(hook(conds + "]"), r.attrs);
  EXPECT_FALSE(out.matches);
  EXPECT_NE(out.error.message().find("actual cost limit exceeded"), std::string::npos)
      << out.error.message();
  auto one = evaluateMatchConditions(hook(R"J([{"name":"c","expression":")J" + heavy + R"J("}])J"),
                                     r.attrs);
  EXPECT_TRUE(one.matches) << one.error.message();
}

TEST(WebhookMatchConditions, DeleteHasNoObject) {
  Request r;
  r.attrs.operation = Operation::kDelete;
  r.attrs.oldObject = r.attrs.object;
  r.attrs.object = nullptr;
  auto out = evaluateMatchConditions(
      hook(
          R"J([{"name":"a","expression":"object == null && oldObject.metadata.name == 'cm' && request.operation == 'DELETE'"}])J"),
      r.attrs);
  EXPECT_TRUE(out.matches);
  EXPECT_TRUE(out.error.ok());
}

}  // namespace
}  // namespace berth::apiserver::admission
