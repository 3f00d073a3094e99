#include "apiserver/authn/token_chain.h"

#include <openssl/crypto.h>

#include "apiserver/authn/bootstrap_token.h"
#include "apiserver/authn/jwt.h"

namespace berth::apiserver::authn {

http::TokenAuthenticator makeTokenChain(TokenChainOptions options) {
  auto opts = std::make_shared<const TokenChainOptions>(std::move(options));
  return [opts](std::string_view token) {
    const std::string& admin = opts->adminToken;
    if (!admin.empty() && token.size() == admin.size() &&
        CRYPTO_memcmp(token.data(), admin.data(), admin.size()) == 0) {
      http::UserInfo u;
      u.name = "system:admin";
      u.groups = {"system:masters", "system:authenticated"};
      return u;
    }
    if (opts->objects && isBootstrapTokenForm(token)) {
      auto user = authenticateBootstrapToken(token, opts->objects, std::chrono::system_clock::now());
      return user ? *user : http::UserInfo{};
    }
    if (opts->serviceAccounts && looksLikeJwt(token)) {
      auto r = opts->serviceAccounts->authenticate(token);
      if (r.ok()) return r->user;
    }
    return http::UserInfo{};
  };
}

}  // namespace berth::apiserver::authn
