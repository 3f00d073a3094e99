#include "apiserver/authn/service_account_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>

#include "apiserver/authn/jwt.h"
#include "apiserver/authn/time_util.h"
#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver::authn {

namespace json = boost::json;
using core::Result;
using core::Status;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

// go-jose's DefaultLeeway, which upstream's claim validation uses.
constexpr seconds kLeeway{60};
constexpr std::string_view kPrivateClaim = "kubernetes.io";
constexpr std::string_view kLegacyPrefix = "kubernetes.io/serviceaccount/";

Status reject(std::string why) { return Status::unauthorized(std::move(why)); }

std::string newUuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

json::object ref(const ObjectRef& r) { return json::object{{"name", r.name}, {"uid", r.uid}}; }

std::optional<ObjectRef> refIn(const json::object& claim, std::string_view key) {
  const auto* o = core::objectField(claim, key);
  if (!o) return std::nullopt;
  return ObjectRef{core::stringField(*o, "name"), core::stringField(*o, "uid")};
}

// aud is a string or an array of strings (RFC 7519 §4.1.3).
std::vector<std::string> audiencesOf(const json::object& claims) {
  std::vector<std::string> out;
  const auto* aud = claims.if_contains("aud");
  if (!aud) return out;
  if (aud->is_string()) out.emplace_back(aud->as_string());
  if (aud->is_array())
    for (const auto& a : aud->as_array())
      if (a.is_string()) out.emplace_back(a.as_string());
  return out;
}

// A NumericDate claim; absent is fine (nullopt), a non-number is not.
Result<std::optional<system_clock::time_point>> timeClaim(const json::object& claims,
                                                          std::string_view key) {
  const auto* v = claims.if_contains(key);
  if (!v) return std::optional<system_clock::time_point>();
  if (!v->is_number()) return reject("invalid bearer token, malformed " + std::string(key));
  double d = v->to_number<double>();
  if (d < 0 || d > 1e11) return reject("invalid bearer token, malformed " + std::string(key));
  return std::optional<system_clock::time_point>(system_clock::time_point(seconds(int64_t(d))));
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

http::UserInfo serviceAccountUser(const std::string& ns, const std::string& name,
                                  const std::string& uid) {
  http::UserInfo u;
  u.name = std::string(kServiceAccountUserPrefix) + ns + ":" + name;
  u.uid = uid;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns};
  return u;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> splitServiceAccountUser(std::string_view user) {
  if (user.substr(0, kServiceAccountUserPrefix.size()) != kServiceAccountUserPrefix)
    return std::nullopt;
  user.remove_prefix(kServiceAccountUserPrefix.size());
  size_t colon = user.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == user.size() ||
      user.find(':', colon + 1) != std::string_view::npos)
    return std::nullopt;
  return std::make_pair(std::string(user.substr(0, colon)), std::string(user.substr(colon + 1)));
}

ServiceAccountTokens::ServiceAccountTokens(std::shared_ptr<const KeySet> keys,
                                           ObjectGetter objects,
                                           std::vector<std::string> issuers,
                                           std::vector<std::string> apiAudiences, Clock clock)
    : keys_(std::move(keys)),
      objects_(std::move(objects)),
      issuers_(std::move(issuers)),
      apiAudiences_(std::move(apiAudiences)),
      clock_(clock ? std::move(clock) : Clock([] { return system_clock::now(); })) {
  if (issuers_.empty()) issuers_.emplace_back(kDefaultIssuer);
  if (apiAudiences_.empty()) apiAudiences_ = issuers_;
}

Result<std::string> ServiceAccountTokens::issue(const BoundToken& spec,
                                                system_clock::time_point* expires) const {
  auto now = system_clock::time_point(
      std::chrono::duration_cast<seconds>(clock_().time_since_epoch()));
  auto exp = now + seconds(spec.expirationSeconds);
  json::array aud;
  for (const auto& a : spec.audiences) aud.emplace_back(a);
  json::object priv{{"namespace", spec.ns}, {"serviceaccount", ref(spec.serviceAccount)}};
  if (spec.pod) priv["pod"] = ref(*spec.pod);
  if (spec.secret) priv["secret"] = ref(*spec.secret);
  if (spec.node) priv["node"] = ref(*spec.node);
  json::object claims{
      {"aud", std::move(aud)},
      {"exp", unixSeconds(exp)},
      {"iat", unixSeconds(now)},
      {"iss", issuer()},
      {"jti", newUuid()},
      {kPrivateClaim, std::move(priv)},
      {"nbf", unixSeconds(now)},
      {"sub", std::string(kServiceAccountUserPrefix) + spec.ns + ":" + spec.serviceAccount.name}};
  if (expires) *expires = exp;
  return signJwt(*keys_, claims);
}

