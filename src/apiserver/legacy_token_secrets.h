#pragma once
// The tokens controller's job for legacy ServiceAccount token Secrets, done as a mutating
// admission step in the API server (which holds the signing key): a Secret of type
// kubernetes.io/service-account-token whose annotation kubernetes.io/service-account.name names
// an existing ServiceAccount gets data.token (a legacy JWT), data["ca.crt"] (the cluster CA) and
// data.namespace, and the annotation kubernetes.io/service-account.uid, as upstream's
// pkg/controller/serviceaccount/tokens_controller.go fills them. A Secret whose ServiceAccount
// does not exist is stored as sent (upstream's controller would later delete it).
//
// Thread-safety: admit() runs concurrently from request threads; the plugin is immutable.
#include <memory>
#include <string>

#include "apiserver/admission/admission.h"
#include "apiserver/authn/service_account_token.h"

namespace berth::apiserver {

std::unique_ptr<admission::Plugin> newLegacyTokenSecretsPlugin(
    std::shared_ptr<const authn::ServiceAccountTokens> tokens, authn::ObjectGetter objects,
    std::string caPem);

}  // namespace berth::apiserver
