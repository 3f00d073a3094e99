#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <random>

#include "apiserver/patch/patch.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

const core::ResourceType& type(std::string_view group, std::string_view plural) {
  const core::ResourceType* rt = core::findResource(group, "v1", plural);
  EXPECT_NE(rt, nullptr) << plural;
  static core::ResourceType fallback;
  return rt ? *rt : fallback;
}
const core::ResourceType& deployments() { return type("apps", "deployments"); }
const core::ResourceType& pods() { return type("", "pods"); }
const core::ResourceType& services() { return type("", "services"); }

json::value smp(const json::value& doc, std::string_view patch, const core::ResourceType& rt) {
  auto r = applyStrategicMergePatch(doc, J(patch), rt);
  EXPECT_TRUE(r.ok()) << patch << ": " << r.status().message();
  return r.ok() ? r.value() : json::value();
}

const char* kPod = R"({
  "apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"x","tier":"web"},
    "finalizers":["a","b"]},
  "spec":{"containers":[
      {"name":"web","image":"nginx:1","ports":[{"containerPort":80,"name":"http"}],
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "volumeMounts":[{"name":"v","mountPath":"/data"}]},
      {"name":"side","image":"busybox"}],
    "volumes":[{"name":"v","emptyDir":{}}],
    "tolerations":[{"key":"k1"},{"key":"k2"}]}})";

TEST(StrategicMergeTest, MergesContainersByName) {
  auto out = smp(J(kPod), R"({"spec":{"containers":[{"name":"web","image":"nginx:2"}]}})", pods());
  const auto& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("image"), "nginx:2");
  EXPECT_EQ(cs[0].at("env").as_array().size(), 2u);  // untouched fields stay
  EXPECT_EQ(cs[1].at("name"), "side");
}

TEST(StrategicMergeTest, NewItemsAppendAndOtherListsReplace) {
  auto out = smp(J(kPod), R"({"spec":{"containers":[{"name":"new","image":"x"}],
                               "tolerations":[{"key":"k3"}]}})",
                 pods());
  const auto& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 3u);
  // Upstream orders patch items before server-only ones when no $setElementOrder is given (the
  // "kubectl patch" task page shows the added container first).
  EXPECT_EQ(cs[0].at("name"), "new");
  EXPECT_EQ(cs[1].at("name"), "web");
  EXPECT_EQ(out.at("spec").at("tolerations"), J(R"([{"key":"k3"}])"));
}

TEST(StrategicMergeTest, PortsMergeByContext) {
  auto out = smp(J(kPod), R"({"spec":{"containers":[{"name":"web",
      "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]}]}})",
                 pods());
  const auto& ports = out.at("spec").at("containers").at(0).at("ports").as_array();
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].at("name"), "http");
  EXPECT_EQ(ports[0].at("protocol"), "TCP");

  auto svc = J(R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}})");
  auto merged = smp(svc, R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})", services());
  const auto& sp = merged.at("spec").at("ports").as_array();
  ASSERT_EQ(sp.size(), 2u);
  EXPECT_EQ(sp[0].at("targetPort"), 9090);

  // EndpointSlice ports are atomic: the patch list replaces the live one.
  auto slice = J(R"({"ports":[{"port":80,"name":"a"},{"port":81,"name":"b"}]})");
  auto replaced =
      smp(slice, R"({"ports":[{"port":80}]})", type("discovery.k8s.io", "endpointslices"));
  EXPECT_EQ(replaced.at("ports"), J(R"([{"port":80}])"));
}

TEST(StrategicMergeTest, NullDeletesAndPatchDirectives) {
  auto out = smp(J(kPod), R"({"metadata":{"labels":{"tier":null}},
      "spec":{"containers":[{"name":"side","$patch":"delete"},
                            {"name":"web","env":[{"name":"A","$patch":"delete"}]}]}})",
                 pods());
  EXPECT_EQ(out.at("metadata").at("labels"), J(R"({"app":"x"})"));
  const auto& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].at("env"), J(R"([{"name":"B","value":"2"}])"));

  auto replaced = smp(J(kPod), R"({"spec":{"containers":[{"$patch":"replace"},
                                   {"name":"only","image":"i"}]}})",
                      pods());
  EXPECT_EQ(replaced.at("spec").at("containers"), J(R"([{"name":"only","image":"i"}])"));

  auto mapReplace =
      smp(J(kPod), R"({"metadata":{"labels":{"$patch":"replace","new":"1"}}})", pods());
  EXPECT_EQ(mapReplace.at("metadata").at("labels"), J(R"({"new":"1"})"));
  auto mapDelete = smp(J(kPod), R"({"metadata":{"labels":{"$patch":"delete"}}})", pods());
  EXPECT_EQ(mapDelete.at("metadata").at("labels"), J("{}"));
}

TEST(StrategicMergeTest, FinalizersAndPrimitiveDeletes) {
  auto out = smp(J(kPod), R"({"metadata":{"finalizers":["c","a"]}})", pods());
  EXPECT_EQ(out.at("metadata").at("finalizers"), J(R"(["c","a","b"])"));
  auto removed =
      smp(J(kPod), R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})", pods());
  EXPECT_EQ(removed.at("metadata").at("finalizers"), J(R"(["b"])"));
}

