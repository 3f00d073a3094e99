#pragma once
// Which admission webhooks a request goes to: upstream's rule matching
// (admissionregistration.k8s.io/v1 RuleWithOperations: operations, apiGroups, apiVersions,
// resources with `*`, `*/*`, `pods/*`, `*/scale`, and scope) plus namespaceSelector and
// objectSelector. matchConditions are evaluated after these (webhook_match_conditions.h).
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "apiserver/admission/admission.h"
#include "core/labels.h"

namespace berth::apiserver::admission {

struct RequestTarget {
  Operation operation = Operation::kCreate;
  std::string group, version, resource, subresource;
  bool namespaced = true;
};

// One `rules[]` entry against a request.
bool ruleMatches(const boost::json::object& rule, const RequestTarget& target);
// Any of the webhook's rules.
bool rulesMatch(const boost::json::object& webhook, const RequestTarget& target);
// The webhook's namespaceSelector against the labels of the request's namespace (for a
// Namespace itself, its own labels; cluster-scoped objects always match). An absent or empty
// selector matches everything; a malformed one nothing.
bool namespaceSelectorMatches(const boost::json::object& webhook, const RequestTarget& target,
                              const std::optional<core::Labels>& namespaceLabels);
// The webhook's objectSelector against the object's or the old object's labels.
bool objectSelectorMatches(const boost::json::object& webhook, const boost::json::object* object,
                           const boost::json::object* oldObject);

}  // namespace berth::apiserver::admission
