#include "apiserver/identity_api.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apiserver/authn/jwt.h"
#include "apiserver/authn/time_util.h"
#include "apiserver/authn/token_chain.h"
#include "apiserver/legacy_token_secrets.h"
#include "apiserver/protobuf/zero_values.h"
#include "apiserver/registry.h"
#include "apiserver/replies.h"
#include "core/json_access.h"
#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;
using core::Result;
using core::Status;

namespace {

constexpr std::string_view kAuthnGroup = "authentication.k8s.io";
// Upstream's TokenRequest limits (pkg/apis/authentication/validation): at least 10 minutes, at
// most 2^32 seconds; 1 hour when the request does not say.
constexpr int64_t kMinExpirationSeconds = 600;
constexpr int64_t kMaxExpirationSeconds = int64_t(1) << 32;
constexpr int64_t kDefaultExpirationSeconds = 3600;

Status methodNotAllowed() {
  return Status::methodNotSupported(
      "the server does not allow this method on the requested resource");
}

std::string uidOf(const json::object& obj) {
  const auto* meta = core::objectField(obj, "metadata");
  return meta ? core::stringField(*meta, "uid") : std::string();
}

json::object userInfoJson(const http::UserInfo& u) {
  json::array groups;
  for (const auto& g : u.groups) groups.emplace_back(g);
  json::object info{{"username", u.name}, {"groups", std::move(groups)}};
  if (!u.uid.empty()) info["uid"] = u.uid;
  if (!u.extra.empty()) {
    json::object extra;
    for (const auto& [k, values] : u.extra) {
      json::array a;
      for (const auto& v : values) a.emplace_back(v);
      extra[k] = std::move(a);
    }
    info["extra"] = std::move(extra);
  }
  return info;
}

void reply(http::ResponseWriter& w, const OutputMedia& media, int code, json::object obj) {
  protobuf::addGoZeroValues(obj);
  sendEncoded(w, code, media, json::serialize(obj));
}

// The request body as the kind the endpoint takes; its metadata kept for the answer.
Result<json::object> bodyOf(const http::Request& req, std::string_view kind) {
  if (req.method != "POST") return methodNotAllowed();
  auto body = decodeObjectBody(req);
  if (!body.ok()) return body.status();
  std::string k = core::stringField(*body, "kind");
  if (!k.empty() && k != kind)
    return Status::badRequest("expected " + std::string(kind) + ", got " + k);
  (*body)["kind"] = kind;
  (*body)["apiVersion"] = std::string(kAuthnGroup) + "/v1";
  if (!core::objectField(*body, "metadata")) (*body)["metadata"] = json::object();
  return body;
}

std::vector<std::string> stringsIn(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* a = o.if_contains(key); a && a->is_array())
    for (const auto& v : a->as_array())
      if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

}  // namespace

