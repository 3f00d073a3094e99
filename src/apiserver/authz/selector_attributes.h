#pragma once
// Field and label selectors in authorization attributes (upstream 1.31+ AuthorizeWithSelectors):
//  - requests: a list, watch or deletecollection carries its fieldSelector and labelSelector
//    query values, parsed here into requirements (parseSelectors);
//  - SubjectAccessReviews: spec.resourceAttributes.fieldSelector / labelSelector, each a
//    rawSelector (parsed the same way) or requirements [{key, operator, values}]
//    (pkg/registry/authorization/util/helpers.go). Malformed structure is a 422 from
//    validateReviewSelectors (pkg/apis/authorization/validation); a selector that does not parse,
//    or a requirement the authorizers cannot use (an unknown operator, a field Exists), is
//    dropped and reported in the review's status.evaluationError instead (selectorErrors).
//
// Pure functions; safe from any thread.
#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "core/status.h"

namespace berth::apiserver::authz {

// Parses a.fieldSelector / a.labelSelector (when not empty) into a's requirements and errors.
void parseSelectors(Attributes& a);

// The 422 causes for spec.resourceAttributes' selectors (`path` is "spec.resourceAttributes").
std::vector<core::StatusCause> validateReviewSelectors(
    const boost::json::object& resourceAttributes, const std::string& path);

// Fills a's raw selectors, requirements and errors from spec.resourceAttributes.
void reviewSelectors(const boost::json::object& resourceAttributes, Attributes& a);

// upstream BuildEvaluationError's selector part: "spec.resourceAttributes.fieldSelector ignored
// due to parse error" ("partially ignored" when some requirements remain), the same for the
// label selector, joined with "; "; "" when both parsed.
std::string selectorErrors(const Attributes& a);

}  // namespace berth::apiserver::authz
