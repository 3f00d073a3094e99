#include "kubelet/container_config.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::kubelet {
namespace {

json::object parse(const char* s) { return json::parse(s).as_object(); }

class MapSource : public ObjectSource {
 public:
  std::map<std::string, json::object> configMaps, secrets;
  core::Result<json::object> configMap(const std::string& ns, const std::string& n) override {
    auto it = configMaps.find(ns + "/" + n);
    if (it == configMaps.end()) return core::Status::notFound("configmaps", n);
    return it->second;
  }
  core::Result<json::object> secret(const std::string& ns, const std::string& n) override {
    auto it = secrets.find(ns + "/" + n);
    if (it == secrets.end()) return core::Status::notFound("secrets", n);
    return it->second;
  }
};

TEST(ContainerArgs, CommandReplacesEntrypointAndDropsCmd) {
  images::ImageConfig image{{"/entry"}, {"default-arg"}, {}, "", "", {}};
  EXPECT_EQ(containerArgs(parse(R"j({"command":["sh","-c"],"args":["echo"]})j"), image, {}),
            (std::vector<std::string>{"sh", "-c", "echo"}));
  EXPECT_EQ(containerArgs(parse(R"j({"command":["run"]})j"), image, {}),
            (std::vector<std::string>{"run"}));
  EXPECT_EQ(containerArgs(parse(R"j({"args":["x","y"]})j"), image, {}),
            (std::vector<std::string>{"/entry", "x", "y"}));
  EXPECT_EQ(containerArgs(parse(R"j({})j"), image, {}),
            (std::vector<std::string>{"/entry", "default-arg"}));
}

TEST(ContainerArgs, ExpandsVariablesAsKubernetes) {
  std::map<std::string, std::string> env{{"A", "1"}, {"B", "two"}};
  EXPECT_EQ(expandVars("$(A)-$(B)", env), "1-two");
  EXPECT_EQ(expandVars("$(MISSING)", env), "$(MISSING)");
  EXPECT_EQ(expandVars("$$(A)", env), "$(A)");
  EXPECT_EQ(expandVars("cost $5", env), "cost $5");
  images::ImageConfig image;
  EXPECT_EQ(containerArgs(parse(R"j({"command":["echo","$(A)"],"args":["$(B)"]})j"), image, env),
            (std::vector<std::string>{"echo", "1", "two"}));
}

TEST(ResolveEnv, ValuesFromEverySource) {
  MapSource src;
  src.configMaps["ns/cm"] = parse(R"j({"data":{"k":"from-cm","other":"o"}})j");
  src.secrets["ns/s"] = parse(R"j({"data":{"pw":"c2VjcmV0"}})j");  // "secret"
  auto pod = parse(R"j({"metadata":{"name":"p","namespace":"ns","uid":"u1","labels":{"app":"a"}},
    "spec":{"serviceAccountName":"sa"}})j");
  auto container = parse(R"j({"name":"c","resources":{"limits":{"memory":"64Mi","cpu":"500m"}},
    "envFrom":[{"configMapRef":{"name":"cm"},"prefix":"CM_"}],
    "env":[{"name":"PLAIN","value":"v"},
      {"name":"REF","value":"x-$(PLAIN)"},
      {"name":"CM","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k"}}},
      {"name":"PW","valueFrom":{"secretKeyRef":{"name":"s","key":"pw"}}},
      {"name":"NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
      {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
      {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
      {"name":"IPS","valueFrom":{"fieldRef":{"fieldPath":"status.podIPs"}}},
      {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
      {"name":"CPU","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
      {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"nope","key":"k","optional":true}}}]})j");
  PodRuntimeFacts facts{"10.244.0.7", "10.0.0.1", "n1", 2000, 1 << 30,
                        {"10.244.0.7", "fd00:10:244::7"}};
  auto env = resolveEnv(pod, container, src, facts);
  ASSERT_TRUE(env.ok()) << env.status().message();
  std::map<std::string, std::string> m(env->begin(), env->end());
  EXPECT_EQ(m["CM_k"], "from-cm");
  EXPECT_EQ(m["CM_other"], "o");
  EXPECT_EQ(m["REF"], "x-v");
  EXPECT_EQ(m["CM"], "from-cm");
  EXPECT_EQ(m["PW"], "secret");
  EXPECT_EQ(m["NAME"], "p");
  EXPECT_EQ(m["APP"], "a");
  EXPECT_EQ(m["IP"], "10.244.0.7");
  EXPECT_EQ(m["IPS"], "10.244.0.7,fd00:10:244::7");  // dual-stack: both, primary first
  EXPECT_EQ(m["MEM"], "64");
  EXPECT_EQ(m["CPU"], "1");  // 0.5 cores rounded up, as upstream
  EXPECT_FALSE(m.count("OPT"));
}

