#include "apiserver/openapi/openapi.h"

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "apiserver/openapi/builder.h"
#include "apiserver/openapi/gnostic.h"
#include "apiserver/openapi/gzip.h"
#include "core/resource_behavior.h"
#include "core/resources.h"

namespace berth::apiserver::openapi {
namespace {
namespace json = boost::json;
using internal::Dialect;

constexpr std::string_view kTitle = "Kubernetes";
constexpr std::string_view kVersion = "v1.32.0";

// "api/v1", "apis/apps/v1": the key of a group version in the v3 index.
std::string pathKey(const core::ResourceType& rt) {
  return rt.group.empty() ? "api/" + rt.version : "apis/" + rt.group + "/" + rt.version;
}

// Two 64-bit FNV-1a hashes as 32 upper-case hex digits; stable for a given document, which is
// all clients need of the index's hash (a cache key).
std::string contentHash(std::string_view data) {
  auto fnv = [&](std::uint64_t seed) {
    std::uint64_t h = seed;
    for (unsigned char c : data) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    return h;
  };
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llX%016llX",
                static_cast<unsigned long long>(fnv(0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(fnv(0x84222325cbf29ce4ULL)));
  return buf;
}

struct Hashed {
  std::string text;
  std::string gzipped;
  std::string hash;  // contentHash(text)
  Hashed() = default;
  explicit Hashed(std::string t)
      : text(std::move(t)), gzipped(gzip(text)), hash(contentHash(text)) {}
  Served served(std::shared_ptr<const void> owner) const {
    return {text, gzipped, hash, std::move(owner)};
  }
};

struct Documents {
  std::map<std::string, Hashed, std::less<>> v3;  // "api/v1" → document
  Hashed v3Index;
  Hashed v2;
  std::string v2Protobuf;  // gnostic form of v2, encoded once
  std::string v2ProtobufGzipped;
};

// Roots of a document's schemas: the kinds and lists of its resources plus shared meta types.
std::vector<std::string> schemaRoots(const std::vector<const core::ResourceType*>& resources) {
  std::vector<std::string> roots = internal::commonMessages();
  for (const core::ResourceType* rt : resources) {
    for (const std::string& kind : {rt->kind, rt->listKind()}) {
      std::string m = internal::kindMessage(rt->apiVersion(), kind);
      if (!m.empty()) roots.push_back(std::move(m));
    }
    if (rt->hasSubresource("scale")) roots.emplace_back(internal::kScaleMessage);
  }
  return roots;
}

// Runtime-defined kinds (CRDs) bring their own schema; named as upstream names CRD schemas,
// the group reversed: "com.example.stable.v1.CronTab".
std::string customDefinitionName(const core::ResourceType& rt) {
  std::string name;
  std::string_view group = rt.group;
  while (!group.empty()) {
    auto dot = group.rfind('.');
    std::string_view part = dot == std::string_view::npos ? group : group.substr(dot + 1);
    name += std::string(part) + ".";
    group = dot == std::string_view::npos ? std::string_view() : group.substr(0, dot);
  }
  return name + rt.version + "." + rt.kind;
}

constexpr std::string_view kObjectMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

void addCustomSchema(const core::ResourceType& rt, Dialect dialect, json::object& schemas) {
  const json::object* own = rt.behavior ? rt.behavior->openapiSchema() : nullptr;
  if (own == nullptr) return;
  json::object s = *own;
  json::value& props = s["properties"];
  if (!props.is_object()) props = json::object();
  props.get_object()["metadata"] = internal::refSchema(kObjectMeta, dialect);
  s["x-kubernetes-group-version-kind"] =
      json::array{internal::GroupVersionKind{rt.group, rt.version, rt.kind}.toJson()};
  schemas[customDefinitionName(rt)] = std::move(s);
}

json::object schemasOf(const std::vector<const core::ResourceType*>& resources, Dialect dialect) {
  json::object schemas;
  std::vector<std::string> roots = schemaRoots(resources);
  for (const core::ResourceType* rt : resources) {
    if (rt->behavior) roots.emplace_back(kObjectMeta);
  }
  for (const std::string& m : internal::reachableMessages(roots)) {
    schemas[internal::definitionName(m)] = internal::messageSchema(m, dialect);
  }
  for (const core::ResourceType* rt : resources) addCustomSchema(*rt, dialect, schemas);
  return schemas;
}

json::object info() { return {{"title", kTitle}, {"version", kVersion}}; }

Documents build(const core::ResourceSnapshot& snapshot) {
  std::map<std::string, std::vector<const core::ResourceType*>> byGroupVersion;
  std::vector<const core::ResourceType*> all;
  for (const core::ResourceType& rt : snapshot) {
    if (rt.virtualResource) continue;  // create-only reviews: no stored schema to publish
    byGroupVersion[pathKey(rt)].push_back(&rt);
    all.push_back(&rt);
  }

  Documents docs;
  json::object index;
  for (const auto& [key, resources] : byGroupVersion) {
    json::object paths;
    for (const core::ResourceType* rt : resources) {
      internal::addResourcePaths(*rt, Dialect::kV3, paths);
    }
    json::object doc{
        {"openapi", "3.0.0"},
        {"info", info()},
        {"paths", std::move(paths)},
        {"components",
         {{"schemas", schemasOf(resources, Dialect::kV3)},
          {"securitySchemes",
           {{"BearerToken",
             {{"type", "apiKey"},
              {"name", "authorization"},
              {"in", "header"},
              {"description", "Bearer Token authentication"}}}}}}},
    };
    Hashed hashed(json::serialize(doc));
    index[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hashed.hash}};
    docs.v3.emplace(key, std::move(hashed));
  }
  docs.v3Index = Hashed(json::serialize(json::object{{"paths", std::move(index)}}));

  json::object paths;
  for (const core::ResourceType* rt : all) internal::addResourcePaths(*rt, Dialect::kV2, paths);
  json::object v2{
      {"swagger", "2.0"},
      {"info", info()},
      {"paths", std::move(paths)},
      {"definitions", schemasOf(all, Dialect::kV2)},
      {"securityDefinitions",
       {{"BearerToken",
         {{"type", "apiKey"},
          {"name", "authorization"},
          {"in", "header"},
          {"description", "Bearer Token authentication"}}}}},
      {"security", json::array{json::object{{"BearerToken", json::array{}}}}},
  };
  docs.v2 = Hashed(json::serialize(v2));
  docs.v2Protobuf = encodeGnosticV2(v2);
  docs.v2ProtobufGzipped = gzip(docs.v2Protobuf);
  return docs;
}

// Built on first use and again after the catalogue changed (CRDs); readers share one build and
// hold it (Served::owner) while they use it.
std::shared_ptr<const Documents> documents() {
  static std::mutex mu;
  static std::shared_ptr<const Documents> docs;
  static uint64_t generation = 0;
  std::lock_guard lock(mu);
  uint64_t now = core::catalogueGeneration();
  if (!docs || generation != now) {
    docs = std::make_shared<const Documents>(build(core::allResources()));
    generation = now;
  }
  return docs;
}

const Hashed* findV3(const Documents& docs, std::string_view path) {
  // Tolerate a leading slash and a query string ("?hash=...").
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  auto it = docs.v3.find(path);
  return it == docs.v3.end() ? nullptr : &it->second;
}

}  // namespace

std::string v3Index() { return documents()->v3Index.text; }
Served servedV3Index() {
  auto docs = documents();
  return docs->v3Index.served(docs);
}

std::optional<std::string> v3Document(std::string_view path) {
  auto docs = documents();
  const Hashed* doc = findV3(*docs, path);
  if (doc == nullptr) return std::nullopt;
  return doc->text;
}

std::optional<Served> servedV3(std::string_view path) {
  auto docs = documents();
  const Hashed* doc = findV3(*docs, path);
  if (doc == nullptr) return std::nullopt;
  return doc->served(docs);
}

std::string v2Document() { return documents()->v2.text; }
std::string v2Protobuf() { return documents()->v2Protobuf; }

Served servedV2(bool protobuf) {
  auto docs = documents();
  if (!protobuf) return docs->v2.served(docs);
  return {docs->v2Protobuf, docs->v2ProtobufGzipped, docs->v2.hash, docs};
}

}  // namespace berth::apiserver::openapi
