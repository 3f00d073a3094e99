#pragma once
// Bootstrap tokens (kubeadm's format, upstream's plugin/pkg/auth/authenticator/token/bootstrap):
// a bearer token "<id>.<secret>" ([a-z0-9]{6} "." [a-z0-9]{16}) is valid while the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token holds the same id and
// secret, has usage-bootstrap-authentication "true", no passed expiration and no deletion. It
// authenticates as system:bootstrap:<id> in group system:bootstrappers plus the Secret's
// auth-extra-groups (each system:bootstrappers:*).
//
// Thread-safety: stateless; the ObjectGetter must be safe to call concurrently.
#include <optional>
#include <string_view>

#include "apiserver/authn/service_account_token.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::authn {

// True when `token` has the bootstrap token form (then no other authenticator needs to see it).
bool isBootstrapTokenForm(std::string_view token);

// The token's user, or nullopt when it is unknown, expired or not usable for authentication.
std::optional<http::UserInfo> authenticateBootstrapToken(std::string_view token,
                                                         const ObjectGetter& objects,
                                                         std::chrono::system_clock::time_point now);

}  // namespace berth::apiserver::authn
