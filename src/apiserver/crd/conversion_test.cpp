#include "apiserver/crd/conversion.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/crd/definition.h"
#include "core/resource_behavior.h"

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

std::vector<std::string> lines(const std::vector<core::StatusCause>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.field + ": " + e.message);
  return out;
}

json::object specWith(std::string_view conversion) {
  json::object spec{{"group", "stable.example.com"}};
  spec["conversion"] = json::parse(conversion);
  return spec;
}

TEST(CrdConversionValidation, WebhookNeedsClientConfigAndReviewVersions) {
  auto errs = lines(validateConversion(specWith(R"({"strategy": "Webhook"})"), nullptr));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0],
            "spec.conversion.webhookClientConfig: Required value: required when strategy is set "
            "to Webhook");
  EXPECT_EQ(errs[1], "spec.conversion.conversionReviewVersions: Required value");
}

TEST(CrdConversionValidation, ExactlyOneOfUrlOrService) {
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
          "clientConfig": {"url": "https://a/b", "service": {"namespace": "n", "name": "s"}}}})"),
      nullptr));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "spec.conversion.webhookClientConfig: Required value: exactly one of url or service "
            "is required");
}

TEST(CrdConversionValidation, UrlMustBeHttpsWithoutUserQueryOrFragment) {
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
          "clientConfig": {"url": "http://me@host/convert?x=1#frag"}}})"),
      nullptr));
  std::vector<std::string> want = {
      "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only "
      "allowed URL scheme; desired format: https://host[/path]",
      "spec.conversion.webhookClientConfig.url: Invalid value: \"me\": user information is not "
      "permitted in the URL",
      "spec.conversion.webhookClientConfig.url: Invalid value: \"frag\": fragments are not "
      "permitted in the URL",
      "spec.conversion.webhookClientConfig.url: Invalid value: \"x=1\": query parameters are not "
      "permitted in the URL"};
  EXPECT_EQ(errs, want);
}

TEST(CrdConversionValidation, ServiceFieldsAndPath) {
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
          "clientConfig": {"service": {"port": 70000, "path": "/a//B"}}}})"),
      nullptr));
  std::vector<std::string> want = {
      "spec.conversion.webhookClientConfig.service.name: Required value: service name is "
      "required",
      "spec.conversion.webhookClientConfig.service.namespace: Required value: service namespace "
      "is required",
      "spec.conversion.webhookClientConfig.service.port: Invalid value: 70000: port is not valid: "
      "must be between 1 and 65535, inclusive",
      "spec.conversion.webhookClientConfig.service.path: Invalid value: \"/a//B\": segment[1] may "
      "not be empty"};
  ASSERT_GE(errs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(errs[i], want[i]);
  // "B" is not a DNS subdomain either.
  EXPECT_NE(errs.back().find("segment[2]: a lowercase RFC 1123 subdomain"), std::string::npos)
      << errs.back();
}

TEST(CrdConversionValidation, ReviewVersionsMustIncludeOneWeSpeak) {
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v2", "v2"],
          "clientConfig": {"url": "https://h/c"}}})"),
      nullptr));
  std::vector<std::string> want = {
      "spec.conversion.conversionReviewVersions[1]: Invalid value: \"v2\": duplicate version",
      "spec.conversion.conversionReviewVersions: Invalid value: []string{\"v2\", \"v2\"}: must "
      "include at least one of v1, v1beta1"};
  EXPECT_EQ(errs, want);
  // An update keeps unknown review versions the stored CRD already had.
  json::object old = specWith(R"({"strategy": "Webhook", "webhook": {
      "conversionReviewVersions": ["v9"], "clientConfig": {"url": "https://h/c"}}})");
  auto kept = validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v9"],
          "clientConfig": {"url": "https://h/c"}}})"),
      &old);
  EXPECT_TRUE(kept.empty()) << lines(kept)[0];
}

TEST(CrdConversionValidation, NoneForbidsWebhookFieldsAndPreserveUnknownFieldsForbidsWebhook) {
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"],
          "clientConfig": {"url": "https://h/c"}}})"),
      nullptr));
  std::vector<std::string> want = {
      "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not "
      "set to Webhook",
      "spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is "
      "not set to Webhook"};
  EXPECT_EQ(errs, want);
  json::object spec = specWith(R"({"strategy": "Webhook", "webhook": {
      "conversionReviewVersions": ["v1"], "clientConfig": {"url": "https://h/c"}}})");
  spec["preserveUnknownFields"] = true;
  auto pe = lines(validateConversion(spec, nullptr));
  ASSERT_EQ(pe.size(), 1u);
  EXPECT_EQ(pe[0],
            "spec.conversion.strategy: Invalid value: \"Webhook\": must be None if "
            "spec.preserveUnknownFields is true");
}

