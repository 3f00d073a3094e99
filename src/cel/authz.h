#pragma once
// Kubernetes' CEL authorizer library (upstream k8s.io/apiserver/pkg/cel/library/authz.go) for
// admission matchConditions: `authorizer.group(g).resource(r).namespace(ns).name(n)
// .subresource(s).fieldSelector(f).labelSelector(l).check(verb)`, `authorizer.path(p).check(verb)`
// and `authorizer.serviceAccount(ns, name)` (checks as that service account instead of the
// requester), each check yielding a Decision with allowed(), reason(), errored(), error();
// `authorizer.requestResource` is a ResourceCheck for the request under admission.
// The checks themselves are made by the caller's AuthzCallback (the API server's authorizer),
// so this library does not depend on the authorization code.
//
// Values of these types are CEL maps tagged with an internal "@authz" key; the checker keeps
// expressions from reaching them other than through the methods below.
//
// Thread-safety: pure functions; the callback must be safe to call from the evaluating thread.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cel/value.h"

namespace berth::cel {

struct Type;

// One authorization question, as upstream's authorizer.AttributesRecord.
struct AuthzCheck {
  std::string saNamespace, saName;  // set by serviceAccount(): ask for it instead of the requester
  bool resourceRequest = false;
  std::string group, resource, subresource, ns, name;  // resource checks
  // fieldSelector()/labelSelector() on a resource check (upstream 1.31+): the selectors as
  // written, parsed by the callback as a request's query values are.
  std::string fieldSelector, labelSelector;
  std::string path;                                    // path checks
  std::string verb;
};

struct AuthzDecision {
  bool allowed = false;
  std::string reason;
  std::string error;  // non-empty: the authorizer failed (errored() is true)
};

using AuthzCallback = std::function<AuthzDecision(const AuthzCheck&)>;

// What one check() costs in evaluation units (upstream charges a large fixed cost per check,
// roughly a thirtieth of the matchConditions budget; kept in the same proportion here).
constexpr uint64_t kAuthzCheckCost = 35'000;

// The static type of the `authorizer` variable.
Type authorizerType();
// The runtime value of the `authorizer` variable; `request` (group, resource, subresource, ns,
// name) fills authorizer.requestResource (absent: selecting it is an error).
Value authorizerValue(const AuthzCheck* request = nullptr);

// Type-checks a member call on one of the library's types: the result type, or nullopt when
// `target` is not one of them. Throws nothing; a misuse is reported through *error.
std::optional<Type> checkAuthzCall(const Type& target, const std::string& fn,
                                   const std::vector<Type>& args, std::string* error);

// Whether a runtime value is one of the library's.
bool isAuthzValue(const Value& v);
// Evaluates a member call on a library value (args[0] is the receiver). `callback` null: the
// check is an error value ("authorizer not available").
Value callAuthz(const std::string& fn, const std::vector<Value>& args,
                const AuthzCallback* callback);

}  // namespace berth::cel
