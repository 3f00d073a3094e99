#pragma once
// RBAC policy rules (rbac.authorization.k8s.io/v1 PolicyRule) and how they match a request and
// cover one another, after upstream's plugin/pkg/auth/authorizer/rbac (RuleAllows and its
// matchers) and pkg/registry/rbac/validation (Covers, used for escalation prevention).
//
// Values only; safe to share between threads once built.
#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/policy_rule.h"

namespace berth::apiserver::authz {

// The rules of a role object (Role or ClusterRole JSON): its "rules" array.
std::vector<PolicyRule> rulesOf(const boost::json::object& role);

// Does `rule` allow the request? (upstream RuleAllows)
bool ruleAllows(const PolicyRule& rule, const Attributes& a);
bool rulesAllow(const std::vector<PolicyRule>& rules, const Attributes& a);

// Do `owner` rules grant everything `servant` rules grant? On false, `uncovered` (when given)
// receives the servant rules, broken down to one verb/group/resource/name each, that are not
// covered (upstream's Covers).
bool covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered = nullptr);

// Upstream's compact rule form in escalation errors: `{APIGroups:["apps"], Resources:["pods"],
// Verbs:["get"]}`.
std::string compactString(const PolicyRule& rule);

}  // namespace berth::apiserver::authz