authn::ObjectGetter cacheObjectGetter(CacheSet& cache) {
  return [&cache](std::string_view resource, const std::string& ns,
                  const std::string& name) -> std::optional<json::object> {
    const core::ResourceType* rt = core::findResource("", "v1", resource);
    if (!rt) return std::nullopt;
    ResourceCache* c = cache.forType(*rt);
    if (!c) return std::nullopt;
    std::string key = storageKey(*rt, rt->namespaced ? ns : "", name);
    ObjectPtr obj = c->get(key);
    if (!obj && cache.waitUntilFresh(std::chrono::seconds(2))) obj = c->get(key);
    if (!obj) return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(obj->json, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
  };
}

IdentityApi::IdentityApi(CacheSet& cache,
                         std::shared_ptr<const authn::ServiceAccountTokens> serviceAccounts,
                         http::TokenAuthenticator tokens)
    : cache_(cache),
      objects_(cacheObjectGetter(cache)),
      serviceAccounts_(std::move(serviceAccounts)),
      tokens_(std::move(tokens)) {}

bool IdentityApi::handles(const RequestTarget& t) {
  const core::ResourceType& rt = *t.rt;
  if (rt.group.empty() && rt.plural == "serviceaccounts") return t.subresource == "token";
  return rt.group == kAuthnGroup && (rt.kind == "TokenReview" || rt.kind == "SelfSubjectReview");
}

void IdentityApi::serve(http::Request& req, http::ResponseWriter& w, const RequestTarget& t,
                        const OutputMedia& media) const {
  if (t.rt->kind == "TokenReview") {
    serveTokenReview(req, w, media);
  } else if (t.rt->kind == "SelfSubjectReview") {
    serveSelfSubjectReview(req, w, media);
  } else {
    serveTokenRequest(req, w, t, media);
  }
}

bool IdentityApi::serveDiscovery(const http::Request& req, http::ResponseWriter& w) const {
  bool config = req.path == "/.well-known/openid-configuration";
  bool jwks = req.path == "/openid/v1/jwks";
  if (!config && !jwks) return false;
  if (req.method != "GET" && req.method != "HEAD") {
    sendStatus(w, methodNotAllowed());
    return true;
  }
  // Upstream serves both with a public cache lifetime of an hour; the JWKS as jwk-set+json.
  w.addHeader("Cache-Control", "public, max-age=3600");
  if (config) {
    // The key set is served by this server, at the address the client reached it by.
    std::string host = req.header("host");
    std::string jwksUri = host.empty() ? "" : "https://" + host + "/openid/v1/jwks";
    w.send(200, "application/json",
           json::serialize(serviceAccounts_->openidConfiguration(jwksUri)));
  } else {
    w.send(200, "application/jwk-set+json", json::serialize(serviceAccounts_->keys().jwks()));
  }
  return true;
}

void IdentityApi::serveTokenRequest(http::Request& req, http::ResponseWriter& w,
                                    const RequestTarget& t, const OutputMedia& media) const {
  auto fail = [&](const Status& st) { sendStatusAs(w, media, st); };
  auto body = bodyOf(req, "TokenRequest");
  if (!body.ok()) return fail(body.status());
  json::object& tr = *body;
  auto sa = objects_("serviceaccounts", t.ns, t.name);
  if (!sa) return fail(Status::notFound("serviceaccounts", t.name));
  if (!tr["spec"].is_object()) tr["spec"] = json::object();
  json::object& spec = tr["spec"].as_object();

  authn::BoundToken token;
  token.ns = t.ns;
  token.serviceAccount = {t.name, uidOf(*sa)};
  token.audiences = stringsIn(spec, "audiences");
  if (token.audiences.empty()) token.audiences = serviceAccounts_->apiAudiences();
  token.expirationSeconds = kDefaultExpirationSeconds;
  if (const auto* e = spec.if_contains("expirationSeconds"); e && !e->is_null()) {
    if (!e->is_int64() && !e->is_uint64())
      return fail(Status::badRequest("spec.expirationSeconds must be an integer"));
    token.expirationSeconds = e->to_number<int64_t>();
  }
  auto invalid = [&](std::string message) {
    return fail(Status::invalid(kAuthnGroup, "TokenRequest", t.name,
                                {{"FieldValueInvalid",
                                  "Invalid value: " + std::to_string(token.expirationSeconds) +
                                      ": " + std::move(message),
                                  "spec.expirationSeconds"}}));
  };
  if (token.expirationSeconds < kMinExpirationSeconds)
    return invalid("may not specify a duration less than 10 minutes");
  if (token.expirationSeconds > kMaxExpirationSeconds)
    return invalid("may not specify a duration larger than 2^32 seconds");

  if (const auto* ref = core::objectField(spec, "boundObjectRef")) {
    std::string kind = core::stringField(*ref, "kind");
    std::string apiVersion = core::stringField(*ref, "apiVersion");
    std::string name = core::stringField(*ref, "name");
    std::string uid = core::stringField(*ref, "uid");
    std::string resource = kind == "Pod" ? "pods" : kind == "Secret" ? "secrets"
                                                    : kind == "Node" ? "nodes" : "";
    if (resource.empty() || (!apiVersion.empty() && apiVersion != "v1"))
      return fail(Status::badRequest("cannot bind token for serviceaccount \"" + t.name +
                                     "\" to object of type " +
                                     (apiVersion.empty() ? "" : apiVersion + ", ") + "Kind=" +
                                     kind));
    auto obj = objects_(resource, kind == "Node" ? "" : t.ns, name);
    if (!obj) return fail(Status::notFound(resource, name));
    std::string actualUid = uidOf(*obj);
    if (!uid.empty() && uid != actualUid)
      return fail(Status::conflict(resource, name,
                                   "the UID in the bound object reference (" + uid +
                                       ") does not match the UID in record. The object might "
                                       "have been deleted and then recreated"));
    authn::ObjectRef bound{name, actualUid};
    if (kind == "Pod") {
      const auto* podSpec = core::objectField(*obj, "spec");
      std::string podSa = podSpec ? core::stringField(*podSpec, "serviceAccountName") : "";
      if (!podSa.empty() && podSa != t.name)
        return fail(Status::badRequest("cannot bind token for serviceaccount \"" + t.name +
                                       "\" to pod running with different serviceaccount name."));
      token.pod = bound;
      // The pod's node goes into the token too (upstream 1.30+), for the node-name extra.
      std::string nodeName = podSpec ? core::stringField(*podSpec, "nodeName") : "";
      if (!nodeName.empty()) {
        auto node = objects_("nodes", "", nodeName);
        if (node) token.node = authn::ObjectRef{nodeName, uidOf(*node)};
      }
    } else if (kind == "Secret") {
      token.secret = bound;
    } else {
      token.node = bound;
    }
    json::object filled = *ref;
    filled["uid"] = actualUid;
    filled["apiVersion"] = "v1";
    spec["boundObjectRef"] = std::move(filled);
  }

  std::chrono::system_clock::time_point expires;
  auto signed_ = serviceAccounts_->issue(token, &expires);
  if (!signed_.ok()) return fail(signed_.status());
  json::array aud;
  for (const auto& a : token.audiences) aud.emplace_back(a);
  spec["audiences"] = std::move(aud);
  spec["expirationSeconds"] = token.expirationSeconds;
  json::object& meta = tr["metadata"].as_object();
  meta["name"] = t.name;
  meta["namespace"] = t.ns;
  meta["creationTimestamp"] = authn::formatRfc3339(serviceAccounts_->now());
  tr["status"] = json::object{{"token", *signed_},
                              {"expirationTimestamp", authn::formatRfc3339(expires)}};
  reply(w, media, 201, std::move(tr));
}

void IdentityApi::serveTokenReview(http::Request& req, http::ResponseWriter& w,
                                   const OutputMedia& media) const {
  auto body = bodyOf(req, "TokenReview");
  if (!body.ok()) return sendStatusAs(w, media, body.status());
  json::object& review = *body;
  const auto* spec = core::objectField(review, "spec");
  std::string token = spec ? core::stringField(*spec, "token") : "";
  if (token.empty())
    return sendStatusAs(w, media,
                        Status::badRequest("token is required for TokenReview in authentication"));
  std::vector<std::string> wanted = spec ? stringsIn(*spec, "audiences") : std::vector<std::string>{};
  json::object status;
  http::UserInfo user;
  std::vector<std::string> audiences;
  if (authn::looksLikeJwt(token)) {
    auto r = serviceAccounts_->authenticate(token, wanted);
    if (r.ok()) {
      user = r->user;
      audiences = r->audiences;
    } else {
      status["error"] = "[invalid bearer token, " + r.status().message() + "]";
    }
  } else {
    // Static and bootstrap tokens are meant for the API server only: an audience-aware review
    // must name one of its audiences.
    const auto& api = serviceAccounts_->apiAudiences();
    bool forApi = wanted.empty();
    for (const auto& a : wanted) forApi = forApi || std::find(api.begin(), api.end(), a) != api.end();
    if (forApi) user = tokens_(token);
    if (!user.anonymous()) audiences = wanted.empty() ? api : wanted;
  }
  if (!user.anonymous()) {
    if (std::find(user.groups.begin(), user.groups.end(), "system:authenticated") ==
        user.groups.end())
      user.groups.emplace_back("system:authenticated");
    status["authenticated"] = true;
    status["user"] = userInfoJson(user);
    json::array aud;
    for (const auto& a : audiences) aud.emplace_back(a);
    status["audiences"] = std::move(aud);
  } else {
    status["user"] = json::object();
    if (!status.contains("error")) status["error"] = "[invalid bearer token, token lookup failed]";
  }
  review["status"] = std::move(status);
  reply(w, media, 201, std::move(review));
}

void IdentityApi::serveSelfSubjectReview(http::Request& req, http::ResponseWriter& w,
                                         const OutputMedia& media) const {
  if (req.method != "POST") return sendStatusAs(w, media, methodNotAllowed());
  // kubectl auth whoami sends a body with nothing in it; the answer depends on the caller only.
  json::object review{{"kind", "SelfSubjectReview"},
                      {"apiVersion", std::string(kAuthnGroup) + "/v1"},
                      {"metadata", json::object{{"creationTimestamp", nullptr}}},
                      {"status", json::object{{"userInfo", userInfoJson(req.user)}}}};
  reply(w, media, 201, std::move(review));
}

Result<std::unique_ptr<Identity>> buildIdentity(const std::string& tlsDir,
                                                 const std::string& adminToken, CacheSet& cache,
                                                 admission::Chain& admission,
                                                 const ServiceAccountTokenOptions& options) {
  std::vector<std::string> verify = options.keyFiles;
  verify.push_back(tlsDir + "/service-account-keys");
  std::string signing = options.signingKeyFile;
  if (signing.empty()) {
    signing = tlsDir + "/sa.key";
  } else if (std::error_code ec; !std::filesystem::is_regular_file(signing, ec)) {
    // A key the operator named is never generated in its place: tokens it signs elsewhere
    // would not verify here.
    return core::Status::badRequest("--service-account-signing-key-file " + signing +
                                 ": no such file");
  }
  for (const auto& f : options.keyFiles)
    if (std::error_code ec; !std::filesystem::exists(f, ec))
      return core::Status::badRequest("--service-account-key-file " + f + ": no such file");
  auto keys = authn::KeySet::loadOrCreate(signing, verify);
  if (!keys.ok()) return keys.status();
  auto identity = std::make_unique<Identity>();
  auto objects = cacheObjectGetter(cache);
  identity->serviceAccounts = std::make_shared<authn::ServiceAccountTokens>(
      *keys, objects, options.issuers, options.apiAudiences);
  identity->tokens = authn::makeTokenChain({adminToken, identity->serviceAccounts, objects});
  identity->api =
      std::make_unique<IdentityApi>(cache, identity->serviceAccounts, identity->tokens);
  std::ifstream ca(tlsDir + "/ca.crt", std::ios::binary);
  std::stringstream caPem;
  caPem << ca.rdbuf();
  admission.add(newLegacyTokenSecretsPlugin(identity->serviceAccounts, objects, caPem.str()));
  return identity;
}

}  // namespace berth::apiserver
