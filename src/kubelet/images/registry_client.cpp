#include "kubelet/images/registry_client.h"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

#include "core/base64.h"
#include "kubelet/images/digest.h"

namespace berth::kubelet::images {

using core::Status;
namespace json = boost::json;

struct RegistryClient::Session {
  RegistryEndpoint endpoint;
  std::string repository;  // path on this endpoint (after any rewrite)
  std::string username, password;
  std::string authorization;  // the header value once authenticated
};

namespace {

constexpr size_t kMaxErrorBody = 64 << 10;

// The registry's own words from an error reply: {"errors":[{"code":..,"message":..}]}.
std::string registryReason(const HttpReply& reply) {
  std::string reason;
  std::error_code ec;
  json::value v = json::parse(reply.body, ec);
  if (!ec && v.is_object()) {
    if (auto* errs = v.as_object().if_contains("errors"); errs && errs->is_array()) {
      for (const auto& e : errs->as_array()) {
        if (!e.is_object()) continue;
        auto* m = e.as_object().if_contains("message");
        auto* c = e.as_object().if_contains("code");
        std::string text = m && m->is_string()   ? std::string(m->as_string())
                           : c && c->is_string() ? std::string(c->as_string())
                                                 : std::string();
        if (text.empty()) continue;
        if (!reason.empty()) reason += "; ";
        reason += text;
      }
    }
  }
  std::string status = "HTTP " + std::to_string(reply.status);
  return reason.empty() ? status : reason + " (" + status + ")";
}

Status replyError(const HttpReply& reply, const std::string& what) {
  return Status::generic(reply.status >= 400 && reply.status < 600 ? reply.status : 502,
                         "ErrImagePull", what + ": " + registryReason(reply));
}

}  // namespace

RegistryClient::RegistryClient(RegistriesConfig config, Platform platform)
    : config_(std::move(config)), platform_(std::move(platform)), http_(config_) {}

core::Result<HttpReply> RegistryClient::request(
    Session& s, const std::string& path, std::vector<std::pair<std::string, std::string>> headers,
    size_t maxBody, const std::function<bool(std::string_view)>& sink) {
  Url url{s.endpoint.scheme, s.endpoint.host, s.endpoint.port, "/v2/" + s.repository + path};
  for (int attempt = 0;; ++attempt) {
    auto hs = headers;
    if (!s.authorization.empty()) hs.emplace_back("Authorization", s.authorization);
    auto reply = http_.get(url, hs, maxBody, sink);
    if (!reply.ok() || reply->status != 401 || attempt > 0) return reply;
    if (auto st = authorize(s, *reply); !st.ok()) return st;
  }
}

core::Status RegistryClient::authorize(Session& s, const HttpReply& reply) {
  Challenge c = parseChallenge(reply.header("www-authenticate"));
  std::string basic = s.username.empty() && s.password.empty()
                          ? std::string()
                          : "Basic " + core::base64Encode(s.username + ":" + s.password);
  if (c.scheme == "basic") {
    if (basic.empty())
      return replyError(reply, "registry wants credentials and none are configured");
    s.authorization = basic;
    return {};
  }
  if (c.scheme != "bearer" || c.params["realm"].empty())
    return replyError(reply, "unsupported authentication challenge");
  auto realm = parseUrl(c.params["realm"]);
  if (!realm.ok()) return realm.status();
  std::string scope =
      c.params.count("scope") ? c.params["scope"] : "repository:" + s.repository + ":pull";
  realm->target += (realm->target.find('?') == std::string::npos ? "?" : "&");
  realm->target += "scope=" + urlEncode(scope);
  if (!c.params["service"].empty()) realm->target += "&service=" + urlEncode(c.params["service"]);
  std::vector<std::pair<std::string, std::string>> hs;
  if (!basic.empty()) hs.emplace_back("Authorization", basic);
  auto token = http_.get(*realm, hs, kMaxErrorBody);
  if (!token.ok()) return token.status();
  if (token->status != 200) return replyError(*token, "token server " + realm->hostPort());
  std::error_code ec;
  json::value v = json::parse(token->body, ec);
  std::string value;
  if (!ec && v.is_object()) {
    for (const char* k : {"token", "access_token"})
      if (auto* t = v.as_object().if_contains(k); t && t->is_string() && value.empty())
        value = std::string(t->as_string());
  }
  if (value.empty()) return Status::generic(502, "ErrImagePull", "token server gave no token");
  s.authorization = "Bearer " + value;
  return {};
}

core::Result<std::string> RegistryClient::fetchManifest(Session& s, const std::string& reference,
                                                        std::string* contentType) {
  auto reply = request(s, "/manifests/" + reference, {{"Accept", std::string(kManifestAccept)}},
                       kMaxManifestBytes);
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) return replyError(*reply, "manifest " + reference);
  *contentType = reply->header("content-type");
  std::string digest = sha256Digest(reply->body);
  if (isValidDigest(reference) && digest != reference)
    return Status::generic(502, "ErrImagePull",
                           "manifest digest mismatch: expected " + reference + ", got " + digest);
  std::string claimed = reply->header("docker-content-digest");
  if (isValidDigest(claimed) && claimed != digest)
    return Status::generic(
        502, "ErrImagePull",
        "manifest digest mismatch: registry says " + claimed + ", content is " + digest);
  return std::move(reply->body);
}

