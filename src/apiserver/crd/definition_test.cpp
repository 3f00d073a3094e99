#include "apiserver/crd/definition.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "core/kinds/strategy.h"
#include "core/resource_behavior.h"

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

json::object crontabCrd() {
  return json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com", "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {
      "group": "stable.example.com", "scope": "Namespaced",
      "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
      "versions": [
        {"name": "v1beta1", "served": true, "storage": false,
         "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
        {"name": "v1", "served": true, "storage": true,
         "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                   "statusReplicasPath": ".status.replicas"}},
         "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}],
         "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
               "cronSpec": {"type": "string"}, "replicas": {"type": "integer", "default": 1}}},
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}}}
      ]
    }
  })")
      .as_object();
}

std::vector<std::string> errorLines(const std::vector<core::StatusCause>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.field + ": " + e.message);
  return out;
}

TEST(CrdDefinition, ValidCrdPasses) { EXPECT_TRUE(validateCrd(crontabCrd(), nullptr).empty()); }

TEST(CrdDefinition, InvalidCrdsGetUpstreamMessages) {
  json::object crd = crontabCrd();
  crd["metadata"].as_object()["name"] = "wrong.stable.example.com";
  auto& spec = crd["spec"].as_object();
  spec["scope"] = "Global";
  spec["names"].as_object()["plural"] = "Cron_Tabs";
  spec["versions"].as_array()[0].as_object()["storage"] = true;
  spec["versions"].as_array()[1].as_object()["additionalPrinterColumns"] =
      json::parse(R"([{"name": "X", "type": "map", "jsonPath": ".a"}])");
  auto lines = errorLines(validateCrd(crd, nullptr));
  auto has = [&](std::string_view prefix) {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return true;
    return false;
  };
  EXPECT_TRUE(
      has("spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", "
          "\"Namespaced\""));
  EXPECT_TRUE(has("spec.names.plural: Invalid value: \"Cron_Tabs\": a DNS-1035 label must"));
  EXPECT_TRUE(
      has("spec.versions: Invalid value: [\"v1beta1\",\"v1\"]: must have exactly one "
          "version marked as storage version"));
  EXPECT_TRUE(has("spec.versions[1].additionalPrinterColumns[0].type: Unsupported value: \"map\""));
  EXPECT_TRUE(has("metadata.name: Invalid value: \"wrong.stable.example.com\""));
  EXPECT_EQ(lines.size(), 5u) << ::testing::PrintToString(lines);

  json::object noSchema = crontabCrd();
  noSchema["spec"].as_object()["versions"].as_array()[1].as_object().erase("schema");
  EXPECT_EQ(errorLines(validateCrd(noSchema, nullptr)),
            std::vector<std::string>{
                "spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required"});

  json::object badName = crontabCrd();
  badName["metadata"].as_object()["name"] = "x.stable.example.com";
  EXPECT_EQ(errorLines(validateCrd(badName, nullptr)),
            std::vector<std::string>{"metadata.name: Invalid value: \"x.stable.example.com\": must "
                                     "be spec.names.plural+\".\"+spec.group"});

  json::object badScale = crontabCrd();
  badScale["spec"].as_object()["versions"].as_array()[1].as_object()["subresources"] =
      json::parse(R"({"scale": {"specReplicasPath": ".status.r"}})");
  EXPECT_EQ(errorLines(validateCrd(badScale, nullptr)),
            (std::vector<std::string>{
                "spec.versions[1].subresources.scale.specReplicasPath: Invalid value: "
                "\".status.r\": should be a json path under .spec",
                "spec.versions[1].subresources.scale.statusReplicasPath: Required value"}));
}

TEST(CrdDefinition, StoredVersionsCannotBeDropped) {
  json::object old = crontabCrd();
  old["status"] = json::parse(R"({"storedVersions": ["v1beta1", "v1"]})");
  json::object next = crontabCrd();
  next["spec"].as_object()["versions"].as_array().erase(
      next["spec"].as_object()["versions"].as_array().begin());
  EXPECT_EQ(errorLines(validateCrd(next, &old)),
            std::vector<std::string>{"status.storedVersions[0]: Invalid value: \"v1beta1\": must "
                                     "appear in spec.versions"});
}

TEST(CrdDefinition, VersionPriority) {
  std::vector<std::string> v = {"v1alpha1", "foo",       "v2",      "v1beta1",
                                "v1",       "v11alpha2", "v1beta2", "bar"};
  std::sort(v.begin(), v.end(),
            [](const std::string& a, const std::string& b) { return versionLess(b, a); });
  EXPECT_EQ(v, (std::vector<std::string>{"v2", "v1", "v1beta2", "v1beta1", "v11alpha2", "v1alpha1",
                                         "bar", "foo"}));
}