TEST(CrdConversionValidation, CaBundleMustHoldACertificate) {
  // base64("not a cert")
  auto errs = lines(validateConversion(
      specWith(R"({"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
          "clientConfig": {"url": "https://h/c", "caBundle": "bm90IGEgY2VydA=="}}})"),
      nullptr));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "spec.conversion.webhookClientConfig.caBundle: Invalid value: []byte{0x6e, 0x6f, 0x74, "
            "0x20, 0x61, 0x20, 0x63, 0x65, 0x72, 0x74}: data does not contain any valid RSA or "
            "ECDSA certificates");
}

TEST(CrdConversionValidation, PickReviewVersionTakesTheFirstSpoken) {
  EXPECT_EQ(pickReviewVersion(json::parse(R"({"webhook": {"conversionReviewVersions":
      ["v9", "v1beta1", "v1"]}})")
                                  .as_object()),
            "v1beta1");
  EXPECT_EQ(pickReviewVersion(json::object()), "");
}

// ---- the webhook's answer

json::object widget(std::string_view apiVersion, std::string_view name) {
  return {{"apiVersion", apiVersion},
          {"kind", "Widget"},
          {"metadata",
           {{"name", name},
            {"namespace", "ns"},
            {"uid", "u-" + std::string(name)},
            {"generation", 3},
            {"labels", {{"a", "1"}}}}},
          {"spec", {{"hostPort", "h:1"}}}};
}

std::string answer(std::string_view uid, json::array converted, std::string_view status = "Success",
                   std::string_view message = "") {
  json::object result{{"status", status}};
  if (!message.empty()) result["message"] = message;
  return json::serialize(json::object{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "ConversionReview"},
      {"response",
       {{"uid", uid}, {"convertedObjects", std::move(converted)}, {"result", result}}}});
}

TEST(CrdConversionReview, RequestCarriesUidDesiredVersionAndObjects) {
  json::object a = widget("example.com/v1", "a");
  auto review = buildConversionReview("v1", "uid-1", "example.com/v2", {&a});
  EXPECT_EQ(review["apiVersion"], "apiextensions.k8s.io/v1");
  EXPECT_EQ(review["kind"], "ConversionReview");
  const auto& req = review["request"].as_object();
  EXPECT_EQ(req.at("uid"), "uid-1");
  EXPECT_EQ(req.at("desiredAPIVersion"), "example.com/v2");
  ASSERT_EQ(req.at("objects").as_array().size(), 1u);
  EXPECT_EQ(req.at("objects").as_array()[0], json::value(a));
  EXPECT_EQ(buildConversionReview("v1beta1", "u", "x/v2", {})["apiVersion"],
            "apiextensions.k8s.io/v1beta1");
}

TEST(CrdConversionReview, GoodAnswerKeepsMetadataButLabelsAndAnnotations) {
  json::object a = widget("example.com/v1", "a");
  json::object c = widget("example.com/v2", "a");
  auto& meta = c["metadata"].as_object();
  meta["generation"] = 42;                                    // ignored: restored from the original
  meta["labels"] = json::object{{"from", "example.com.v1"}};  // kept: labels may change
  meta["annotations"] = json::object{{"to", "example.com/v2"}};
  meta["finalizers"] = json::array{"foo"};  // ignored
  auto out = convertedObjects("v1", answer("u1", {c}), "u1", {&a}, "example.com/v2", false);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const auto& m = (*out)[0]["metadata"].as_object();
  EXPECT_EQ(m.at("generation"), 3);
  EXPECT_FALSE(m.contains("finalizers"));
  EXPECT_EQ(m.at("labels"), (json::object{{"from", "example.com.v1"}}));
  EXPECT_EQ(m.at("annotations"), (json::object{{"to", "example.com/v2"}}));
  EXPECT_EQ((*out)[0]["apiVersion"], "example.com/v2");
}

std::string failure(std::string_view body, const json::object& original, bool isList = false,
                    std::string_view reviewVersion = "v1") {
  auto out = convertedObjects(reviewVersion, body, "u1", {&original}, "example.com/v2", isList);
  return out.ok() ? "<ok>" : out.status().message();
}