core::Status RegistryClient::fetchBlob(Session& s, const std::string& digest, ContentStore& store) {
  if (store.hasBlob(digest)) return {};
  std::string tmp = store.tempPath("download");
  Status writeError;
  auto reply = [&] {
    std::ofstream out(tmp, std::ios::binary);
    return request(s, "/blobs/" + digest, {}, kMaxErrorBody, [&](std::string_view piece) {
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      if (!out) writeError = Status::internal("write " + tmp + " failed");
      return static_cast<bool>(out);
    });
  }();
  auto fail = [&](Status st) {
    std::remove(tmp.c_str());
    return st;
  };
  if (!reply.ok()) return fail(reply.status());
  if (!writeError.ok()) return fail(writeError);
  if (reply->status != 200) return fail(replyError(*reply, "blob " + digest));
  auto committed = store.commitBlob(tmp, digest);
  if (!committed.ok())
    return Status::generic(502, "ErrImagePull",
                           "blob " + digest + ": " + committed.status().message());
  return {};
}

core::Result<ImageRecord> RegistryClient::pullFrom(Session& s, const Reference& ref,
                                                   ContentStore& store) {
  std::string contentType;
  auto body = fetchManifest(s, ref.manifestReference(), &contentType);
  if (!body.ok()) return body.status();
  std::string topDigest = sha256Digest(*body);
  auto doc = parseManifest(*body, contentType);
  if (!doc.ok()) return Status::generic(502, "ErrImagePull", doc.status().message());
  if (doc->isIndex) {
    auto chosen = selectPlatform(*doc, platform_);
    if (!chosen.ok()) return Status::generic(404, "ErrImagePull", chosen.status().message());
    body = fetchManifest(s, chosen->digest, &contentType);
    if (!body.ok()) return body.status();
    doc = parseManifest(*body, contentType);
    if (!doc.ok()) return Status::generic(502, "ErrImagePull", doc.status().message());
    if (doc->isIndex) return Status::generic(502, "ErrImagePull", "nested index is not supported");
  }
  std::string manifestDigest = sha256Digest(*body);
  if (auto st = fetchBlob(s, doc->config.digest, store); !st.ok()) return st;
  auto configBody = store.readBlob(doc->config.digest, kMaxManifestBytes * 4);
  if (!configBody.ok()) return configBody.status();
  auto config = parseImageConfig(*configBody);
  if (!config.ok()) return Status::generic(502, "ErrImagePull", config.status().message());
  if (config->diffIds.size() != doc->layers.size())
    return Status::generic(502, "ErrImagePull",
                           "image config lists " + std::to_string(config->diffIds.size()) +
                               " layers, the manifest " + std::to_string(doc->layers.size()));
  ImageRecord record;
  record.id = doc->config.digest;
  record.manifestDigest = manifestDigest;
  for (size_t i = 0; i < doc->layers.size(); ++i) {
    const auto& l = doc->layers[i];
    if (auto st = fetchBlob(s, l.digest, store); !st.ok()) return st;
    record.layers.push_back({l.digest, l.mediaType, config->diffIds[i], l.size});
  }
  // Keep the manifest so the pull by digest can be answered offline and `images ls` shows it.
  if (auto st = store.putBlob(*body, manifestDigest); !st.ok()) return st.status();
  if (!ref.tag.empty()) record.repoTags.push_back(ref.tagged());
  record.repoDigests.push_back(ref.repository() + "@" + topDigest);
  return record;
}

core::Result<ImageRecord> RegistryClient::pull(const Reference& ref,
                                               const std::vector<Credential>& credentials,
                                               ContentStore& store) {
  std::string errors;
  for (const auto& endpoint : config_.endpointsFor(ref.domain)) {
    Session s;
    s.endpoint = endpoint;
    bool upstream = endpoint.hostPort() == ref.domain ||
                    (ref.domain == "docker.io" && endpoint.host == "registry-1.docker.io");
    s.repository = upstream ? ref.path : config_.rewrite(ref.domain, ref.path);
    RegistryHostConfig hc = config_.hostConfig(endpoint);
    s.username = hc.username;
    s.password = hc.password;
    // A pod's imagePullSecrets win over the node's registries.yaml.
    for (const auto& c : credentials) {
      if (c.registry == endpoint.hostPort() || c.registry == ref.domain) {
        s.username = c.username;
        s.password = c.password;
      }
    }
    auto record = pullFrom(s, ref, store);
    if (record.ok()) return record;
    if (!errors.empty()) errors += "; ";
    errors += endpoint.url() + ": " + record.status().message();
  }
  if (errors.empty()) errors = "no registry endpoint is configured for " + ref.domain;
  return Status::generic(502, "ErrImagePull",
                         "failed to pull image \"" + ref.string() + "\": " + errors);
}

}  // namespace berth::kubelet::images
