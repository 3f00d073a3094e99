#pragma once
// Authorization: who may do what. ApiHandler asks the configured Authorizer about every
// request after authentication and impersonation (authorizeRequest in request_authz.cpp);
// upstream's request attributes (RequestInfo) are computed from the path and method alone.
// Authorizers are chained (Node, then RBAC, as upstream's --authorization-mode=Node,RBAC): the
// first that allows or denies decides; no opinion from any of them is a denial.
//
// Thread-safety: authorize() is called concurrently from request threads.
#include <string>

#include "apiserver/http/server.h"

namespace berth::apiserver::authz {

struct Attributes {
  http::UserInfo user;
  // get, list, watch, create, update, patch, delete, deletecollection for resources; the
  // lower-case HTTP method (get, post, put, ...) for non-resource paths; impersonate, bind,
  // escalate, approve, sign, use for the special checks.
  std::string verb;
  bool resourceRequest = false;
  std::string apiGroup;  // "" for core
  std::string apiVersion;
  std::string resource;  // plural, lower case
  std::string subresource;
  std::string ns;
  std::string name;
  std::string path;  // the request path, for non-resource requests
};

enum class Decision { kNoOpinion, kAllow, kDeny };

struct Verdict {
  Decision decision = Decision::kNoOpinion;
  std::string reason;  // why (RBAC names the binding that allowed it)
  bool allowed() const { return decision == Decision::kAllow; }
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Verdict authorize(const Attributes& a) const = 0;
};

}  // namespace berth::apiserver::authz
