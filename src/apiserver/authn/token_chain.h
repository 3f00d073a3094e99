#pragma once
// The bearer-token authenticators of the API server, in upstream's union order: the static
// admin token (Berth's token file), bootstrap tokens, then ServiceAccount JWTs. The first that
// recognises the token decides; a token none accepts is unknown (the transport answers 401).
//
// Thread-safety: the returned function is called concurrently from connection threads.
#include <memory>
#include <string>

#include "apiserver/authn/service_account_token.h"
#include "apiserver/http/server.h"

namespace berth::apiserver::authn {

struct TokenChainOptions {
  std::string adminToken;  // system:admin in system:masters
  std::shared_ptr<const ServiceAccountTokens> serviceAccounts;  // may be null
  ObjectGetter objects;  // for bootstrap tokens (null: none)
};

http::TokenAuthenticator makeTokenChain(TokenChainOptions options);

}  // namespace berth::apiserver::authn
