#pragma once
// RBAC escalation prevention as an admission plugin (upstream does it in the rbac registry's
// policybased storage): a user may create or update a Role or ClusterRole only with rules they
// already hold, unless they have `escalate` on it; and a RoleBinding or ClusterRoleBinding only
// to a role whose rules they hold, unless they have `bind` on that role. system:masters (and the
// server's own writes) may do anything. A ClusterRole with an aggregationRule needs cluster-admin
// power. Denials are 403 with upstream's message ("... is attempting to grant RBAC permissions
// not currently held: ...").
//
// Thread-safety: stateless beyond the authorizers it reads; safe from request threads.
#include "apiserver/admission/admission.h"
#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac_authorizer.h"

namespace berth::apiserver::authz {

class EscalationPlugin : public admission::Plugin {
 public:
  // `authorizer` answers the escalate/bind checks (the server's whole chain); `rbac` gives the
  // rules a user holds.
  EscalationPlugin(const Authorizer& authorizer, const RbacAuthorizer& rbac)
      : authorizer_(authorizer), rbac_(rbac) {}
  std::string_view name() const override { return "RBACEscalation"; }
  core::Status validate(const admission::Attributes& a) override;

 private:
  core::Status checkRole(const admission::Attributes& a, const http::UserInfo& user) const;
  core::Status checkBinding(const admission::Attributes& a, const http::UserInfo& user) const;
  bool allowedVerb(const http::UserInfo& user, const std::string& verb, const std::string& resource,
                   const std::string& ns, const std::string& name) const;

  const Authorizer& authorizer_;
  const RbacAuthorizer& rbac_;
};

}  // namespace berth::apiserver::authz
