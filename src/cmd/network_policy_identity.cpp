#include "cmd/network_policy_identity.h"

#include <boost/json.hpp>

#include "apiserver/authz/bootstrap_policy.h"
#include "core/json_access.h"

namespace berth::cmd {

namespace json = boost::json;

core::Result<client::RestConfig> networkPolicyToken(const client::RestConfig& agent) {
  auto rest = client::RestClient::create(agent);
  if (!rest.ok()) return rest.status();
  json::object request{{"apiVersion", "authentication.k8s.io/v1"},
                       {"kind", "TokenRequest"},
                       {"spec", json::object{{"expirationSeconds", kNetworkPolicyTokenSeconds}}}};
  auto reply = (*rest)->request("POST",
                                std::string("/api/v1/namespaces/kube-system/serviceaccounts/") +
                                    apiserver::authz::kNetworkPolicyServiceAccount + "/token",
                                json::serialize(request), "application/json");
  if (!reply.ok()) return reply.status();
  const json::object* status =
      reply->is_object() ? core::objectField(reply->as_object(), "status") : nullptr;
  std::string token = status ? core::stringField(*status, "token") : "";
  if (token.empty()) return core::Status::internal("the TokenRequest's reply holds no token");
  client::RestConfig out = agent;
  out.bearerToken = token;
  out.clientCertPem.clear();
  out.clientKeyPem.clear();
  return out;
}

}  // namespace berth::cmd
