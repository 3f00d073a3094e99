// Job spec.podFailurePolicy validation: field paths, reasons and messages as upstream's
// validatePodFailurePolicy words them.
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

json::object jobWithPolicy(const std::string& rules, const char* restart = "Never") {
  return json::parse(R"({"metadata":{"name":"pfp","namespace":"default","uid":"1"},
      "spec":{"podFailurePolicy":{"rules":)" +
                     rules + R"(},
        "template":{"spec":{"restartPolicy":")" +
                     restart + R"(",
          "containers":[{"name":"main","image":"i"}]}}}})")
      .as_object();
}

TEST(JobPodFailurePolicy, ValidRulesPass) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto job = jobWithPolicy(R"([
      {"action":"FailJob","onExitCodes":{"containerName":"main","operator":"In","values":[1,42]}},
      {"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]},
      {"action":"Count","onExitCodes":{"operator":"NotIn","values":[0]}}])");
  EXPECT_VALID(create(rt, job));
  EXPECT_EQ(at(job, "spec.podReplacementPolicy"), json::value("Failed"));
}

TEST(JobPodFailurePolicy, RejectsWhatUpstreamRejects) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto onFailure = jobWithPolicy(
      R"([{"action":"FailJob","onExitCodes":{"operator":"In","values":[1]}}])", "OnFailure");
  EXPECT_CAUSE(create(rt, onFailure), "spec.template.spec.restartPolicy", "FieldValueInvalid",
               "Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy "
               "is specified");

  auto bad = jobWithPolicy(R"([
      {"action":"Explode","onExitCodes":{"containerName":"other","operator":"Is","values":[3,0,3]}},
      {"action":"FailIndex","onPodConditions":[{"type":"DisruptionTarget","status":"Maybe"}]},
      {"action":"Ignore"},
      {"action":"Count","onExitCodes":{"operator":"In","values":[]}},
      {"action":"FailJob","onExitCodes":{"operator":"In","values":[0]},
       "onPodConditions":[{"type":"DisruptionTarget"}]}])");
  auto errs = create(rt, bad);
  const std::string r = "spec.podFailurePolicy.rules";
  EXPECT_CAUSE(errs, r + "[0].action", "FieldValueNotSupported",
               "Unsupported value: \"Explode\": supported values: \"Count\", \"FailJob\", "
               "\"Ignore\"");
  EXPECT_CAUSE(errs, r + "[0].onExitCodes.operator", "FieldValueNotSupported",
               "Unsupported value: \"Is\": supported values: \"In\", \"NotIn\"");
  EXPECT_CAUSE(errs, r + "[0].onExitCodes.containerName", "FieldValueInvalid",
               "Invalid value: \"other\": must be one of the container or initContainer names "
               "in the pod template");
  EXPECT_CAUSE(errs, r + "[0].onExitCodes.values[2]", "FieldValueDuplicate", "Duplicate value: 3");
  EXPECT_CAUSE(errs, r + "[0].onExitCodes.values", "FieldValueInvalid",
               "Invalid value: []int32{3, 0, 3}: must be ordered");
  EXPECT_CAUSE(errs, r + "[1].action", "FieldValueInvalid",
               "Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set");
  EXPECT_CAUSE(errs, r + "[1].onPodConditions[0].status", "FieldValueNotSupported",
               "Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\"");
  EXPECT_CAUSE(errs, r + "[2]", "FieldValueInvalid",
               "Invalid value: specifying one of OnExitCodes and OnPodConditions is required");
  EXPECT_CAUSE(errs, r + "[3].onExitCodes.values", "FieldValueInvalid",
               "Invalid value: []int32(nil): at least one value is required");
  EXPECT_CAUSE(errs, r + "[4].onExitCodes.values[0]", "FieldValueInvalid",
               "Invalid value: 0: must not be 0 for the In operator");
  EXPECT_CAUSE(errs, r + "[4].onPodConditions[0].status", "FieldValueRequired",
               "Required value: valid values: [\"False\" \"True\" \"Unknown\"]");
  EXPECT_CAUSE(errs, r + "[4]", "FieldValueInvalid",
               "Invalid value: specifying both OnExitCodes and OnPodConditions is not supported");
}

}  // namespace
}  // namespace berth::core::kinds