TEST(StrategicMergeTest, SetElementOrder) {
  auto out = smp(J(kPod), R"({"spec":{
      "$setElementOrder/containers":[{"name":"side"},{"name":"web"}],
      "containers":[{"name":"web","image":"nginx:3"}]}})",
                 pods());
  const auto& cs = out.at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("name"), "side");
  EXPECT_EQ(cs[1].at("image"), "nginx:3");
  EXPECT_FALSE(out.at("spec").as_object().contains("$setElementOrder/containers"));

  auto fin = smp(J(kPod), R"({"metadata":{"$setElementOrder/finalizers":["b","a"]}})", pods());
  EXPECT_EQ(fin.at("metadata").at("finalizers"), J(R"(["b","a"])"));
}

TEST(StrategicMergeTest, RetainKeys) {
  auto doc = J(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})");
  auto out = smp(doc, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
                 deployments());
  EXPECT_EQ(out.at("spec").at("strategy"), J(R"({"type":"Recreate"})"));
  auto bad = applyStrategicMergePatch(
      doc, J(R"({"spec":{"strategy":{"$retainKeys":["type"],"other":1}}})"), deployments());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 422);
}

TEST(StrategicMergeTest, Errors) {
  auto noKey =
      applyStrategicMergePatch(J(kPod), J(R"({"spec":{"containers":[{"image":"x"}]}})"), pods());
  ASSERT_FALSE(noKey.ok());
  EXPECT_NE(noKey.status().message().find("does not contain declared merge key: name"),
            std::string::npos);
  auto notObject = applyStrategicMergePatch(J(kPod), J("[1]"), pods());
  ASSERT_FALSE(notObject.ok());
  EXPECT_EQ(notObject.status().code(), 400);
  auto badDirective =
      applyStrategicMergePatch(J(kPod), J(R"({"spec":{"$patch":"explode"}})"), pods());
  EXPECT_FALSE(badDirective.ok());
}

// What kubectl 1.32's client-side apply sends (CreateThreeWayMergePatch) when the manifest
// changes a container image and an env var and drops a label.
TEST(StrategicMergeTest, KubectlClientSideApplyPatch) {
  auto live = J(R"({
    "apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"default","labels":{"app":"web","tier":"front"},
      "annotations":{"deployment.kubernetes.io/revision":"1",
        "kubectl.kubernetes.io/last-applied-configuration":"{}"},
      "resourceVersion":"12","generation":1},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1.24","imagePullPolicy":"IfNotPresent",
          "env":[{"name":"MODE","value":"a"},{"name":"LEVEL","value":"1"}],
          "ports":[{"containerPort":80,"protocol":"TCP"}],
          "terminationMessagePath":"/dev/termination-log"}],
          "restartPolicy":"Always","dnsPolicy":"ClusterFirst"}}},
    "status":{"replicas":2}})");
  auto patch = R"({
    "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"new\":1}\n"},
                "labels":{"tier":null}},
    "spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"web"}],
      "containers":[{"$setElementOrder/env":[{"name":"MODE"},{"name":"LEVEL"}],
                     "env":[{"name":"MODE","value":"b"}],
                     "image":"nginx:1.25","name":"web"}]}}}})";
  auto out = smp(live, patch, deployments());
  EXPECT_EQ(out.at("metadata").at("labels"), J(R"({"app":"web"})"));
  EXPECT_EQ(out.at("metadata").at("annotations").at("deployment.kubernetes.io/revision"), "1");
  const auto& c = out.at("spec").at("template").at("spec").at("containers").at(0);
  EXPECT_EQ(c.at("image"), "nginx:1.25");
  EXPECT_EQ(c.at("env"), J(R"([{"name":"MODE","value":"b"},{"name":"LEVEL","value":"1"}])"));
  EXPECT_EQ(c.at("ports"), J(R"([{"containerPort":80,"protocol":"TCP"}])"));
  EXPECT_EQ(c.at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(out.at("spec").at("replicas"), 2);
  EXPECT_EQ(out.at("status"), J(R"({"replicas":2})"));
  // No directive leaks into the object.
  EXPECT_EQ(json::serialize(out).find('$'), std::string::npos) << json::serialize(out);

  // A second three-way patch that removes the env var and adds a container in front.
  auto patch2 = R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"init"},{"name":"web"}],
      "containers":[{"name":"init","image":"busybox"},
                    {"$setElementOrder/env":[{"name":"MODE"}],"env":[{"$patch":"delete","name":"LEVEL"}],
                     "name":"web"}]}}}})";
  auto out2 = smp(out, patch2, deployments());
  const auto& cs = out2.at("spec").at("template").at("spec").at("containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].at("name"), "init");
  EXPECT_EQ(cs[1].at("env"), J(R"([{"name":"MODE","value":"b"}])"));
}

