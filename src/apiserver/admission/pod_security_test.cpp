#include <gtest/gtest.h>

#include "apiserver/admission/fake_reader_test_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/pod_security_policy.h"

namespace berth::apiserver::admission {
namespace {

using namespace testing;
namespace ps = podsecurity;

json::object ns(const char* name, const char* labels) {
  auto o = parse(R"({"metadata":{"labels":{}}})");
  o["metadata"].as_object()["name"] = name;
  o["metadata"].as_object()["labels"] = json::parse(labels);
  return o;
}

const char* kPrivilegedPod =
    R"({"metadata":{"name":"x","namespace":"r"},"spec":{"containers":[
        {"name":"c","image":"busybox","securityContext":{"privileged":true}}]}})";

const char* kRestrictedPod =
    R"({"metadata":{"name":"ok","namespace":"r"},"spec":{
        "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
        "containers":[{"name":"c","image":"busybox","securityContext":{
          "allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE"]}}}]}})";

TEST(PodSecurityPolicy, RestrictedMessageInUpstreamOrder) {
  auto pod = parse(kPrivilegedPod);
  auto failed = ps::evaluatePod({ps::Level::kRestricted, -1}, pod["metadata"].as_object(),
                                pod["spec"].as_object());
  EXPECT_EQ(ps::forbiddenDetail(failed),
            "privileged (container \"c\" must not set securityContext.privileged=true), "
            "allowPrivilegeEscalation != false (container \"c\" must set "
            "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
            "runAsNonRoot != true (pod or container \"c\" must set "
            "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set "
            "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
}

TEST(PodSecurityPolicy, BaselineChecks) {
  auto pod = parse(R"({"metadata":{"annotations":{
      "container.apparmor.security.beta.kubernetes.io/a":"unconfined"}},"spec":{
      "hostNetwork":true,"hostPID":true,
      "securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"},
                                    {"name":"net.ipv4.tcp_syncookies","value":"1"}]},
      "volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"e","emptyDir":{}}],
      "containers":[{"name":"a","image":"i","ports":[{"containerPort":80,"hostPort":80}],
                     "securityContext":{"capabilities":{"add":["NET_ADMIN","CHOWN"]},
                                        "procMount":"Unmasked"}},
                    {"name":"b","image":"i","ports":[{"containerPort":1,"hostPort":443}],
                     "securityContext":{"seLinuxOptions":{"type":"spc_t"},
                                        "seccompProfile":{"type":"Unconfined"}}}]}})");
  auto failed = ps::evaluatePod({ps::Level::kBaseline, -1}, pod["metadata"].as_object(),
                                pod["spec"].as_object());
  EXPECT_EQ(
      ps::forbiddenDetail(failed),
      "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"), "
      "non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in "
      "securityContext.capabilities.add), host namespaces (hostNetwork=true, hostPID=true), "
      "hostPath volumes (volume \"h\"), hostPort (containers \"a\", \"b\" use hostPorts 443, 80), "
      "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\"), "
      "seLinuxOptions (container \"b\" set forbidden securityContext.seLinuxOptions: type "
      "\"spc_t\"), seccompProfile (container \"b\" must not set "
      "securityContext.seccompProfile.type to \"Unconfined\"), forbidden sysctls (kernel.msgmax)");
}

TEST(PodSecurityPolicy, RestrictedAllowsCompliantPodAndVersionsGateChecks) {
  auto pod = parse(kRestrictedPod);
  const auto& meta = pod["metadata"].as_object();
  const auto& spec = pod["spec"].as_object();
  EXPECT_TRUE(ps::evaluatePod({ps::Level::kRestricted, -1}, meta, spec).empty());
  auto root = parse(R"({"spec":{"securityContext":{"runAsUser":0,"runAsNonRoot":true},
      "volumes":[{"name":"n","nfs":{"server":"s","path":"/"}}],
      "containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,
        "seccompProfile":{"type":"RuntimeDefault"}}}]}})");
  auto failed = ps::evaluatePod({ps::Level::kRestricted, -1}, json::object(),
                                root["spec"].as_object());
  EXPECT_EQ(ps::forbiddenReasons(failed),
            "unrestricted capabilities, restricted volume types, runAsUser=0");
  EXPECT_EQ(failed[1].detail, "volume \"n\" uses restricted volume type \"nfs\"");
  // runAsUser joined the policy in v1.23, capabilities in v1.22.
  failed = ps::evaluatePod({ps::Level::kRestricted, 21}, json::object(), root["spec"].as_object());
  EXPECT_EQ(ps::forbiddenReasons(failed), "restricted volume types");
}

