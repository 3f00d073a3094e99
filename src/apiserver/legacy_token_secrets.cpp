#include "apiserver/legacy_token_secrets.h"

#include "core/base64.h"
#include "core/json_access.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

constexpr std::string_view kType = "kubernetes.io/service-account-token";
constexpr std::string_view kNameAnnotation = "kubernetes.io/service-account.name";
constexpr std::string_view kUidAnnotation = "kubernetes.io/service-account.uid";

class LegacyTokenSecrets : public admission::Plugin {
 public:
  LegacyTokenSecrets(std::shared_ptr<const authn::ServiceAccountTokens> tokens,
                     authn::ObjectGetter objects, std::string caPem)
      : tokens_(std::move(tokens)), objects_(std::move(objects)), caPem_(std::move(caPem)) {}

  std::string_view name() const override { return "berth:LegacyServiceAccountTokenSecrets"; }

  core::Status admit(admission::Attributes& a) override {
    if (a.object == nullptr || a.resource->plural != "secrets" || !a.resource->group.empty() ||
        !a.subresource.empty() || a.operation == admission::Operation::kDelete)
      return {};
    json::object& secret = *a.object;
    if (core::stringField(secret, "type") != kType) return {};
    if (!secret["metadata"].is_object()) return {};
    json::object& meta = secret["metadata"].as_object();
    if (!meta["annotations"].is_object()) return {};
    json::object& annotations = meta["annotations"].as_object();
    std::string saName = core::stringField(annotations, kNameAnnotation);
    if (saName.empty()) return {};
    auto sa = objects_("serviceaccounts", a.ns, saName);
    if (!sa) return {};
    const auto* saMeta = core::objectField(*sa, "metadata");
    std::string saUid = saMeta ? core::stringField(*saMeta, "uid") : "";
    std::string wantedUid = core::stringField(annotations, kUidAnnotation);
    if (!wantedUid.empty() && wantedUid != saUid) return {};  // meant for an older account
    annotations[kUidAnnotation] = saUid;
    if (!secret["data"].is_object()) secret["data"] = json::object();
    json::object& data = secret["data"].as_object();
    // Keep a token that still names this account and Secret; a copy under another name or
    // for another account is replaced.
    std::string secretName = a.name.empty() ? core::stringField(meta, "name") : a.name;
    auto token = core::base64Decode(core::stringField(data, "token"));
    bool keep = token && !token->empty() && tokens_->authenticate(*token).ok();
    if (!keep) {
      auto issued = tokens_->issueLegacy(a.ns, {saName, saUid}, secretName);
      if (!issued.ok()) return issued.status();
      data["token"] = core::base64Encode(*issued);
    }
    data["ca.crt"] = core::base64Encode(caPem_);
    data["namespace"] = core::base64Encode(a.ns);
    return {};
  }

 private:
  std::shared_ptr<const authn::ServiceAccountTokens> tokens_;
  authn::ObjectGetter objects_;
  std::string caPem_;
};

}  // namespace

std::unique_ptr<admission::Plugin> newLegacyTokenSecretsPlugin(
    std::shared_ptr<const authn::ServiceAccountTokens> tokens, authn::ObjectGetter objects,
    std::string caPem) {
  return std::make_unique<LegacyTokenSecrets>(std::move(tokens), std::move(objects),
                                              std::move(caPem));
}

}  // namespace berth::apiserver
