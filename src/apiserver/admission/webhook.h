#pragma once
// Admission webhooks (upstream's MutatingAdmissionWebhook and ValidatingAdmissionWebhook, one
// plugin here: admit() calls the MutatingWebhookConfigurations' webhooks, validate() the
// ValidatingWebhookConfigurations'). Each webhook whose rules, namespaceSelector and
// objectSelector match is sent an AdmissionReview v1 over HTTPS (clientConfig.url, or
// clientConfig.service resolved as below), verified against caBundle (the system roots when
// empty), with timeoutSeconds (default 10). A mutating webhook's JSONPatch is applied to the
// object before the next webhook sees it. A call that fails (connect, TLS, timeout, a bad
// answer) rejects the request with 500 under failurePolicy Fail (the v1 default) and is skipped
// under Ignore. With dryRun, a webhook whose sideEffects is not None/NoneOnDryRun rejects the
// request (400), as upstream.
//
// Services: upstream dials <service>.<namespace>.svc:<port> through the cluster network; a
// ClusterIP is not routable from this API server, so we dial a ready endpoint of the Service's
// EndpointSlices (Endpoints as fallback) and verify the certificate for
// <service>.<namespace>.svc, the name upstream's webhook certificates carry.
//
// matchConditions (CEL, webhook_match_conditions.h) are evaluated after the selectors match.
// reinvocationPolicy IfNeeded: when a mutating webhook changes the object, the IfNeeded
// webhooks called before it are called once more, in order, after the first round (upstream
// reinvokes the whole mutating chain once, in-tree plugins included; here only the webhooks).
//
// Validating webhooks are called in parallel (upstream's validating dispatcher); when several
// reject, the first rejection to arrive is the answer. Mutating ones run one after another.
//
// Not done (upstream has them): matchPolicy Equivalent is not needed as requests are matched in
// the storage version.
//
// Webhook configurations themselves are never sent to webhooks (upstream's guard against
// locking yourself out).
//
// Thread-safety: admit()/validate() run concurrently; the TLS context cache is behind a mutex.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/admission/admission.h"
#include "cel/authz.h"
#include "core/labels.h"
#include "core/result.h"

namespace berth::apiserver::admission {

// What the plugin reads from the cluster (implemented by the API server over its registry).
class WebhookSource {
 public:
  virtual ~WebhookSource() = default;
  // Mutating (true) or Validating WebhookConfigurations, sorted by name; never null. Shared and
  // immutable: a source may hand the same list to every request until a configuration changes.
  virtual std::shared_ptr<const std::vector<boost::json::object>> configurations(
      bool mutating) = 0;
  // Labels of a namespace; nullopt when it does not exist.
  virtual std::optional<core::Labels> namespaceLabels(const std::string& ns) = 0;
  // Address and port of a ready endpoint serving `port` of the Service.
  virtual core::Result<std::pair<std::string, int>> serviceEndpoint(const std::string& ns,
                                                                    const std::string& name,
                                                                    int port) = 0;
  // Answers a matchCondition's authorizer check (cel/authz.h) for `user`, through the server's
  // authorizer. Default: no authorizer, every check is an error (the condition then fails).
  virtual cel::AuthzDecision authorize(const core::kinds::Requester& user,
                                       const cel::AuthzCheck& check) {
    (void)user;
    (void)check;
    return {false, "", "no authorizer configured"};
  }
};

std::unique_ptr<Plugin> newAdmissionWebhooks(std::shared_ptr<WebhookSource> source);

}  // namespace berth::apiserver::admission