TEST(PodSecurityPolicy, ParsesLevelsAndVersions) {
  EXPECT_EQ(ps::parseLevel("baseline"), ps::Level::kBaseline);
  EXPECT_FALSE(ps::parseLevel("strict"));
  EXPECT_EQ(ps::parseVersion("latest"), -1);
  EXPECT_EQ(ps::parseVersion("v1.24"), 24);
  EXPECT_FALSE(ps::parseVersion("1.24"));
  EXPECT_FALSE(ps::parseVersion("v1.024"));
  EXPECT_EQ((ps::LevelVersion{ps::Level::kBaseline, 24}).str(), "baseline:v1.24");
}

class PodSecurityPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    reader.add("namespaces", ns("r", R"({"pod-security.kubernetes.io/enforce":"restricted"})"));
    reader.add("namespaces", ns("w", R"({"pod-security.kubernetes.io/warn":"baseline",
                                         "pod-security.kubernetes.io/warn-version":"v1.30"})"));
    reader.add("namespaces", ns("open", "{}"));
    reader.add("namespaces", ns("a", R"({"pod-security.kubernetes.io/audit":"restricted",
                                         "pod-security.kubernetes.io/enforce":"baseline"})"));
    plugin = newPodSecurity(reader);
  }
  FakeReader reader;
  std::unique_ptr<Plugin> plugin;
};

TEST_F(PodSecurityPlugin, EnforceRejectsWithUpstreamMessage) {
  Request rq(type("", "pods"), "r", parse(kPrivilegedPod));
  auto st = plugin->validate(rq.a);
  EXPECT_EQ(st.code(), 403);
  EXPECT_EQ(st.reason(), "Forbidden");
  EXPECT_EQ(st.message().rfind(
                "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (c", 0),
            0u);
  Request ok(type("", "pods"), "r", parse(kRestrictedPod));
  EXPECT_TRUE(plugin->validate(ok.a).ok());
  Request open(type("", "pods"), "open", parse(kPrivilegedPod));
  EXPECT_TRUE(plugin->validate(open.a).ok());
  EXPECT_TRUE(open.warnings.empty());
}

TEST_F(PodSecurityPlugin, WarnModeWarnsAndAdmits) {
  Request rq(type("", "pods"), "w", parse(kPrivilegedPod));
  EXPECT_TRUE(plugin->validate(rq.a).ok());
  ASSERT_EQ(rq.warnings.size(), 1u);
  EXPECT_EQ(rq.warnings[0],
            "would violate PodSecurity \"baseline:v1.30\": privileged (container \"c\" must not "
            "set securityContext.privileged=true)");
}

// The audit level admits and warns nothing: it annotates the request's audit event, as upstream's
// pod-security.kubernetes.io/audit-violations; every evaluated pod names the enforce policy.
TEST_F(PodSecurityPlugin, AuditModeAnnotatesTheAuditEvent) {
  auto hostPort = parse(R"({"metadata":{"name":"hp","namespace":"a"},"spec":{"containers":[
      {"name":"c","image":"i","securityContext":{"allowPrivilegeEscalation":true}}]}})");
  Request rq(type("", "pods"), "a", hostPort);
  EXPECT_TRUE(plugin->validate(rq.a).ok());
  EXPECT_TRUE(rq.warnings.empty());
  EXPECT_EQ(rq.annotations["pod-security.kubernetes.io/enforce-policy"], "baseline:latest");
  EXPECT_EQ(rq.annotations["pod-security.kubernetes.io/audit-violations"].rfind(
                "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false",
                0),
            0u);
  Request ok(type("", "pods"), "a", parse(kRestrictedPod));
  EXPECT_TRUE(plugin->validate(ok.a).ok());
  EXPECT_EQ(ok.annotations.count("pod-security.kubernetes.io/audit-violations"), 0u);
  // Workload templates are audited too.
  auto deploy = parse(R"({"metadata":{"name":"d","namespace":"a"},"spec":{"template":{
      "spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  Request d(type("apps", "deployments"), "a", deploy);
  EXPECT_TRUE(plugin->validate(d.a).ok());
  EXPECT_NE(d.annotations["pod-security.kubernetes.io/audit-violations"].find("restricted:latest"),
            std::string::npos);
}

