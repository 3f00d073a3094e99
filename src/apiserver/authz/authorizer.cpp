#include "apiserver/authz/authorizer.h"

#include <algorithm>

namespace berth::apiserver::authz {

Verdict ChainAuthorizer::authorize(const Attributes& a) const {
  std::string reasons;
  for (const auto& authorizer : chain_) {
    Verdict v = authorizer->authorize(a);
    if (v.decision != Decision::kNoOpinion) return v;
    if (!v.reason.empty()) reasons += (reasons.empty() ? "" : ", ") + v.reason;
  }
  return {Decision::kNoOpinion, std::move(reasons)};
}

void ChainAuthorizer::rulesFor(const http::UserInfo& user, const std::string& ns,
                               RuleSet& out) const {
  for (const auto& authorizer : chain_) authorizer->rulesFor(user, ns, out);
}

std::vector<PolicyRule> allRules() {
  return {PolicyRule{{"*"}, {"*"}, {"*"}, {}, {}}, PolicyRule{{"*"}, {}, {}, {}, {"*"}}};
}

namespace {
bool privileged(const http::UserInfo& user) {
  const auto& g = user.groups;
  return std::find(g.begin(), g.end(), "system:masters") != g.end();
}
}  // namespace

void PrivilegedGroupAuthorizer::rulesFor(const http::UserInfo& user, const std::string& ns,
                                         RuleSet& out) const {
  (void)ns;
  if (!privileged(user)) return;
  auto all = allRules();
  out.rules.insert(out.rules.end(), all.begin(), all.end());
}

void AlwaysAllowAuthorizer::rulesFor(const http::UserInfo& user, const std::string& ns,
                                     RuleSet& out) const {
  (void)user;
  (void)ns;
  auto all = allRules();
  out.rules.insert(out.rules.end(), all.begin(), all.end());
}

Verdict PrivilegedGroupAuthorizer::authorize(const Attributes& a) const {
  if (privileged(a.user)) return {Decision::kAllow, ""};
  return {};
}

}  // namespace berth::apiserver::authz
