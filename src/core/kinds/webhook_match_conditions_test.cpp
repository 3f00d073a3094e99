// matchConditions on admission webhook configurations: validated as upstream's
// validateMatchConditions (count, qualified unique names, CEL that compiles to bool).
#include <gtest/gtest.h>

#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

json::object hookWith(const std::string& conditions) {
  std::string text = R"({"metadata":{"name":"v"},"webhooks":[{"name":"a.example.com",
      "clientConfig":{"url":"https://127.0.0.1:1/x"},"sideEffects":"None",
      "admissionReviewVersions":["v1"],"rules":[{"operations":["CREATE"],"apiGroups":[""],
      "apiVersions":["v1"],"resources":["configmaps"]}],"matchConditions":)" +
                     conditions + "}]}";
  return parse(text.c_str());
}

const ResourceType& validating() {
  return resource("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations");
}

TEST(WebhookMatchConditions, ValidExpressionsAreAccepted) {
  auto ok = hookWith(R"J([{"name":"not-skipped","expression":
      "!has(object.metadata.labels) || !('skip' in object.metadata.labels) || object.metadata.labels['skip'] != 'true'"},
      {"name":"example.com/create","expression":"request.operation == 'CREATE'"},
      {"name":"users","expression":"request.userInfo.groups.exists(g, g == 'system:masters')"},
      {"name":"authz","expression":"!authorizer.group('').resource('pods').check('get').allowed()"}])J");
  EXPECT_VALID(create(validating(), ok));
  auto mutating = hookWith(R"J([{"name":"a","expression":"true"}])J");
  EXPECT_VALID(create(
      resource("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"), mutating));
}

TEST(WebhookMatchConditions, BadExpressionsAreInvalid) {
  auto bad = hookWith(R"J([{"name":"syntax","expression":"object.metadata.name =="},
      {"name":"undeclared","expression":"foo == 1"},
      {"name":"notbool","expression":"object.metadata.name"},
      {"name":"field","expression":"request.nope == 1"},
      {"name":"authz","expression":"authorizer.group('').check('get').allowed()"},
      {"name":"empty","expression":"  "}])J");
  auto errs = create(validating(), bad);
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[0].expression", "FieldValueInvalid",
               "Invalid value: \"object.metadata.name ==\": compilation failed: ERROR: "
               "<input>:1:24: Syntax error: mismatched input '<EOF>' expecting expression\n"
               " | object.metadata.name ==\n | .......................^");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[1].expression", "FieldValueInvalid",
               "Invalid value: \"foo == 1\": compilation failed: ERROR: <input>:1:1: "
               "undeclared reference to 'foo' (in container '')\n | foo == 1\n | ^");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[2].expression", "FieldValueInvalid",
               "Invalid value: \"object.metadata.name\": must evaluate to bool");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[3].expression", "FieldValueInvalid",
               "Invalid value: \"request.nope == 1\": compilation failed: ERROR: <input>:1:8: "
               "undefined field 'nope'\n | request.nope == 1\n | .......^");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[4].expression", "FieldValueInvalid",
               "Invalid value: \"authorizer.group('').check('get').allowed()\": compilation "
               "failed: ERROR: <input>:1:21: found no matching overload for 'check' applied to "
               "'kubernetes.authorization.GroupCheck.(string)'\n"
               " | authorizer.group('').check('get').allowed()\n | ....................^");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[5].expression", "FieldValueRequired",
               "Required value");
}

TEST(WebhookMatchConditions, NamesAreQualifiedUniqueAndAtMost64) {
  auto bad = hookWith(R"J([{"name":"a","expression":"true"},{"name":"a","expression":"true"},
      {"name":"-bad-","expression":"true"},{"expression":"true"}])J");
  auto errs = create(validating(), bad);
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[1].name", "FieldValueDuplicate",
               "Duplicate value: \"a\"");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[2].name", "FieldValueInvalid", "");
  EXPECT_CAUSE(errs, "webhooks[0].matchConditions[3].name", "FieldValueRequired", "");

  std::string many = "[";
  for (int i = 0; i < 65; ++i) {
    many += std::string(i ? "," : "") + R"({"name":"c)" + std::to_string(i) +
            R"(","expression":"true"})";
  }
  auto tooMany = hookWith(many + "]");
  EXPECT_CAUSE(create(validating(), tooMany), "webhooks[0].matchConditions", "FieldValueTooMany",
               "Too many: 65: must have at most 64 items");
}

}  // namespace
}  // namespace berth::core::kinds