Result<std::string> ServiceAccountTokens::issueLegacy(const std::string& ns,
                                                      const ObjectRef& serviceAccount,
                                                      const std::string& secretName) const {
  std::string p(kLegacyPrefix);
  json::object claims{
      {"iss", kLegacyIssuer},
      {p + "namespace", ns},
      {p + "secret.name", secretName},
      {p + "service-account.name", serviceAccount.name},
      {p + "service-account.uid", serviceAccount.uid},
      {"sub", std::string(kServiceAccountUserPrefix) + ns + ":" + serviceAccount.name}};
  return signJwt(*keys_, claims);
}

// The key set never changes while the server runs, so a signature that verified once verifies
// again; only the claims' checks depend on time and on the cluster's objects.
Result<Claims> ServiceAccountTokens::verifiedClaims(std::string_view token) const {
  auto now = clock_();
  if (auto cached = verified_.find(token, now)) return cached;
  auto claims = verifyJwt(*keys_, token);
  if (!claims.ok()) return claims.status();
  auto shared = std::make_shared<const json::object>(std::move(*claims));
  verified_.insert(token, shared, now);
  return Claims(std::move(shared));
}

Result<Authenticated> ServiceAccountTokens::authenticate(
    std::string_view token, const std::vector<std::string>& audiences) const {
  auto verified = verifiedClaims(token);
  if (!verified.ok()) return verified.status();
  const json::object& claims = **verified;
  std::string iss = core::stringField(claims, "iss");
  if (std::find(issuers_.begin(), issuers_.end(), iss) != issuers_.end())
    return checkBound(claims, audiences);
  if (iss == kLegacyIssuer) return checkLegacy(token, claims);
  return reject("invalid bearer token, unknown issuer \"" + iss + "\"");
}

Status ServiceAccountTokens::checkObject(std::string_view resource, const std::string& ns,
                                         const ObjectRef& r, std::string_view what) const {
  std::string name = ns.empty() ? r.name : ns + "/" + r.name;
  auto obj = r.name.empty() ? std::nullopt : objects_(resource, ns, r.name);
  if (!obj) return reject(std::string(what) + " " + name + " has been deleted");
  const auto* meta = core::objectField(*obj, "metadata");
  if (!meta) return reject(std::string(what) + " " + name + " has been deleted");
  std::string uid = core::stringField(*meta, "uid");
  if (!r.uid.empty() && uid != r.uid)
    return reject(std::string(what) + " UID (" + r.uid + ") does not match " + std::string(what) +
                  " " + name + " (" + uid + ")");
  // An object being deleted stops backing tokens once its deletion is a minute old (upstream's
  // grace for in-flight requests).
  auto deleting = parseRfc3339(core::stringField(*meta, "deletionTimestamp"));
  if (deleting && *deleting < clock_() - kLeeway)
    return reject(std::string(what) + " " + name + " is being deleted");
  return {};
}

