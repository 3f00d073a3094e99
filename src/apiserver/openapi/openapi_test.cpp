#include "apiserver/openapi/openapi.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <functional>

#include "core/resources.h"

namespace berth::apiserver::openapi {
namespace {
namespace json = boost::json;

json::object parseDoc(std::string_view path) {
  auto text = v3Document(path);
  EXPECT_TRUE(text.has_value()) << path;
  return text ? json::parse(*text).as_object() : json::object{};
}

const json::object& schemaOf(const json::object& doc, std::string_view def) {
  static const json::object kEmpty;
  const json::value* v =
      doc.at("components").as_object().at("schemas").as_object().if_contains(def);
  EXPECT_NE(v, nullptr) << def;
  return v ? v->as_object() : kEmpty;
}

// Every "$ref" anywhere in `v`.
void collectRefs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) out.emplace_back(kv.value().as_string());
      collectRefs(kv.value(), out);
    }
  } else if (v.is_array()) {
    for (const auto& e : v.as_array()) collectRefs(e, out);
  }
}

bool hasQueryParam(const json::object& op, std::string_view name) {
  const json::value* params = op.if_contains("parameters");
  if (params == nullptr) return false;
  for (const auto& p : params->as_array()) {
    if (p.at("name").as_string() == name && p.at("in").as_string() == "query") return true;
  }
  return false;
}

json::object gvk(std::string_view group, std::string_view version, std::string_view kind) {
  return {{"group", group}, {"kind", kind}, {"version", version}};
}

TEST(OpenApiV3, IndexListsGroupVersionsWithHashedUrls) {
  json::object index = json::parse(v3Index()).as_object();
  const json::object& paths = index.at("paths").as_object();
  for (std::string_view key : {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/autoscaling/v2",
                               "apis/autoscaling/v1", "apis/rbac.authorization.k8s.io/v1"}) {
    ASSERT_TRUE(paths.contains(key)) << key;
    std::string url(paths.at(key).at("serverRelativeURL").as_string());
    EXPECT_EQ(url.rfind("/openapi/v3/" + std::string(key) + "?hash=", 0), 0u) << url;
    // The URL the index names is servable as given.
    EXPECT_TRUE(v3Document(url.substr(std::string("/openapi/v3/").size())).has_value());
  }
  // One entry per served group version, nothing else.
  std::set<std::string> expected;
  for (const auto& rt : core::allResources()) {
    if (rt.virtualResource) continue;  // self-reviews publish no schema
    expected.insert(rt.group.empty() ? "api/" + rt.version : "apis/" + rt.group + "/" + rt.version);
  }
  EXPECT_EQ(paths.size(), expected.size());
  EXPECT_EQ(v3Index(), v3Index());  // stable while the catalogue is
  EXPECT_FALSE(v3Document("apis/nope/v1").has_value());
  EXPECT_FALSE(v3Document("").has_value());
}

