#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/service_account.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

class ServiceAccountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reader.add("serviceaccounts", parse(R"({"metadata":{"name":"default","namespace":"d"},
        "imagePullSecrets":[{"name":"pull"}]})"));
    reader.add("serviceaccounts", parse(R"({"metadata":{"name":"quiet","namespace":"d"},
        "automountServiceAccountToken":false})"));
    plugin = newServiceAccount(reader);
  }
  FakeReader reader;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(ServiceAccountTest, DefaultsAndMountsTheTokenVolume) {
  Request rq(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"i"}],
      "containers":[{"name":"a"},{"name":"b","volumeMounts":[
          {"name":"own","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}]}})"));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  auto& spec = rq.obj["spec"].as_object();
  EXPECT_EQ(spec["serviceAccountName"], "default");
  ASSERT_EQ(spec["volumes"].as_array().size(), 1u);
  auto& vol = spec["volumes"].as_array()[0].as_object();
  std::string name(vol["name"].as_string());
  EXPECT_EQ(name.size(), std::string("kube-api-access-").size() + 5);
  EXPECT_EQ(name.rfind("kube-api-access-", 0), 0u);
  EXPECT_EQ(vol["projected"].as_object(), tokenVolumeSource());
  auto mount = spec["containers"].as_array()[0].as_object()["volumeMounts"].as_array()[0];
  EXPECT_EQ(mount, json::value({{"name", name}, {"readOnly", true},
                                {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"}}));
  EXPECT_EQ(spec["initContainers"].as_array()[0].as_object()["volumeMounts"].as_array().size(), 1u);
  // A container with its own mount at the path keeps it.
  EXPECT_EQ(spec["containers"].as_array()[1].as_object()["volumeMounts"].as_array().size(), 1u);
  EXPECT_EQ(spec["imagePullSecrets"], json::parse(R"([{"name":"pull"}])"));
  const auto& src = vol["projected"].as_object().at("sources").as_array();
  EXPECT_EQ(src[0].at_pointer("/serviceAccountToken/expirationSeconds"), 3607);
  EXPECT_EQ(src[1].at_pointer("/configMap/name"), "kube-root-ca.crt");
  EXPECT_EQ(src[2].at_pointer("/downwardAPI/items/0/fieldRef/fieldPath"), "metadata.namespace");
}

TEST_F(ServiceAccountTest, OptOutFromPodOrServiceAccount) {
  Request quiet(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{
      "serviceAccountName":"quiet","containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(plugin->admit(quiet.a).ok());
  EXPECT_FALSE(quiet.obj["spec"].as_object().contains("volumes"));
  Request podOpt(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{
      "automountServiceAccountToken":false,"containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(plugin->admit(podOpt.a).ok());
  EXPECT_FALSE(podOpt.obj["spec"].as_object().contains("volumes"));
  // The pod's true overrides the ServiceAccount's false.
  Request podIn(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{
      "serviceAccountName":"quiet","automountServiceAccountToken":true,"containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(plugin->admit(podIn.a).ok());
  EXPECT_TRUE(podIn.obj["spec"].as_object().contains("volumes"));
}

TEST_F(ServiceAccountTest, MissingServiceAccountForbidden) {
  Request rq(type("", "pods"), "other", parse(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}]}})"));
  auto st = plugin->admit(rq.a);
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.message(),
            "pods \"p\" is forbidden: error looking up service account other/default: "
            "serviceaccount \"default\" not found");
}

TEST_F(ServiceAccountTest, MirrorPodsUntouchedAndMayNotNameAServiceAccount) {
  Request mirror(type("", "pods"), "other", parse(R"({"metadata":{"name":"p","annotations":{
      "kubernetes.io/config.mirror":"x"}},"spec":{"containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(plugin->admit(mirror.a).ok());
  EXPECT_FALSE(mirror.obj["spec"].as_object().contains("serviceAccountName"));
  Request named(type("", "pods"), "d", parse(R"({"metadata":{"name":"p","annotations":{
      "kubernetes.io/config.mirror":"x"}},"spec":{"serviceAccountName":"default","containers":[{"name":"a"}]}})"));
  EXPECT_EQ(plugin->admit(named.a).message(),
            "pods \"p\" is forbidden: a mirror pod may not reference service accounts");
}

}  // namespace
}  // namespace berth::apiserver::admission