TEST(CrdConversionReview, BadAnswersGetUpstreamMessages) {
  json::object a = widget("example.com/v1", "a");
  json::object good = widget("example.com/v2", "a");
  EXPECT_EQ(failure(answer("other", {good}), a),
            "failed: expected response.uid=\"u1\", got \"other\"");
  // v1beta1 answers are not held to their uid (upstream's compatibility).
  EXPECT_EQ(failure(answer("other", {good}), a, false, "v1beta1"), "<ok>");
  EXPECT_EQ(failure(answer("u1", {}, "Failure", "custom webhook conversion error"), a),
            "failed: custom webhook conversion error");
  EXPECT_EQ(failure(answer("u1", {}, "Failure"), a),
            "failed: response.result.status was 'Failure', not 'Success'");
  EXPECT_EQ(failure(answer("u1", {}), a), "returned 0 objects, expected 1");
  EXPECT_EQ(
      failure(R"({"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "ConversionReview"})", a),
      "failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, "
      "got apiextensions.k8s.io/v1beta1, Kind=ConversionReview");
  EXPECT_EQ(failure(R"({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"})", a),
            "failed: no response provided");
  EXPECT_EQ(failure(answer("u1", {widget("example.com/v1", "a")}), a),
            "returned invalid object at index 0: invalid groupVersion (expected example.com/v2, "
            "received example.com/v1)");
  EXPECT_EQ(failure(answer("u1", {widget("example.com/v2", "a")}), a, true), "<ok>");
  EXPECT_EQ(failure(answer("u1", {widget("example.com/v1", "a")}), a, true),
            "returned invalid converted object at index 1: invalid groupVersion (expected "
            "example.com/v2, received example.com/v1)");
  json::object renamed = widget("example.com/v2", "b");
  EXPECT_EQ(failure(answer("u1", {renamed}), a),
            "returned invalid object: must have the same name: a != b");
  json::object reuid = widget("example.com/v2", "a");
  reuid["metadata"].as_object()["uid"] = "42";
  EXPECT_EQ(failure(answer("u1", {reuid}), a),
            "returned invalid object: must have the same UID: u-a != 42");
  json::object badLabel = widget("example.com/v2", "a");
  badLabel["metadata"].as_object()["labels"] = json::object{{"x", 1}};
  EXPECT_EQ(failure(answer("u1", {badLabel}), a),
            "returned invalid metadata: metadata.labels[x] must be a string, but is int64 in "
            "converted object");
  json::object invalidLabel = widget("example.com/v2", "a");
  invalidLabel["metadata"].as_object()["labels"] = json::object{{"x", "a/b"}};
  EXPECT_NE(failure(answer("u1", {invalidLabel}), a)
                .find("returned invalid metadata: metadata.labels: Invalid value: \"a/b\""),
            std::string::npos);
  json::object noMeta = widget("example.com/v2", "a");
  noMeta.erase("metadata");
  EXPECT_EQ(failure(answer("u1", {noMeta}), a),
            "returned invalid object: must have the same name: a != ");
}

TEST(CrdConverter, NoneOnlyRelabelsAndWebhookWithoutClientFails) {
  Converter none;
  json::object a = widget("example.com/v1", "a");
  ASSERT_TRUE(none.convert({&a}, "example.com/v2", false).ok());
  EXPECT_EQ(a["apiVersion"], "example.com/v2");
  EXPECT_EQ(a["spec"].as_object()["hostPort"], "h:1");

  // A webhook converter that cannot reach anything answers upstream's 500 without a reason,
  // and leaves objects already in the desired version alone (no call at all).
  Converter hook("Widget", {json::object{{"url", "https://127.0.0.1:1/convert"}}, "v1",
                            std::make_shared<webhook::Client>(nullptr)});
  json::object same = widget("example.com/v2", "s");
  EXPECT_TRUE(hook.convert({&same}, "example.com/v2", false).ok());
  json::object b = widget("example.com/v1", "b");
  auto st = hook.convert({&b}, "example.com/v2", false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), 500);
  EXPECT_EQ(st.reason(), "");
  EXPECT_EQ(st.message().rfind("conversion webhook for example.com/v1, Kind=Widget failed: Post "
                               "\"https://127.0.0.1:1/convert\": ",
                               0),
            0u)
      << st.message();
  json::object c = widget("example.com/v1", "c");
  auto listed = hook.convert({&same, &c}, "example.com/v2", true);
  EXPECT_EQ(
      listed.message().rfind("conversion webhook for example.com/v2, Kind=WidgetList failed", 0),
      0u)
      << listed.message();
}

TEST(CrdConverter, AWebhookCrdIsValidAndItsVersionsConvertRemotely) {
  json::object crd = json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
      "names": {"plural": "widgets", "kind": "Widget"},
      "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
        "clientConfig": {"service": {"namespace": "ns", "name": "conv", "path": "/convert"}}}},
      "versions": [
        {"name": "v1", "served": true, "storage": true,
         "schema": {"openAPIV3Schema": {"type": "object"}}},
        {"name": "v2", "served": true, "storage": false,
         "schema": {"openAPIV3Schema": {"type": "object"}}}]}})")
                         .as_object();
  auto errs = validateCrd(crd, nullptr);
  EXPECT_TRUE(errs.empty()) << lines(errs)[0];
  auto types = resourcesOf(crd, std::make_shared<webhook::Client>(nullptr));
  ASSERT_EQ(types.size(), 2u);
  for (const auto& rt : types) EXPECT_TRUE(rt.behavior->convertsRemotely()) << rt.version;
  // A v1 object read as v1 needs no call; as v2 it does (and fails here: no resolver).
  json::object obj = widget("example.com/v1", "a");
  const auto& v1 = types[0].version == "v1" ? types[0] : types[1];
  const auto& v2 = types[0].version == "v2" ? types[0] : types[1];
  EXPECT_TRUE(v1.behavior->convertFromStorage(v1, obj).ok());
  auto st = v2.behavior->convertFromStorage(v2, obj);
  EXPECT_EQ(st.code(), 500);
  EXPECT_NE(st.message().find("conversion webhook for example.com/v1, Kind=Widget failed: Post "
                              "\"https://conv.ns.svc:443/convert\""),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace berth::apiserver::crd