TEST(StrategicMergeTest, KubectlCordonAndRestart) {
  auto node = J(R"({"metadata":{"name":"n"},"spec":{"podCIDR":"10.244.0.0/24"}})");
  auto cordoned = smp(node, R"({"spec":{"unschedulable":true}})", type("", "nodes"));
  EXPECT_EQ(cordoned.at("spec").at("unschedulable"), true);
  auto restarted = smp(J(R"({"spec":{"template":{"metadata":{}}}})"),
                       R"({"spec":{"template":{"metadata":{"annotations":{
                           "kubectl.kubernetes.io/restartedAt":"2024-01-01T00:00:00Z"}}}}})",
                       deployments());
  EXPECT_EQ(restarted.at("spec")
                .at("template")
                .at("metadata")
                .at("annotations")
                .at("kubectl.kubernetes.io/restartedAt"),
            "2024-01-01T00:00:00Z");
}

// Big lists merge in roughly linear time (a request body can hold tens of thousands of items).
TEST(StrategicMergeTest, LargeListsStayFast) {
  json::array env, patchEnv, order;
  for (int i = 0; i < 5000; ++i) {
    std::string name = "V" + std::to_string(i);
    env.push_back(json::object{{"name", name}, {"value", "old"}});
    if (i % 2 == 0) patchEnv.push_back(json::object{{"name", name}, {"value", "new"}});
    order.push_back(json::object{{"name", "V" + std::to_string(4999 - i)}});
  }
  json::object container{{"name", "c"}, {"env", env}};
  json::value doc = json::object{{"spec", json::object{{"containers", json::array{container}}}}};
  json::object patchContainer{{"name", "c"}, {"env", patchEnv}, {"$setElementOrder/env", order}};
  json::value patch =
      json::object{{"spec", json::object{{"containers", json::array{patchContainer}}}}};
  auto start = std::chrono::steady_clock::now();
  auto r = applyStrategicMergePatch(doc, patch, pods());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& merged = r.value().at("spec").at("containers").at(0).at("env").as_array();
  ASSERT_EQ(merged.size(), 5000u);
  EXPECT_EQ(merged[0].at("name"), "V4999");
  EXPECT_EQ(merged[1].at("value"), "new");  // V4998
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

// ---- property tests ----

json::value randomValue(std::mt19937& rng, int depth);

json::object randomObject(std::mt19937& rng, int depth) {
  static const char* kKeys[] = {"name",
                                "containers",
                                "env",
                                "ports",
                                "containerPort",
                                "image",
                                "$patch",
                                "finalizers",
                                "spec",
                                "metadata",
                                "$retainKeys",
                                "$setElementOrder/containers",
                                "$deleteFromPrimitiveList/finalizers",
                                "value",
                                "port"};
  json::object obj;
  int n = static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) obj[kKeys[rng() % 15]] = randomValue(rng, depth - 1);
  return obj;
}

json::value randomValue(std::mt19937& rng, int depth) {
  switch (rng() % (depth <= 0 ? 5 : 8)) {
    case 0:
      return static_cast<int64_t>(rng() % 3);
    case 1:
      return rng() % 2 ? "replace" : "delete";
    case 2:
      return nullptr;
    case 3:
      return "merge";
    case 4:
      return "web";
    case 5:
    case 6:
      return randomObject(rng, depth);
    default: {
      json::array arr;
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) arr.push_back(randomValue(rng, depth - 1));
      return arr;
    }
  }
}

TEST(StrategicMergePropertyTest, RandomPatchesNeverCrash) {
  std::mt19937 rng(31337);
  int ok = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    json::value doc = randomObject(rng, 5);
    json::value patch = randomObject(rng, 5);
    auto r = applyStrategicMergePatch(doc, patch, iter % 2 ? pods() : services());
    if (r.ok()) {
      ++ok;
      EXPECT_TRUE(r.value().is_object());
    } else {
      EXPECT_TRUE(r.status().code() == 400 || r.status().code() == 422) << r.status().message();
    }
  }
  EXPECT_GT(ok, 100);
}

// A strategic patch without directives or keyed lists is a merge patch.
TEST(StrategicMergePropertyTest, AgreesWithMergePatchOnPlainMaps) {
  std::mt19937 rng(5);
  for (int iter = 0; iter < 2000; ++iter) {
    json::object doc, patch;
    for (int i = 0; i < 4; ++i) {
      std::string k = "k" + std::to_string(rng() % 4);
      doc[k] = rng() % 2 ? json::value(json::object{{"x", rng() % 3}}) : json::value(rng() % 3);
      std::string p = "k" + std::to_string(rng() % 4);
      patch[p] = rng() % 3 == 0 ? json::value(nullptr)
                 : rng() % 2    ? json::value(json::object{{"y", rng() % 3}})
                                : json::value(json::array{1, 2});
    }
    auto a = applyStrategicMergePatch(doc, patch, deployments());
    auto b = applyMergePatch(doc, patch);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a.value(), b.value()) << json::serialize(doc) << " + " << json::serialize(patch);
  }
}

}  // namespace
}  // namespace berth::apiserver::patch
