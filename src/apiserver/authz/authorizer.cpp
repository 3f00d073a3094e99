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

Verdict PrivilegedGroupAuthorizer::authorize(const Attributes& a) const {
  const auto& g = a.user.groups;
  if (std::find(g.begin(), g.end(), "system:masters") != g.end()) return {Decision::kAllow, ""};
  return {};
}

}  // namespace berth::apiserver::authz
