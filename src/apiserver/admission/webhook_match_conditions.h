#pragma once
// A webhook's matchConditions (admissionregistration.k8s.io/v1, GA in 1.30), evaluated after its
// rules, namespaceSelector and objectSelector matched, as upstream's matchconditions.matcher:
// any condition false → the webhook is skipped (even if another one failed to evaluate); else
// an evaluation error → failurePolicy decides: Ignore skips the webhook, Fail rejects the request
// with 403 `<resource> "<name>" is forbidden: expression '<expr>' resulted in error: <why>`;
// all true → the webhook is called. Expressions that do not compile (stored before validation
// existed) count as evaluation errors.
//
// Thread-safety: pure functions (the compiled-program cache in src/cel is locked).
#include <boost/json/object.hpp>

#include "apiserver/admission/admission.h"
#include "cel/authz.h"
#include "core/status.h"

namespace berth::apiserver::admission {

struct MatchConditionsOutcome {
  bool matches = true;
  core::Status error;  // failurePolicy Fail and an evaluation error: reject with this
};

// `authz` answers the conditions' authorizer checks (null: every check is an error).
MatchConditionsOutcome evaluateMatchConditions(const boost::json::object& webhook,
                                               const Attributes& a,
                                               const cel::AuthzCallback* authz = nullptr);

}  // namespace berth::apiserver::admission
