#include "apiserver/admission/webhook_match_conditions.h"

#include <algorithm>

#include "apiserver/admission/webhook_review.h"
#include "cel/admission_env.h"
#include "core/json_access.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

MatchConditionsOutcome evaluateMatchConditions(const json::object& webhook, const Attributes& a,
                                               const cel::AuthzCallback* authz) {
  MatchConditionsOutcome out;
  auto* conds = webhook.if_contains("matchConditions");
  if (!conds || !conds->is_array() || conds->as_array().empty()) return out;

  json::object request = admissionRequestForCel(a);
  cel::AuthzCheck requestResource;  // authorizer.requestResource
  requestResource.group = a.resource->group;
  requestResource.resource = a.resource->plural;
  requestResource.subresource = a.subresource;
  requestResource.ns = a.ns;
  requestResource.name = a.name;
  cel::Activation act{
      {"object", a.object ? cel::Value::fromJsonObject(*a.object) : cel::Value()},
      {"oldObject", a.oldObject ? cel::Value::fromJsonObject(*a.oldObject) : cel::Value()},
      {"request", cel::Value::fromJsonObject(request)},
      {"authorizer", cel::authorizerValue(&requestResource)}};
  std::vector<std::string> errors;
  // One budget for all of a webhook's conditions, as upstream's filter shares its remaining
  // budget between expressions: 64 hostile conditions cost no more than one.
  uint64_t budget = cel::kDefaultCostLimit;
  for (const auto& c : conds->as_array()) {
    if (!c.is_object()) continue;
    std::string expr = core::stringField(c.as_object(), "expression");
    auto compiled = cel::compileMatchCondition(expr);
    if (auto* detail = std::get_if<std::string>(&compiled)) {
      errors.push_back("expression '" + expr + "' resulted in error: " + *detail);
      continue;
    }
    uint64_t used = 0;
    cel::Value v = cel::evaluate(*std::get<std::shared_ptr<const cel::Program>>(compiled), act,
                                 budget, &used, authz);
    budget -= std::min(used, budget);
    if (v.isError()) {
      errors.push_back("expression '" + expr + "' resulted in error: " + v.asString());
    } else if (v.kind() != cel::Kind::kBool) {
      errors.push_back("expression '" + expr + "' resulted in error: no matching overload: " +
                       "expected bool, got " + v.typeName());
    } else if (!v.asBool()) {
      out.matches = false;  // a false condition skips the webhook whatever the errors
      return out;
    }
  }
  if (errors.empty()) return out;
  out.matches = false;
  if (core::stringField(webhook, "failurePolicy") == "Ignore") return out;
  // Upstream: apierrors.NewForbidden(resource, name, aggregate of the errors).
  std::string why = errors[0];
  if (errors.size() > 1) {
    why = "[";
    for (size_t i = 0; i < errors.size(); ++i) why += (i ? ", " : "") + errors[i];
    why += "]";
  }
  const core::ResourceType& rt = *a.resource;
  std::string resource = rt.group.empty() ? rt.plural : rt.plural + "." + rt.group;
  std::string subject = a.name.empty() ? resource : resource + " \"" + a.name + "\"";
  out.error = core::Status::forbidden(subject + " is forbidden: " + why);
  return out;
}

}  // namespace berth::apiserver::admission