Result<Authenticated> ServiceAccountTokens::checkBound(
    const json::object& claims, const std::vector<std::string>& wanted) const {
  auto now = clock_();
  auto exp = timeClaim(claims, "exp");
  auto nbf = timeClaim(claims, "nbf");
  auto iat = timeClaim(claims, "iat");
  if (!exp.ok()) return exp.status();
  if (!nbf.ok()) return nbf.status();
  if (!iat.ok()) return iat.status();
  if (!*exp) return reject("invalid bearer token, no expiry");
  if (now > **exp + kLeeway) return reject("service account token has expired");
  if (*nbf && now + kLeeway < **nbf) return reject("service account token is not valid yet");
  if (*iat && now + kLeeway < **iat)
    return reject("service account token is issued in the future");

  const std::vector<std::string>& accepted = wanted.empty() ? apiAudiences_ : wanted;
  Authenticated out;
  for (const auto& a : audiencesOf(claims))
    if (std::find(accepted.begin(), accepted.end(), a) != accepted.end()) out.audiences.push_back(a);
  if (out.audiences.empty()) return reject("token audiences are invalid for the target audiences");

  const auto* priv = core::objectField(claims, kPrivateClaim);
  if (!priv) return reject("service account token claims data is missing");
  std::string ns = core::stringField(*priv, "namespace");
  auto sa = refIn(*priv, "serviceaccount");
  if (ns.empty() || !sa || sa->name.empty())
    return reject("service account token claims data is missing");
  if (core::stringField(claims, "sub") != std::string(kServiceAccountUserPrefix) + ns + ":" + sa->name)
    return reject("service account token subject does not match its claims");
  if (auto st = checkObject("serviceaccounts", ns, *sa, "service account"); !st.ok()) return st;
  out.user = serviceAccountUser(ns, sa->name, sa->uid);
  auto pod = refIn(*priv, "pod");
  auto secret = refIn(*priv, "secret");
  auto node = refIn(*priv, "node");
  if (pod) {
    if (auto st = checkObject("pods", ns, *pod, "pod"); !st.ok()) return st;
    out.user.extra["authentication.kubernetes.io/pod-name"] = {pod->name};
    out.user.extra["authentication.kubernetes.io/pod-uid"] = {pod->uid};
  }
  if (secret) {
    if (auto st = checkObject("secrets", ns, *secret, "secret"); !st.ok()) return st;
  }
  if (node) {
    // A pod-bound token names the pod's node for information; a node-bound one depends on it.
    if (!pod) {
      if (auto st = checkObject("nodes", "", *node, "node"); !st.ok()) return st;
    }
    out.user.extra["authentication.kubernetes.io/node-name"] = {node->name};
    if (!node->uid.empty()) out.user.extra["authentication.kubernetes.io/node-uid"] = {node->uid};
  }
  std::string jti = core::stringField(claims, "jti");
  if (!jti.empty()) out.user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + jti};
  return out;
}

Result<Authenticated> ServiceAccountTokens::checkLegacy(std::string_view token,
                                                        const json::object& claims) const {
  std::string p(kLegacyPrefix);
  std::string ns = core::stringField(claims, p + "namespace");
  ObjectRef sa{core::stringField(claims, p + "service-account.name"),
               core::stringField(claims, p + "service-account.uid")};
  std::string secretName = core::stringField(claims, p + "secret.name");
  if (ns.empty() || sa.name.empty() || secretName.empty())
    return reject("service account token claims data is missing");
  if (core::stringField(claims, "sub") != std::string(kServiceAccountUserPrefix) + ns + ":" + sa.name)
    return reject("service account token subject does not match its claims");
  // The token dies with its Secret, and with a Secret that no longer holds it.
  auto secret = objects_("secrets", ns, secretName);
  if (!secret) return reject("secret " + ns + "/" + secretName + " has been deleted");
  const auto* data = core::objectField(*secret, "data");
  auto stored = data ? core::base64Decode(core::stringField(*data, "token")) : std::nullopt;
  if (!stored || !constantTimeEqual(*stored, token))
    return reject("token does not match the secret " + ns + "/" + secretName);
  if (auto st = checkObject("serviceaccounts", ns, sa, "service account"); !st.ok()) return st;
  Authenticated out;
  out.user = serviceAccountUser(ns, sa.name, sa.uid);
  out.audiences = apiAudiences_;
  return out;
}

json::object ServiceAccountTokens::openidConfiguration(const std::string& jwksUri) const {
  return json::object{{"issuer", issuer()},
                      {"jwks_uri", jwksUri.empty() ? issuer() + "/openid/v1/jwks" : jwksUri},
                      {"response_types_supported", json::array{"id_token"}},
                      {"subject_types_supported", json::array{"public"}},
                      {"id_token_signing_alg_values_supported", json::array{keys_->signingAlg()}}};
}

}  // namespace berth::apiserver::authn
