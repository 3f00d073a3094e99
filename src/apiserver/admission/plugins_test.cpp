#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;

TEST(DefaultTolerationSeconds, AddsMissingNoExecuteTolerations) {
  auto plugin = newDefaultTolerationSeconds();
  Request rq(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"tolerations":[
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":2}]}})"));
  ASSERT_TRUE(plugin->admit(rq.a).ok());
  const auto& ts = rq.obj["spec"].as_object()["tolerations"].as_array();
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[1], json::parse(R"({"key":"node.kubernetes.io/not-ready","operator":"Exists",
                                   "effect":"NoExecute","tolerationSeconds":300})"));
  // A toleration of everything needs nothing more; updates are left alone.
  Request all(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{"tolerations":[
      {"operator":"Exists"}]}})"));
  ASSERT_TRUE(plugin->admit(all.a).ok());
  EXPECT_EQ(all.obj["spec"].as_object()["tolerations"].as_array().size(), 1u);
  auto old = parse(R"({"metadata":{"name":"p"},"spec":{}})");
  Request upd(type("", "pods"), "d", parse(R"({"metadata":{"name":"p"},"spec":{}})"), &old);
  ASSERT_TRUE(plugin->admit(upd.a).ok());
  EXPECT_FALSE(upd.obj["spec"].as_object().contains("tolerations"));
}

std::vector<std::string> installed(const std::vector<std::string>& on,
                                   const std::vector<std::string>& off, core::Status* st) {
  FakeReader reader;
  Chain chain;
  std::vector<std::string> names;
  PluginDeps deps{&reader, {}};
  deps.external["ResourceQuota"] = [] { return newDefaultTolerationSeconds(); };  // a stand-in
  *st = installBuiltinPlugins(chain, deps, on, off, &names);
  return names;
}

TEST(InstallBuiltinPlugins, UpstreamOrderAndFlags) {
  core::Status st;
  EXPECT_EQ(installed({}, {}, &st),
            (std::vector<std::string>{"NamespaceLifecycle", "LimitRanger", "ServiceAccount", "Priority",
                                      "DefaultTolerationSeconds", "DefaultStorageClass",
                                      "StorageObjectInUseProtection", "PodSecurity",
                                      "ResourceQuota"}));
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(installed({"AlwaysPullImages"}, {"PodSecurity", "LimitRanger", "ResourceQuota"}, &st),
            (std::vector<std::string>{"NamespaceLifecycle", "ServiceAccount", "Priority",
                                      "DefaultTolerationSeconds", "DefaultStorageClass",
                                      "StorageObjectInUseProtection"}));
  installed({"Bogus"}, {}, &st);
  EXPECT_EQ(st.message(), "admission-control plugin \"Bogus\" is unknown");
  installed({"Priority"}, {"Priority"}, &st);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace berth::apiserver::admission

namespace berth::apiserver::admission {
namespace {

using namespace testing;

TEST(NamespaceLifecycle, MissingAndTerminatingNamespaces) {
  FakeReader reader;
  reader.add("namespaces", parse(R"({"metadata":{"name":"live"}})"));
  reader.add("namespaces", parse(R"({"metadata":{"name":"dying","deletionTimestamp":"2026-01-01T00:00:00Z"}})"));
  auto plugin = newNamespaceLifecycle(reader);
  auto pod = parse(R"({"metadata":{"name":"p"},"spec":{}})");
  Request live(type("", "pods"), "live", pod);
  EXPECT_TRUE(plugin->admit(live.a).ok());
  Request missing(type("", "pods"), "gone", pod);
  auto st = plugin->admit(missing.a);
  EXPECT_EQ(st.code(), 404);
  EXPECT_EQ(st.message(), "namespaces \"gone\" not found");
  Request dying(type("", "pods"), "dying", pod);
  st = plugin->admit(dying.a);
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.message(),
            "unable to create new content in namespace dying because it is being terminated");
  Request ns(type("", "namespaces"), "", parse(R"({"metadata":{"name":"new"}})"));
  EXPECT_TRUE(plugin->admit(ns.a).ok());
}

}  // namespace
}  // namespace berth::apiserver::admission
