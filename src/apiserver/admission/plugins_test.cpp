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
  *st = installBuiltinPlugins(chain, {&reader}, on, off, &names);
  return names;
}

TEST(InstallBuiltinPlugins, UpstreamOrderAndFlags) {
  core::Status st;
  EXPECT_EQ(installed({}, {}, &st),
            (std::vector<std::string>{"LimitRanger", "ServiceAccount", "Priority",
                                      "DefaultTolerationSeconds", "PodSecurity"}));
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(installed({"NodeRestriction"}, {"PodSecurity", "LimitRanger"}, &st),
            (std::vector<std::string>{"ServiceAccount", "Priority", "DefaultTolerationSeconds"}));
  installed({"Bogus"}, {}, &st);
  EXPECT_EQ(st.message(), "admission-control plugin \"Bogus\" is unknown");
  installed({"Priority"}, {"Priority"}, &st);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace berth::apiserver::admission
