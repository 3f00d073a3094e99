#pragma once
// Authorization: who may do what. ApiHandler asks the configured Authorizer about every
// request after authentication and impersonation (authorizeRequest in request_authz.cpp);
// upstream's request attributes (RequestInfo) are computed from the path and method alone.
// Authorizers are chained (Node, then RBAC, as upstream's --authorization-mode=Node,RBAC): the
// first that allows or denies decides; no opinion from any of them is a denial.
//
// Thread-safety: authorize() is called concurrently from request threads.
#include <memory>
#include <string>
#include <vector>

#include "apiserver/authz/policy_rule.h"
#include "apiserver/http/server.h"
#include "core/labels.h"

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
  // list/watch/deletecollection selectors as sent (the raw query values; request_info.cpp).
  std::string fieldSelector;
  std::string labelSelector;
  // Their parsed requirements (upstream 1.31+ AuthorizeWithSelectors, GetFieldSelector /
  // GetLabelSelector): what authorizers look at (the Node authorizer lets a node list only its
  // own pods). A selector that did not parse leaves its error here; the requirements then hold
  // what could be parsed (maybe none). Requirements only narrow a request, so an authorizer that
  // ignores them, or a part that failed to parse, only ever errs towards the broader check.
  // Filled by parseSelectors() (selector_attributes.h).
  std::vector<core::FieldSelector::Requirement> fieldRequirements;
  std::string fieldSelectorError;
  std::vector<core::LabelSelector::Requirement> labelRequirements;
  std::string labelSelectorError;
};

enum class Decision { kNoOpinion, kAllow, kDeny };

struct Verdict {
  Decision decision = Decision::kNoOpinion;
  std::string reason;  // why (RBAC names the binding that allowed it)
  bool allowed() const { return decision == Decision::kAllow; }
};

// What a user may do in a namespace, as far as the authorizers can enumerate it (upstream's
// RuleResolver, for SelfSubjectRulesReview and `kubectl auth can-i --list`).
struct RuleSet {
  std::vector<PolicyRule> rules;  // resource and non-resource rules
  bool incomplete = false;        // some authorizer could not list what it allows
  std::vector<std::string> errors;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Verdict authorize(const Attributes& a) const = 0;
  // Adds the rules this authorizer grants `user` in `ns` to *out. Default: none.
  virtual void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const {
    (void)user;
    (void)ns;
    (void)out;
  }
};

// Upstream's union authorizer: the first Allow or Deny decides; reasons of the others that had
// no opinion are joined (they appear after the forbidden message).
class ChainAuthorizer : public Authorizer {
 public:
  void add(std::unique_ptr<Authorizer> a) { chain_.push_back(std::move(a)); }
  Verdict authorize(const Attributes& a) const override;
  void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const override;

 private:
  std::vector<std::unique_ptr<Authorizer>> chain_;
};

// The privileged group (system:masters) may do everything, before any other authorizer.
class PrivilegedGroupAuthorizer : public Authorizer {
 public:
  Verdict authorize(const Attributes& a) const override;
  void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const override;
};

// --authorization-mode AlwaysAllow.
class AlwaysAllowAuthorizer : public Authorizer {
 public:
  Verdict authorize(const Attributes&) const override { return {Decision::kAllow, ""}; }
  void rulesFor(const http::UserInfo& user, const std::string& ns, RuleSet& out) const override;
};

// Everything: `*` on every resource and every non-resource URL.
std::vector<PolicyRule> allRules();

}  // namespace berth::apiserver::authz
