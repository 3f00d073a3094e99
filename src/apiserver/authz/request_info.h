#pragma once
// Upstream's RequestInfo (k8s.io/apiserver endpoints/request/requestinfo.go): the authorization
// attributes of a request computed from its method, path and query alone, before routing, and
// the 403 Status an authorizer's denial becomes (endpoints/handlers/responsewriters/errors.go).
//
// Pure functions; safe from any thread. Never fail: a path that names no resource is a
// non-resource request (verb = lower-case method).
#include <map>
#include <string>
#include <string_view>

#include "apiserver/authz/authorizer.h"
#include "core/status.h"

namespace berth::apiserver::authz {

// `query` holds the decoded query parameters (watch, fieldSelector, labelSelector are read).
Attributes requestAttributes(std::string_view method, std::string_view path,
                             const std::multimap<std::string, std::string>& query);

// The value an exact-match term of a field selector pins `field` to ("metadata.name=x" or
// "metadata.name==x"; upstream RequiresExactMatch), or "" when no term does.
std::string fieldSelectorValue(std::string_view selector, std::string_view field);

// `pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace
// "default"`, with details {group, kind = resource, name}; `reason` (the authorizers' own
// explanation) is appended after ": " when not empty.
core::Status forbiddenStatus(const Attributes& a, std::string_view reason);

}  // namespace berth::apiserver::authz
