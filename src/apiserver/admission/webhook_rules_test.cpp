#include "apiserver/admission/webhook_rules.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "apiserver/admission/webhook_review.h"
#include "core/base64.h"
#include "core/resources.h"

namespace berth::apiserver::admission {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

RequestTarget target(std::string group, std::string resource, std::string sub = "",
                     Operation op = Operation::kCreate, bool namespaced = true) {
  return {op, std::move(group), "v1", std::move(resource), std::move(sub), namespaced};
}

json::object rule(std::string_view resources, std::string_view extra = "") {
  return obj(
      std::string(
          R"({"operations":["CREATE","UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":)") +
      std::string(resources) + std::string(extra) + "}");
}

TEST(WebhookRules, ResourcesWildcardsAndSubresources) {
  EXPECT_TRUE(ruleMatches(rule(R"(["pods"])"), target("", "pods")));
  EXPECT_FALSE(ruleMatches(rule(R"(["pods"])"), target("", "pods", "status")));
  EXPECT_FALSE(ruleMatches(rule(R"(["pods"])"), target("", "configmaps")));
  EXPECT_TRUE(ruleMatches(rule(R"(["*"])"), target("", "configmaps")));
  EXPECT_FALSE(ruleMatches(rule(R"(["*"])"), target("", "pods", "status")));
  EXPECT_TRUE(ruleMatches(rule(R"(["*/*"])"), target("", "pods", "status")));
  EXPECT_TRUE(ruleMatches(rule(R"(["pods/*"])"), target("", "pods", "status")));
  // Upstream splits "pods/*" into pods + any subresource, the empty one included.
  EXPECT_TRUE(ruleMatches(rule(R"(["pods/*"])"), target("", "pods")));
  EXPECT_TRUE(ruleMatches(rule(R"(["*/scale"])"), target("", "replicationcontrollers", "scale")));
  EXPECT_FALSE(ruleMatches(rule(R"(["*/scale"])"), target("", "pods", "status")));
}

TEST(WebhookRules, OperationsGroupsVersionsAndScope) {
  EXPECT_FALSE(ruleMatches(rule(R"(["pods"])"), target("", "pods", "", Operation::kDelete)));
  EXPECT_FALSE(ruleMatches(rule(R"(["deployments"])"), target("apps", "deployments")));
  auto any = obj(R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]})");
  EXPECT_TRUE(ruleMatches(any, target("apps", "deployments", "", Operation::kDelete)));
  EXPECT_FALSE(ruleMatches(rule(R"(["*"])", R"(,"scope":"Cluster")"), target("", "pods")));
  EXPECT_TRUE(ruleMatches(rule(R"(["*"])", R"(,"scope":"Cluster")"),
                          target("", "nodes", "", Operation::kCreate, false)));
  EXPECT_FALSE(ruleMatches(rule(R"(["*"])", R"(,"scope":"Namespaced")"),
                           target("", "nodes", "", Operation::kCreate, false)));
}

TEST(WebhookRules, NamespaceAndObjectSelectors) {
  auto hook = obj(
      R"({"namespaceSelector":{"matchExpressions":[{"key":"env","operator":"In","values":["prod"]}]},
                      "objectSelector":{"matchLabels":{"app":"web"}}})");
  core::Labels prod{{"env", "prod"}}, dev{{"env", "dev"}};
  EXPECT_TRUE(namespaceSelectorMatches(hook, target("", "pods"), prod));
  EXPECT_FALSE(namespaceSelectorMatches(hook, target("", "pods"), dev));
  EXPECT_FALSE(namespaceSelectorMatches(hook, target("", "pods"), std::nullopt));
  // Cluster-scoped objects other than namespaces are not subject to namespaceSelector.
  EXPECT_TRUE(namespaceSelectorMatches(hook, target("", "nodes", "", Operation::kCreate, false),
                                       std::nullopt));
  auto web = obj(R"({"metadata":{"labels":{"app":"web"}}})"), db = obj(R"({"metadata":{}})");
  EXPECT_TRUE(objectSelectorMatches(hook, &web, nullptr));
  EXPECT_FALSE(objectSelectorMatches(hook, &db, nullptr));
  EXPECT_TRUE(objectSelectorMatches(hook, &db, &web));  // the old object's labels count too
  EXPECT_TRUE(objectSelectorMatches(obj("{}"), &db, nullptr));
}

TEST(WebhookReview, DenialUsesTheWebhookMessageAndCode) {
  auto denied = parseAdmissionReview(
      R"({"response":{"uid":"u1","allowed":false,"status":{"code":403,"message":"no"}}})", "u1",
      "hook.example.com");
  ASSERT_TRUE(denied.ok());
  EXPECT_FALSE(denied->allowed);
  EXPECT_EQ(denied->denial.code(), 403);
  EXPECT_EQ(denied->denial.message(),
            "admission webhook \"hook.example.com\" denied the request: no");
  auto bare = parseAdmissionReview(R"({"response":{"uid":"u1","allowed":false}})", "u1", "h");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->denial.code(), 400);
  EXPECT_EQ(bare->denial.message(),
            "admission webhook \"h\" denied the request without explanation");
  EXPECT_FALSE(
      parseAdmissionReview(R"({"response":{"uid":"other","allowed":true}})", "u1", "h").ok());
  EXPECT_FALSE(parseAdmissionReview("not json", "u1", "h").ok());
}

TEST(WebhookReview, PatchIsDecoded) {
  std::string patch = core::base64Encode(R"([{"op":"add","path":"/x","value":1}])");
  auto r = parseAdmissionReview(
      R"({"response":{"uid":"u","allowed":true,"patchType":"JSONPatch","patch":")" + patch + "\"}}",
      "u", "h");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->patch.has_value());
  EXPECT_EQ(r->patch->as_array().size(), 1u);
  EXPECT_FALSE(
      parseAdmissionReview(
          R"({"response":{"uid":"u","allowed":true,"patchType":"Merge","patch":")" + patch + "\"}}",
          "u", "h")
          .ok());
}

TEST(WebhookReview, RequestCarriesUpstreamFields) {
  Attributes a;
  a.operation = Operation::kUpdate;
  a.resource = core::findResource("apps", "v1", "deployments");
  ASSERT_NE(a.resource, nullptr);
  a.ns = "ns1";
  a.name = "d";
  a.user.name = "alice";
  a.user.groups = {"devs"};
  json::object o = obj(R"({"metadata":{"name":"d"}})"), old = o;
  a.object = &o;
  a.oldObject = &old;
  a.dryRun = true;
  auto review = buildAdmissionReview(a, "uid-1");
  const auto& req = review.at("request").as_object();
  EXPECT_EQ(review.at("apiVersion"), "admission.k8s.io/v1");
  EXPECT_EQ(req.at("uid"), "uid-1");
  EXPECT_EQ(req.at("operation"), "UPDATE");
  EXPECT_EQ(req.at("kind").at("kind"), "Deployment");
  EXPECT_EQ(req.at("resource").at("group"), "apps");
  EXPECT_EQ(req.at("namespace"), "ns1");
  EXPECT_EQ(req.at("userInfo").at("username"), "alice");
  EXPECT_EQ(req.at("options").at("kind"), "UpdateOptions");
  EXPECT_TRUE(req.at("dryRun").as_bool());
  EXPECT_TRUE(req.at("oldObject").is_object());
}

}  // namespace
}  // namespace berth::apiserver::admission
