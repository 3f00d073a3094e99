#pragma once
// The identity endpoints of the API server, backed by authn/ (ServiceAccount tokens):
//   POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token   TokenRequest (kubectl create token)
//   POST /apis/authentication.k8s.io/v1/tokenreviews             TokenReview
//   POST /apis/authentication.k8s.io/v1/selfsubjectreviews       SelfSubjectReview (auth whoami)
//   GET  /.well-known/openid-configuration, /openid/v1/jwks      OIDC discovery of the issuer
// and the object lookups token validation needs (ServiceAccounts, Pods, Secrets, Nodes from the
// watch cache). Shapes and messages follow upstream's pkg/registry/core/serviceaccount/storage
// (token.go) and pkg/registry/authentication.
//
// Thread-safety: serve*() are called concurrently from request threads; the object is immutable
// after construction.
#include <memory>
#include <string>

#include "apiserver/admission/admission.h"
#include "apiserver/authn/service_account_token.h"
#include "apiserver/http/server.h"
#include "apiserver/negotiation.h"
#include "apiserver/request_parsing.h"
#include "apiserver/watch_cache.h"

namespace berth::apiserver {

// Reads objects for token validation from the watch cache; an object the cache does not have
// yet is looked for again once the cache has caught up with the store (a token for a
// ServiceAccount created a moment ago).
authn::ObjectGetter cacheObjectGetter(CacheSet& cache);

class IdentityApi {
 public:
  // `tokens` authenticates a bearer token exactly as the server does (for TokenReview).
  IdentityApi(CacheSet& cache, std::shared_ptr<const authn::ServiceAccountTokens> serviceAccounts,
              http::TokenAuthenticator tokens);

  // True for the requests serve() answers (the resources above).
  static bool handles(const RequestTarget& t);
  void serve(http::Request& req, http::ResponseWriter& w, const RequestTarget& t,
             const OutputMedia& media) const;
  // The OIDC discovery documents; false for any other path.
  bool serveDiscovery(const http::Request& req, http::ResponseWriter& w) const;

  const authn::ServiceAccountTokens& serviceAccounts() const { return *serviceAccounts_; }

 private:
  void serveTokenRequest(http::Request& req, http::ResponseWriter& w, const RequestTarget& t,
                         const OutputMedia& media) const;
  void serveTokenReview(http::Request& req, http::ResponseWriter& w,
                        const OutputMedia& media) const;
  void serveSelfSubjectReview(http::Request& req, http::ResponseWriter& w,
                              const OutputMedia& media) const;

  CacheSet& cache_;
  authn::ObjectGetter objects_;
  std::shared_ptr<const authn::ServiceAccountTokens> serviceAccounts_;
  http::TokenAuthenticator tokens_;
};

// How ServiceAccount tokens are signed and checked (upstream's flags of the same names).
struct ServiceAccountTokenOptions {
  std::vector<std::string> issuers;        // --service-account-issuer; empty = the default
  std::vector<std::string> apiAudiences;   // --api-audiences; empty = the issuers
  std::string signingKeyFile;              // --service-account-signing-key-file; empty = sa.key
  std::vector<std::string> keyFiles;       // --service-account-key-file: verify only
};

// The server's identity machinery, assembled once at start: the ServiceAccount signing key
// (<tlsDir>/sa.key, generated on first start, unless a signing key file is given; every key in
// <tlsDir>/service-account-keys/ and the key files also verifies), the token authenticator
// chain the HTTPS listener uses, the endpoints above, and the admission step that fills legacy
// token Secrets (added to `admission`).
struct Identity {
  std::shared_ptr<const authn::ServiceAccountTokens> serviceAccounts;
  http::TokenAuthenticator tokens;
  std::unique_ptr<IdentityApi> api;
};
core::Result<std::unique_ptr<Identity>> buildIdentity(const std::string& tlsDir,
                                                      const std::string& adminToken,
                                                      CacheSet& cache, admission::Chain& admission,
                                                      const ServiceAccountTokenOptions& options = {});

}  // namespace berth::apiserver