TEST(ResolveEnv, MissingReferencesAreConfigErrors) {
  MapSource src;
  src.configMaps["ns/cm"] = parse(R"j({"data":{"k":"v"}})j");
  auto pod = parse(R"j({"metadata":{"name":"p","namespace":"ns"}})j");
  auto missingMap = resolveEnv(
      pod, parse(R"j({"env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"gone","key":"k"}}}]})j"),
      src, {});
  ASSERT_FALSE(missingMap.ok());
  EXPECT_EQ(missingMap.status().message(), "configmap \"gone\" not found");
  auto missingKey = resolveEnv(
      pod, parse(R"j({"env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cm","key":"no"}}}]})j"),
      src, {});
  ASSERT_FALSE(missingKey.ok());
  EXPECT_EQ(missingKey.status().message(), "couldn't find key no in ConfigMap ns/cm");
}

TEST(MergeEnv, ContainerOverridesImageKeepingOrder) {
  EXPECT_EQ(mergeEnv({"PATH=/bin", "A=image"}, {{"A", "pod"}, {"B", "b"}}),
            (std::vector<std::string>{"PATH=/bin", "A=pod", "B=b"}));
}

TEST(Quantities, ParseAsKubernetes) {
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("100m")), 0.1);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("1Gi")), 1073741824.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("2k")), 2000.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("1e3")), 1000.0);
  EXPECT_DOUBLE_EQ(static_cast<double>(*parseQuantity("1.5")), 1.5);
  EXPECT_FALSE(parseQuantity("abc"));
  EXPECT_FALSE(parseQuantity("1Qi"));
  EXPECT_FALSE(parseQuantity(""));
}

TEST(ContainerResources, RequestsAndLimitsBecomeCgroupSettings) {
  auto r = containerResources(
      parse(R"j({"resources":{"requests":{"cpu":"250m"},"limits":{"cpu":"1","memory":"128Mi"}}})j"));
  EXPECT_EQ(r.cpuShares, 256);
  EXPECT_EQ(r.cpuQuotaMicros, 100000);
  EXPECT_EQ(r.memoryLimitBytes, 128LL << 20);
  auto onlyLimit = containerResources(parse(R"j({"resources":{"limits":{"cpu":"500m"}}})j"));
  EXPECT_EQ(onlyLimit.cpuShares, 512);  // requests default to limits
  auto none = containerResources(parse(R"j({})j"));
  EXPECT_EQ(none.cpuShares, 2);
  EXPECT_EQ(none.cpuQuotaMicros, 0);
  EXPECT_EQ(none.memoryLimitBytes, 0);
}

TEST(QosClass, AsUpstream) {
  EXPECT_EQ(podQosClass(parse(R"j({"spec":{"containers":[{"name":"a"}]}})j")), "BestEffort");
  EXPECT_EQ(podQosClass(parse(R"j({"spec":{"containers":[{"name":"a","resources":{
    "limits":{"cpu":"1","memory":"1Gi"}}}]}})j")),
            "Guaranteed");
  EXPECT_EQ(podQosClass(parse(R"j({"spec":{"containers":[{"name":"a","resources":{
    "requests":{"cpu":"500m","memory":"1Gi"},"limits":{"cpu":"1","memory":"1Gi"}}}]}})j")),
            "Burstable");
  EXPECT_EQ(podQosClass(parse(R"j({"spec":{"containers":[{"name":"a","resources":{
    "limits":{"cpu":"1","memory":"1Gi"}}},{"name":"b"}]}})j")),
            "Burstable");
}

}  // namespace
}  // namespace berth::kubelet