TEST_F(PodSecurityPlugin, WorkloadTemplatesWarnForEnforceLevel) {
  auto deploy = parse(R"({"metadata":{"name":"d","namespace":"r"},"spec":{"template":{
      "metadata":{"labels":{"a":"b"}},"spec":{"hostNetwork":true,"containers":[{"name":"c"}]}}}})");
  Request rq(type("apps", "deployments"), "r", deploy);
  EXPECT_TRUE(plugin->validate(rq.a).ok());
  ASSERT_EQ(rq.warnings.size(), 1u);
  EXPECT_EQ(rq.warnings[0].rfind(
                "would violate PodSecurity \"restricted:latest\": host namespaces (hostNetwork=true)",
                0),
            0u);
  // CronJobs nest the template one level deeper.
  auto cj = parse(R"({"metadata":{"name":"j","namespace":"w"},"spec":{"jobTemplate":{"spec":{
      "template":{"spec":{"hostPID":true,"containers":[{"name":"c"}]}}}}}})");
  Request cron(type("batch", "cronjobs"), "w", cj);
  EXPECT_TRUE(plugin->validate(cron.a).ok());
  ASSERT_EQ(cron.warnings.size(), 1u);
  EXPECT_EQ(cron.warnings[0],
            "would violate PodSecurity \"baseline:v1.30\": host namespaces (hostPID=true)");
}

TEST_F(PodSecurityPlugin, PodUpdatesOnlyEvaluatedWhenSecurityFieldsChange) {
  auto old = parse(kPrivilegedPod);
  auto relabelled = old;
  relabelled["metadata"].as_object()["labels"] = json::object{{"a", "b"}};
  Request rq(type("", "pods"), "r", relabelled, &old);
  EXPECT_TRUE(plugin->validate(rq.a).ok());
  Request status(type("", "pods"), "r", parse(kPrivilegedPod), nullptr, "status");
  EXPECT_TRUE(plugin->validate(status.a).ok());
}

TEST_F(PodSecurityPlugin, NamespaceLabelsValidated) {
  Request bad(type("", "namespaces"), "",
              ns("typo", R"({"pod-security.kubernetes.io/enforce":"strict"})"));
  auto st = plugin->validate(bad.a);
  EXPECT_EQ(st.code(), 422);
  EXPECT_EQ(st.message(),
            "Namespace \"typo\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: "
            "Invalid value: \"strict\": must be one of privileged, baseline, restricted");
  Request badVersion(type("", "namespaces"), "",
                     ns("v", R"({"pod-security.kubernetes.io/warn-version":"1.2"})"));
  EXPECT_NE(plugin->validate(badVersion.a).message().find("must be \"latest\" or \"v1.x\""),
            std::string::npos);
}

TEST_F(PodSecurityPlugin, TighteningEnforceWarnsAboutExistingPods) {
  auto p1 = parse(kPrivilegedPod);
  p1["metadata"].as_object()["namespace"] = "open";
  reader.add("pods", p1);
  auto p2 = p1;
  p2["metadata"].as_object()["name"] = "y";
  reader.add("pods", p2);
  auto old = ns("open", "{}");
  Request rq(type("", "namespaces"), "", ns("open", R"({"pod-security.kubernetes.io/enforce":"baseline"})"),
             &old);
  EXPECT_TRUE(plugin->validate(rq.a).ok());
  ASSERT_EQ(rq.warnings.size(), 2u);
  EXPECT_EQ(rq.warnings[0],
            "existing pods in namespace \"open\" violate the new PodSecurity enforce level "
            "\"baseline:latest\"");
  EXPECT_EQ(rq.warnings[1], "x (and 1 other pod): privileged");
}

}  // namespace
}  // namespace berth::apiserver::admission