TEST(CrdDefinition, ResourcesOfServeEveryVersionWithOneStorage) {
  auto types = resourcesOf(crontabCrd());
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].version, "v1");  // priority order
  EXPECT_EQ(types[1].version, "v1beta1");
  for (const auto& rt : types) {
    EXPECT_EQ(rt.kind, "CronTab");
    EXPECT_EQ(rt.singular, "crontab");
    EXPECT_EQ(rt.shortNames, std::vector<std::string>{"ct"});
    EXPECT_TRUE(rt.namespaced);
    EXPECT_EQ(rt.storagePrefix, "/registry/crontabs.stable.example.com/");
    EXPECT_EQ(rt.storageVersion, "v1");
    ASSERT_TRUE(rt.behavior);
  }
  EXPECT_TRUE(types[0].hasSubresource("status"));
  EXPECT_TRUE(types[0].hasSubresource("scale"));
  EXPECT_FALSE(types[1].hasSubresource("status"));
  ASSERT_TRUE(types[0].behavior->scalePaths());
  EXPECT_EQ(types[0].behavior->scalePaths()->specReplicasPath, ".spec.replicas");
  ASSERT_EQ(types[0].behavior->printerColumns()->size(), 1u);
  EXPECT_EQ(types[1].behavior->printerColumns()->at(0).name, "Age");  // upstream's default
}

TEST(CrdDefinition, SelectableFieldsFeedFieldSelectors) {
  json::object crd = crontabCrd();
  crd["spec"].as_object()["versions"].as_array()[1].as_object()["selectableFields"] =
      json::parse(R"([{"jsonPath": ".spec.cronSpec"}, {"jsonPath": ".spec.replicas"}])");
  EXPECT_TRUE(validateCrd(crd, nullptr).empty());
  auto types = resourcesOf(crd);
  const core::ResourceType& v1 = types[0];
  EXPECT_TRUE(core::kinds::isSelectableField(v1, "spec.cronSpec"));
  EXPECT_TRUE(core::kinds::isSelectableField(v1, "metadata.namespace"));
  EXPECT_FALSE(core::kinds::isSelectableField(v1, "spec.image"));
  EXPECT_FALSE(core::kinds::isSelectableField(types[1], "spec.cronSpec"));  // per version
  auto fields =
      core::kinds::selectableFields(v1, json::parse(R"({"metadata": {"name": "a", "namespace": "n"},
                          "spec": {"cronSpec": "* * * * *", "replicas": 3}})")
                                            .as_object());
  EXPECT_EQ(fields["spec.cronSpec"], "* * * * *");
  EXPECT_EQ(fields["spec.replicas"], "3");
  EXPECT_EQ(fields["metadata.name"], "a");

  crd["spec"].as_object()["versions"].as_array()[1].as_object()["selectableFields"] =
      json::parse(R"([{"jsonPath": "spec.x"}, {"jsonPath": ""}])");
  EXPECT_EQ(errorLines(validateCrd(crd, nullptr)),
            (std::vector<std::string>{
                "spec.versions[1].selectableFields[0].jsonPath: Invalid value: \"spec.x\": must be "
                "a simple JSON path starting with \".\"",
                "spec.versions[1].selectableFields[1].jsonPath: Required value"}));
}

TEST(CrdDefinition, NoneConversionOnlyChangesApiVersion) {
  auto types = resourcesOf(crontabCrd());
  const core::ResourceType& v1 = types[0];
  const core::ResourceType& beta = types[1];
  json::object obj = json::parse(R"({"apiVersion": "stable.example.com/v1beta1", "kind": "CronTab",
      "metadata": {"name": "a"}, "spec": {"cronSpec": "x", "free": 1}})")
                         .as_object();
  core::kinds::convertToStorage(beta, obj);  // beta preserves unknown fields
  EXPECT_EQ(obj["apiVersion"], json::value("stable.example.com/v1"));
  core::kinds::applyDefaults(v1, obj);  // storage schema: prune and default
  EXPECT_EQ(obj["spec"], json::parse(R"({"cronSpec": "x", "replicas": 1})"));
  core::kinds::convertFromStorage(beta, obj);
  EXPECT_EQ(obj["apiVersion"], json::value("stable.example.com/v1beta1"));
  EXPECT_EQ(obj["spec"], json::parse(R"({"cronSpec": "x", "replicas": 1})"));
}

