// Unit tests of the StatefulSet controller's pure pieces: ordinals, pod identity, claims.
#include "controllers/statefulset/sts_logic.h"

#include <gtest/gtest.h>

namespace berth::controllers::statefulset {
namespace {

namespace json = boost::json;

json::value set() {
  return json::parse(R"({"metadata":{"name":"web","namespace":"ns","uid":"u"},
    "spec":{"serviceName":"svc","replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c"}],
        "volumes":[{"name":"data","emptyDir":{}},{"name":"cfg","configMap":{"name":"x"}}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"data","labels":{"tier":"db"}},
        "spec":{"resources":{"requests":{"storage":"1Gi"}}},"status":{"phase":"Pending"}},
        {"metadata":{"name":"logs"},"spec":{}}]}})");
}

TEST(StsLogicTest, Ordinals) {
  EXPECT_EQ(ordinalOf("web", "web-0"), 0);
  EXPECT_EQ(ordinalOf("web", "web-12"), 12);
  EXPECT_FALSE(ordinalOf("web", "web-"));
  EXPECT_FALSE(ordinalOf("web", "web-01"));
  EXPECT_FALSE(ordinalOf("web", "web-x"));
  EXPECT_FALSE(ordinalOf("web", "webby-1"));
  EXPECT_FALSE(ordinalOf("web", "web-1-2"));
  EXPECT_EQ(ordinalOf("web-1", "web-1-2"), 2);
  EXPECT_EQ(startOrdinal(json::parse(R"({"spec":{"ordinals":{"start":5}}})")), 5);
  EXPECT_EQ(startOrdinal(json::parse(R"({"spec":{}})")), 0);
}

TEST(StsLogicTest, PodIdentityAndClaimVolumes) {
  json::value s = set();
  json::object pod = newPod(s, objAt(s, "spec", "template"), 1, "web-abc");
  const json::object& meta = pod["metadata"].as_object();
  EXPECT_EQ(meta.at("name"), "web-1");
  EXPECT_FALSE(meta.contains("generateName"));
  EXPECT_EQ(meta.at("namespace"), "ns");
  const json::object& labels = meta.at("labels").as_object();
  EXPECT_EQ(labels.at(kPodNameLabel), "web-1");
  EXPECT_EQ(labels.at(kPodIndexLabel), "1");
  EXPECT_EQ(labels.at(kRevisionLabel), "web-abc");
  EXPECT_EQ(labels.at("app"), "web");
  EXPECT_EQ(meta.at("ownerReferences").at(0).at("kind"), "StatefulSet");
  const json::object& spec = pod["spec"].as_object();
  EXPECT_EQ(spec.at("hostname"), "web-1");
  EXPECT_EQ(spec.at("subdomain"), "svc");
  const json::array& vols = spec.at("volumes").as_array();
  ASSERT_EQ(vols.size(), 3u);  // data replaced in place, cfg kept, logs added
  EXPECT_EQ(vols[0].at("persistentVolumeClaim").at("claimName"), "data-web-1");
  EXPECT_FALSE(vols[0].as_object().contains("emptyDir"));
  EXPECT_EQ(vols[1].at("name"), "cfg");
  EXPECT_EQ(vols[2].at("persistentVolumeClaim").at("claimName"), "logs-web-1");
}

TEST(StsLogicTest, ClaimsCarrySelectorLabels) {
  auto claims = claimsFor(set(), 3);
  ASSERT_EQ(claims.size(), 2u);
  const json::object& meta = claims[0]["metadata"].as_object();
  EXPECT_EQ(meta.at("name"), "data-web-3");
  EXPECT_EQ(meta.at("namespace"), "ns");
  EXPECT_EQ(meta.at("labels").at("tier"), "db");
  EXPECT_EQ(meta.at("labels").at("app"), "web");
  EXPECT_FALSE(claims[0].contains("status"));
  EXPECT_EQ(claims[0]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(claims[1]["metadata"].at("labels").at("app"), "web");
}

TEST(StsLogicTest, RevisionTemplateAndHealth) {
  auto rev = json::parse(R"({"data":{"spec":{"template":{"$patch":"replace","spec":{"a":1}}}}})");
  EXPECT_EQ(json::serialize(revisionTemplate(rev)), R"({"spec":{"a":1}})");
  auto running = json::parse(R"({"metadata":{},"status":{"phase":"Running",
      "conditions":[{"type":"Ready","status":"True"}]}})");
  EXPECT_TRUE(isHealthy(running));
  auto deleting = running;
  deleting.as_object()["metadata"].as_object()["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_TRUE(isRunningAndReady(deleting));
  EXPECT_FALSE(isHealthy(deleting));
  EXPECT_FALSE(isHealthy(json::parse(R"({"status":{"phase":"Pending"}})")));
}

}  // namespace
}  // namespace berth::controllers::statefulset
