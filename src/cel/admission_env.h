#pragma once
// The CEL environment of Kubernetes admission matchConditions (upstream's
// k8s.io/apiserver/pkg/admission/plugin/cel): `object` and `oldObject` (dyn; null when absent),
// `request` (kubernetes.AdmissionRequest: kind, resource, subResource, requestKind,
// requestResource, requestSubResource, name, namespace, operation, userInfo, dryRun, options,
// uid) and `authorizer` (the authorizer library of cel/authz.h; its checks are made for the
// requesting user by the caller's AuthzCallback).
//
// Thread-safety: all functions may be called from any thread; the program cache is locked.
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "cel/cel.h"

namespace berth::cel {

constexpr size_t kMaxMatchConditions = 64;

const Env& admissionEnv();

// A matchCondition's program, or upstream's validation detail: "compilation failed: ERROR: ..."
// or "must evaluate to bool". Compiled programs are cached by expression.
std::variant<std::shared_ptr<const Program>, std::string> compileMatchCondition(
    std::string_view expression);

}  // namespace berth::cel