TEST(OpenApiV3, PodSchemaHasTypedFieldsAndGvk) {
  json::object doc = parseDoc("api/v1");
  EXPECT_EQ(doc.at("openapi").as_string(), "3.0.0");
  const json::object& pod = schemaOf(doc, "io.k8s.api.core.v1.Pod");
  const json::object& props = pod.at("properties").as_object();
  EXPECT_EQ(props.at("apiVersion").at("type").as_string(), "string");
  EXPECT_EQ(props.at("kind").at("type").as_string(), "string");
  EXPECT_EQ(props.at("metadata").at("$ref").as_string(),
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(props.at("spec").at("$ref").as_string(),
            "#/components/schemas/io.k8s.api.core.v1.PodSpec");
  EXPECT_EQ(pod.at("x-kubernetes-group-version-kind"), json::array{gvk("", "v1", "Pod")});

  const json::object& spec = schemaOf(doc, "io.k8s.api.core.v1.PodSpec");
  EXPECT_TRUE(spec.contains("type"));
  EXPECT_FALSE(spec.contains("x-kubernetes-group-version-kind"));
  const json::object& containers = spec.at("properties").at("containers").as_object();
  EXPECT_EQ(containers.at("type").as_string(), "array");
  EXPECT_EQ(containers.at("items").at("$ref").as_string(),
            "#/components/schemas/io.k8s.api.core.v1.Container");
  const json::object& nodeSelector = spec.at("properties").at("nodeSelector").as_object();
  EXPECT_EQ(nodeSelector.at("type").as_string(), "object");
  EXPECT_EQ(nodeSelector.at("additionalProperties").at("type").as_string(), "string");
  EXPECT_EQ(spec.at("properties").at("hostNetwork").at("type").as_string(), "boolean");
  EXPECT_EQ(spec.at("properties").at("terminationGracePeriodSeconds").at("format").as_string(),
            "int64");

  const json::object& container = schemaOf(doc, "io.k8s.api.core.v1.Container");
  EXPECT_EQ(container.at("properties").at("image").at("type").as_string(), "string");
  const json::object& resources = schemaOf(doc, "io.k8s.api.core.v1.ResourceRequirements");
  EXPECT_EQ(
      resources.at("properties").at("limits").at("additionalProperties").at("$ref").as_string(),
      "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity");
}

TEST(OpenApiV3, SpecialTypesAndInlinedStructs) {
  json::object doc = parseDoc("api/v1");
  const json::object& time = schemaOf(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
  EXPECT_EQ(time.at("type").as_string(), "string");
  EXPECT_EQ(time.at("format").as_string(), "date-time");
  const json::object& ios = schemaOf(doc, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
  EXPECT_EQ(ios.at("format").as_string(), "int-or-string");
  EXPECT_EQ(ios.at("oneOf").as_array().size(), 2u);
  const json::object& qty = schemaOf(doc, "io.k8s.apimachinery.pkg.api.resource.Quantity");
  EXPECT_FALSE(qty.contains("properties"));
  EXPECT_TRUE(qty.contains("oneOf"));
  // Volume embeds VolumeSource and Probe embeds ProbeHandler with json:",inline".
  const json::object& volume = schemaOf(doc, "io.k8s.api.core.v1.Volume");
  EXPECT_TRUE(volume.at("properties").as_object().contains("emptyDir"));
  EXPECT_TRUE(volume.at("properties").as_object().contains("name"));
  EXPECT_FALSE(volume.at("properties").as_object().contains("volumeSource"));
  const json::object& probe = schemaOf(doc, "io.k8s.api.core.v1.Probe");
  EXPECT_TRUE(probe.at("properties").as_object().contains("httpGet"));
  EXPECT_FALSE(probe.at("properties").as_object().contains("handler"));
  // Bytes are base64 strings (Secret.data values).
  const json::object& secret = schemaOf(doc, "io.k8s.api.core.v1.Secret");
  EXPECT_EQ(secret.at("properties").at("data").at("additionalProperties").at("format").as_string(),
            "byte");
}

TEST(OpenApiV3, EveryRefResolvesInEveryDocument) {
  json::object index = json::parse(v3Index()).as_object();
  for (const auto& kv : index.at("paths").as_object()) {
    json::object doc = parseDoc(kv.key());
    const json::object& schemas = doc.at("components").at("schemas").as_object();
    std::vector<std::string> refs;
    collectRefs(doc, refs);
    EXPECT_FALSE(refs.empty());
    for (const auto& ref : refs) {
      constexpr std::string_view kPrefix = "#/components/schemas/";
      ASSERT_EQ(ref.rfind(kPrefix, 0), 0u) << ref;
      EXPECT_TRUE(schemas.contains(ref.substr(kPrefix.size()))) << kv.key() << ": " << ref;
    }
  }
}

TEST(OpenApiV3, PathsCarryActionsGvkAndFieldValidation) {
  json::object doc = parseDoc("api/v1");
  const json::object& paths = doc.at("paths").as_object();
  const json::object& podItem = paths.at("/api/v1/namespaces/{namespace}/pods/{name}").as_object();
  const json::object& patch = podItem.at("patch").as_object();
  EXPECT_EQ(patch.at("x-kubernetes-action").as_string(), "patch");
  EXPECT_EQ(patch.at("x-kubernetes-group-version-kind"), gvk("", "v1", "Pod"));
  EXPECT_TRUE(hasQueryParam(patch, "fieldValidation"));
  EXPECT_TRUE(patch.at("requestBody")
                  .at("content")
                  .as_object()
                  .contains("application/strategic-merge-patch+json"));
  EXPECT_EQ(podItem.at("get").at("x-kubernetes-action").as_string(), "get");
  EXPECT_EQ(podItem.at("put").at("x-kubernetes-action").as_string(), "put");
  EXPECT_EQ(podItem.at("delete").at("x-kubernetes-action").as_string(), "delete");

  const json::object& pods = paths.at("/api/v1/namespaces/{namespace}/pods").as_object();
  EXPECT_EQ(pods.at("get").at("x-kubernetes-action").as_string(), "list");
  EXPECT_EQ(pods.at("post").at("x-kubernetes-action").as_string(), "post");
  EXPECT_EQ(pods.at("delete").at("x-kubernetes-action").as_string(), "deletecollection");
  EXPECT_TRUE(hasQueryParam(pods.at("post").as_object(), "fieldValidation"));
  EXPECT_EQ(pods.at("get")
                .at("responses")
                .at("200")
                .at("content")
                .at("application/json")
                .at("schema")
                .at("$ref")
                .as_string(),
            "#/components/schemas/io.k8s.api.core.v1.PodList");
  EXPECT_TRUE(paths.contains("/api/v1/pods"));
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{namespace}/pods/{name}/status"));
  // Cluster-scoped resources have no namespace segment.
  EXPECT_TRUE(paths.contains("/api/v1/nodes/{name}"));
  EXPECT_FALSE(paths.contains("/api/v1/namespaces/{namespace}/nodes"));
  EXPECT_EQ(paths.at("/api/v1/nodes/{name}").at("patch").at("x-kubernetes-group-version-kind"),
            gvk("", "v1", "Node"));
}

TEST(OpenApiV3, EveryPatchOperationListsFieldValidation) {
  // kubectl's verifier looks at the first PATCH it finds for a kind, in map order.
  json::object index = json::parse(v3Index()).as_object();
  int patches = 0;
  for (const auto& kv : index.at("paths").as_object()) {
    json::object doc = parseDoc(kv.key());
    for (const auto& p : doc.at("paths").as_object()) {
      const json::value* patch = p.value().as_object().if_contains("patch");
      if (patch == nullptr) continue;
      ++patches;
      EXPECT_TRUE(hasQueryParam(patch->as_object(), "fieldValidation")) << p.key();
      EXPECT_TRUE(patch->as_object().contains("x-kubernetes-group-version-kind")) << p.key();
    }
  }
  EXPECT_GT(patches, 30);
}

TEST(OpenApiV3, AppsDocumentHasDeploymentsAndScale) {
  json::object doc = parseDoc("apis/apps/v1");
  const json::object& dep = schemaOf(doc, "io.k8s.api.apps.v1.Deployment");
  EXPECT_EQ(dep.at("x-kubernetes-group-version-kind"),
            json::array{gvk("apps", "v1", "Deployment")});
  const json::object& depSpec = schemaOf(doc, "io.k8s.api.apps.v1.DeploymentSpec");
  EXPECT_EQ(depSpec.at("properties").at("template").at("$ref").as_string(),
            "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec");
  const json::object& paths = doc.at("paths").as_object();
  const json::object& scale =
      paths.at("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").as_object();
  EXPECT_EQ(scale.at("patch").at("x-kubernetes-group-version-kind"),
            gvk("autoscaling", "v1", "Scale"));
  schemaOf(doc, "io.k8s.api.autoscaling.v1.Scale");
  // Core-only kinds stay out of the apps document.
  EXPECT_FALSE(
      doc.at("components").at("schemas").as_object().contains("io.k8s.api.core.v1.Service"));
  // Every served resource of the group version has its item path.
  for (const auto& rt : core::allResources()) {
    if (rt.group != "apps" || rt.version != "v1") continue;
    EXPECT_TRUE(paths.contains("/apis/apps/v1/namespaces/{namespace}/" + rt.plural + "/{name}"))
        << rt.plural;
  }
}

TEST(OpenApiV2, SwaggerDocumentWithDefinitions) {
  json::object doc = json::parse(v2Document()).as_object();
  EXPECT_EQ(doc.at("swagger").as_string(), "2.0");
  const json::object& defs = doc.at("definitions").as_object();
  const json::object& pod = defs.at("io.k8s.api.core.v1.Pod").as_object();
  EXPECT_EQ(pod.at("properties").at("spec").at("$ref").as_string(),
            "#/definitions/io.k8s.api.core.v1.PodSpec");
  EXPECT_EQ(pod.at("x-kubernetes-group-version-kind"), json::array{gvk("", "v1", "Pod")});
  EXPECT_EQ(defs.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString").at("format").as_string(),
            "int-or-string");
  EXPECT_EQ(defs.at("io.k8s.apimachinery.pkg.api.resource.Quantity").at("type").as_string(),
            "string");
  std::vector<std::string> refs;
  collectRefs(doc, refs);
  for (const auto& ref : refs) {
    constexpr std::string_view kPrefix = "#/definitions/";
    ASSERT_EQ(ref.rfind(kPrefix, 0), 0u) << ref;
    EXPECT_TRUE(defs.contains(ref.substr(kPrefix.size()))) << ref;
  }
  const json::object& paths = doc.at("paths").as_object();
  const json::object& patch =
      paths.at("/apis/apps/v1/namespaces/{namespace}/deployments/{name}").at("patch").as_object();
  EXPECT_TRUE(hasQueryParam(patch, "fieldValidation"));
  EXPECT_EQ(patch.at("x-kubernetes-group-version-kind"), gvk("apps", "v1", "Deployment"));
  bool hasBody = false;
  for (const auto& p : patch.at("parameters").as_array()) {
    if (p.at("in").as_string() == "body") hasBody = true;
  }
  EXPECT_TRUE(hasBody);
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{namespace}/pods"));
  EXPECT_TRUE(paths.contains("/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"));
}

}  // namespace
}  // namespace berth::apiserver::openapi
