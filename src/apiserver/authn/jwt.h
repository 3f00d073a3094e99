#pragma once
// JSON Web Tokens in compact JWS form (RFC 7515/7519) as ServiceAccount tokens use them:
// base64url(header).base64url(claims).base64url(signature), signed RS256 or ES256 by a KeySet.
// Only what upstream's go-jose accepts for these tokens is accepted: alg RS256 or ES256 (never
// "none", never HMAC), no "crit" header, a JSON object payload. Claims are not checked here
// (service_account_token.h does that).
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "apiserver/authn/keys.h"
#include "core/result.h"

namespace berth::apiserver::authn {

// Unpadded base64url (RFC 4648 §5), as JWS uses it. Decoding rejects padding and other alphabets.
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

// Longest token looked at; anything longer is not a token Berth issued.
inline constexpr size_t kMaxJwtBytes = 16 * 1024;

// A signed token carrying `claims`, with header {"alg","kid"} of the signing key.
core::Result<std::string> signJwt(const KeySet& keys, const boost::json::object& claims);

// True when `token` has the shape of a compact JWS (three non-empty base64url parts).
bool looksLikeJwt(std::string_view token);

// The claims of `token` once its signature verifies against `keys`; otherwise 401 Unauthorized
// with the reason (for logs and TokenReview's status.error).
core::Result<boost::json::object> verifyJwt(const KeySet& keys, std::string_view token);

}  // namespace berth::apiserver::authn
