#pragma once
// ServiceAccount tokens as upstream's kube-apiserver issues and checks them
// (pkg/serviceaccount): JWTs signed by the server's KeySet.
//
// Bound tokens (TokenRequest, projected volumes) carry iss = the service account issuer
// (https://kubernetes.default.svc.cluster.local), sub = system:serviceaccount:<ns>:<name>, aud,
// exp, iat, nbf, jti and the private claim "kubernetes.io": {namespace, serviceaccount{name,uid},
// pod|secret{name,uid}, node{name,uid}}. Legacy tokens (kubernetes.io/service-account-token
// Secrets) carry iss "kubernetes/serviceaccount" and flat kubernetes.io/serviceaccount/* claims
// and no expiry. Either authenticates as
//   user system:serviceaccount:<ns>:<name>, uid = the ServiceAccount's uid,
//   groups system:serviceaccounts, system:serviceaccounts:<ns>,
//   extra authentication.kubernetes.io/{pod-name,pod-uid,node-name,node-uid,credential-id}
// only while the ServiceAccount (and the Pod/Secret/Node it is bound to) still exists with the
// uid the token names. Time checks allow upstream's 60 s of clock skew.
//
// Verified signatures are cached (token_cache.h): a token seen again within the cache's TTL
// skips the signature check and the claims' decode, never the claim and object checks.
//
// Thread-safety: an authenticator is immutable after construction but for its token cache,
// which is safe for concurrent use; the ObjectGetter it is given must be safe to call
// concurrently.
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authn/keys.h"
#include "apiserver/authn/token_cache.h"
#include "apiserver/http/server.h"
#include "core/result.h"

namespace berth::apiserver::authn {

inline constexpr std::string_view kDefaultIssuer = "https://kubernetes.default.svc.cluster.local";
inline constexpr std::string_view kLegacyIssuer = "kubernetes/serviceaccount";
inline constexpr std::string_view kServiceAccountUserPrefix = "system:serviceaccount:";

// An object of `resource` ("serviceaccounts", "pods", "secrets", "nodes") as stored, or nullopt
// when there is none.
using ObjectGetter = std::function<std::optional<boost::json::object>(
    std::string_view resource, const std::string& ns, const std::string& name)>;
using Clock = std::function<std::chrono::system_clock::time_point()>;

struct ObjectRef {
  std::string name;
  std::string uid;
};

// What a bound token says; the TokenRequest API fills it after checking the objects exist.
struct BoundToken {
  std::string ns;
  ObjectRef serviceAccount;
  std::vector<std::string> audiences;
  int64_t expirationSeconds = 3600;
  std::optional<ObjectRef> pod;
  std::optional<ObjectRef> secret;
  std::optional<ObjectRef> node;  // the bound pod's node, as upstream adds (1.30+)
};

// A token that verified, and whom it names.
struct Authenticated {
  http::UserInfo user;
  std::vector<std::string> audiences;  // the token's audiences among those asked for
};

// "system:serviceaccount:<ns>:<name>" → (ns, name); nullopt for other user names.
std::optional<std::pair<std::string, std::string>> splitServiceAccountUser(std::string_view user);

class ServiceAccountTokens {
 public:
  // `issuers` (upstream's repeatable --service-account-issuer): the first signs new tokens,
  // tokens of any of them are accepted (so an issuer can be changed without invalidating the
  // tokens pods hold). Empty = the default issuer. `apiAudiences`: what a token must be meant
  // for to authenticate a request (upstream's --api-audiences, default: the issuers).
  ServiceAccountTokens(std::shared_ptr<const KeySet> keys, ObjectGetter objects,
                       std::vector<std::string> issuers = {},
                       std::vector<std::string> apiAudiences = {}, Clock clock = {});

  const KeySet& keys() const { return *keys_; }
  const std::string& issuer() const { return issuers_.front(); }
  const std::vector<std::string>& issuers() const { return issuers_; }
  const std::vector<std::string>& apiAudiences() const { return apiAudiences_; }
  std::chrono::system_clock::time_point now() const { return clock_(); }

  // A signed bound token; *expires gets its exp.
  core::Result<std::string> issue(const BoundToken& spec,
                                  std::chrono::system_clock::time_point* expires = nullptr) const;
  // A signed legacy token for a kubernetes.io/service-account-token Secret.
  core::Result<std::string> issueLegacy(const std::string& ns, const ObjectRef& serviceAccount,
                                        const std::string& secretName) const;

  // Checks signature, issuer, time, audience (one of `audiences`, or of the API audiences when
  // empty) and that the named objects still exist with their uids. 401 with the reason else.
  core::Result<Authenticated> authenticate(std::string_view token,
                                           const std::vector<std::string>& audiences = {}) const;

  // /.well-known/openid-configuration for this issuer. `jwksUri`: where the key set is served
  // (upstream: the API server's external address + /openid/v1/jwks); empty = under the issuer.
  boost::json::object openidConfiguration(const std::string& jwksUri = "") const;

  // The verified-signature cache (tests look at it).
  const VerifiedTokenCache& tokenCache() const { return verified_; }

 private:
  // The claims of `token` once its signature verifies (from the cache when seen lately).
  core::Result<Claims> verifiedClaims(std::string_view token) const;
  core::Result<Authenticated> checkBound(const boost::json::object& claims,
                                         const std::vector<std::string>& audiences) const;
  core::Result<Authenticated> checkLegacy(std::string_view token,
                                          const boost::json::object& claims) const;
  core::Status checkObject(std::string_view resource, const std::string& ns, const ObjectRef& ref,
                           std::string_view what) const;

  std::shared_ptr<const KeySet> keys_;
  ObjectGetter objects_;
  std::vector<std::string> issuers_;  // never empty
  std::vector<std::string> apiAudiences_;
  Clock clock_;
  mutable VerifiedTokenCache verified_;
};

}  // namespace berth::apiserver::authn
