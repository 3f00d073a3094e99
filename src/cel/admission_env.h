#pragma once
// The CEL environment of Kubernetes admission matchConditions (upstream's
// k8s.io/apiserver/pkg/admission/plugin/cel): `object` and `oldObject` (dyn; null when absent),
// `request` (kubernetes.AdmissionRequest: kind, resource, subResource, requestKind,
// requestResource, requestSubResource, name, namespace, operation, userInfo, dryRun, options,
// uid) and `authorizer`, which this server declares but does not evaluate: an expression using
// it is refused at compile time with a message saying so.
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