TEST(CrdDefinition, StatusSubresourceSeparatesSpecAndStatus) {
  const core::ResourceType v1 = resourcesOf(crontabCrd())[0];
  json::object created = json::parse(R"({"metadata": {"name": "a"}, "spec": {"replicas": 2},
      "status": {"replicas": 9}})")
                             .as_object();
  core::kinds::prepareForCreate(v1, created);
  EXPECT_FALSE(created.contains("status"));  // dropped on create
  EXPECT_EQ(created["metadata"].as_object()["generation"], json::value(1));

  json::object old =
      json::parse(R"({"metadata": {"name": "a", "generation": 1, "labels": {"a": "b"}},
      "spec": {"replicas": 2}, "status": {"replicas": 1}})")
          .as_object();
  json::object main = json::parse(R"({"metadata": {"name": "a"}, "spec": {"replicas": 3},
      "status": {"replicas": 7}})")
                          .as_object();
  core::kinds::prepareForUpdate(v1, main, old, /*statusUpdate=*/false);
  core::kinds::setGenerationAfterUpdate(v1, main, old, /*statusUpdate=*/false);
  EXPECT_EQ(main["status"], old["status"]);
  EXPECT_EQ(main["metadata"].as_object()["generation"], json::value(2));

  json::object status = json::parse(R"({"metadata": {"name": "a", "labels": {"c": "d"}},
      "spec": {"replicas": 5}, "status": {"replicas": 4}})")
                            .as_object();
  core::kinds::prepareForUpdate(v1, status, old, /*statusUpdate=*/true);
  EXPECT_EQ(status["spec"], old["spec"]);
  EXPECT_EQ(status["status"], json::parse(R"({"replicas": 4})"));
  EXPECT_EQ(status["metadata"].as_object()["labels"], json::parse(R"({"a": "b"})"));
}

TEST(CrdDefinition, CrdStatusIsComputedByTheServer) {
  installCrdKind();
  const auto* rt = core::findResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->shortNames, (std::vector<std::string>{"crd", "crds"}));
  json::object crd = crontabCrd();
  core::kinds::applyDefaults(*rt, crd);
  core::kinds::prepareForCreate(*rt, crd);
  const auto& status = crd["status"].as_object();
  EXPECT_EQ(status.at("storedVersions"), json::parse(R"(["v1"])"));
  EXPECT_EQ(status.at("acceptedNames").at("listKind"), json::value("CronTabList"));
  EXPECT_EQ(status.at("acceptedNames").at("singular"), json::value("crontab"));
  const auto& conds = status.at("conditions").as_array();
  ASSERT_EQ(conds.size(), 2u);
  for (const auto& c : conds) {
    EXPECT_EQ(c.at("status"), json::value("True"));
    EXPECT_EQ(c.at("lastTransitionTime"), json::value("2026-01-01T00:00:00Z"));
  }
  EXPECT_EQ(conds[1].at("type"), json::value("Established"));
  EXPECT_EQ(crd["metadata"].at("finalizers"),
            json::parse(R"(["customresourcecleanup.apiextensions.k8s.io"])"));
  EXPECT_EQ(crd["spec"].at("conversion"), json::parse(R"({"strategy": "None"})"));
}

TEST(CrdDefinition, CatalogueChangesAreVisibleAndSafeUnderConcurrentReaders) {
  auto types = resourcesOf(crontabCrd());
  std::atomic<bool> stop{false};
  std::atomic<int> seen{0};
  std::thread reader([&] {
    while (!stop.load()) {
      if (const auto* rt = core::findResource("stable.example.com", "v1", "crontabs")) {
        seen += rt->kind == "CronTab";  // the entry stays readable after removal
      }
      for (const auto& g : core::apiGroups()) (void)g.versions.size();
    }
  });
  uint64_t before = core::catalogueGeneration();
  for (int i = 0; i < 200; ++i) {
    core::registerResources("crontabs.stable.example.com", types);
    core::unregisterResources("crontabs.stable.example.com");
  }
  stop = true;
  reader.join();
  EXPECT_GT(core::catalogueGeneration(), before);
  EXPECT_EQ(core::findResource("stable.example.com", "v1", "crontabs"), nullptr);
  core::registerResources("crontabs.stable.example.com", types);
  const auto* v1 = core::findResource("stable.example.com", "v1", "crontabs");
  ASSERT_TRUE(v1);
  bool grouped = false;
  for (const auto& g : core::apiGroups()) {
    if (g.group == "stable.example.com") {
      grouped = true;
      EXPECT_EQ(g.versions, (std::vector<std::string>{"v1", "v1beta1"}));  // preferred first
    }
  }
  EXPECT_TRUE(grouped);
  // A CRD cannot take over a built-in resource.
  core::ResourceType fake = types[0];
  fake.group = "apps";
  fake.plural = "deployments";
  core::registerResources("deployments.apps", {fake});
  EXPECT_FALSE(core::findResource("apps", "v1", "deployments")->behavior);
  core::unregisterResources("deployments.apps");
  core::unregisterResources("crontabs.stable.example.com");
  // A request that resolved the resource before it went away still finds its storage entry.
  const core::ResourceType* stored = core::storageResource(*v1);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->storagePrefix, "/registry/crontabs.stable.example.com/");
  EXPECT_EQ(stored->version, "v1");
}

}  // namespace
}  // namespace berth::apiserver::crd
