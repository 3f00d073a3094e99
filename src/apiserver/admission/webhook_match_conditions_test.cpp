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

// The authorizer library asks the callback; the webhook plugin binds it to the requester.
TEST(WebhookMatchConditions, AuthorizerChecksGoThroughTheCallback) {
  Request r;
  std::vector<cel::AuthzCheck> asked;
  cel::AuthzCallback mayDelete = [&](const cel::AuthzCheck& c) {
    asked.push_back(c);
    return cel::AuthzDecision{c.verb == "delete", "fake", ""};
  };
  auto skipDeleters = hook(
      R"J([{"name":"a","expression":"!authorizer.group('').resource('configmaps').check('delete').allowed()"}])J");
  auto out = evaluateMatchConditions(skipDeleters, r.attrs, &mayDelete);
  EXPECT_FALSE(out.matches);  // alice may delete configmaps: the webhook is skipped
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].resource, "configmaps");
  EXPECT_EQ(asked[0].verb, "delete");
  EXPECT_TRUE(asked[0].resourceRequest);

  // authorizer.requestResource is the request under admission.
  asked.clear();
  out = evaluateMatchConditions(
      hook(R"J([{"name":"a","expression":"authorizer.requestResource.check('delete').allowed()"}])J"),
      r.attrs, &mayDelete);
  EXPECT_TRUE(out.matches);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].group, "");
  EXPECT_EQ(asked[0].resource, "configmaps");
  EXPECT_EQ(asked[0].ns, "default");
  EXPECT_EQ(asked[0].name, "cm");

  cel::AuthzCallback mayNot = [](const cel::AuthzCheck&) {
    return cel::AuthzDecision{false, "", ""};
  };
  out = evaluateMatchConditions(skipDeleters, r.attrs, &mayNot);
  EXPECT_TRUE(out.matches);
  EXPECT_TRUE(out.error.ok());

  // An authorizer that fails is an evaluation error: failurePolicy Fail rejects.
  cel::AuthzCallback broken = [](const cel::AuthzCheck&) {
    return cel::AuthzDecision{false, "", "authorizer down"};
  };
  out = evaluateMatchConditions(
      hook(R"J([{"name":"a","expression":"authorizer.path('/x').check('get').errored()"}])J"),
      r.attrs, &broken);
  EXPECT_TRUE(out.matches);
  // No callback at all: the check is an error, and failurePolicy decides.
  out = evaluateMatchConditions(skipDeleters, r.attrs);
  EXPECT_FALSE(out.matches);
  EXPECT_EQ(out.error.code(), 403);
  EXPECT_NE(out.error.message().find("authorizer not available"), std::string::npos)
      << out.error.message();
  out = evaluateMatchConditions(
      hook(R"J([{"name":"a","expression":"!authorizer.group('').resource('configmaps').check('delete').allowed()"}])J",
           "Ignore"),
      r.attrs);
  EXPECT_FALSE(out.matches);
  EXPECT_TRUE(out.error.ok());
}

}  // namespace
}  // namespace berth::apiserver::admission
