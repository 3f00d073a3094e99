#include "apiserver/openapi/openapi.h"

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdio>
#include <map>

#include "apiserver/openapi/builder.h"
#include "apiserver/openapi/gnostic.h"
#include "apiserver/openapi/gzip.h"
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
  Served served() const { return {text, gzipped, hash}; }
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

json::object schemasOf(const std::vector<const core::ResourceType*>& resources, Dialect dialect) {
  json::object schemas;
  for (const std::string& m : internal::reachableMessages(schemaRoots(resources))) {
    schemas[internal::definitionName(m)] = internal::messageSchema(m, dialect);
  }
  return schemas;
}

json::object info() { return {{"title", kTitle}, {"version", kVersion}}; }

Documents build() {
  std::map<std::string, std::vector<const core::ResourceType*>> byGroupVersion;
  std::vector<const core::ResourceType*> all;
  for (const core::ResourceType& rt : core::allResources()) {
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

// Built on first use; C++ guarantees the initialisation runs once, even under concurrency.
const Documents& documents() {
  static const Documents docs = build();
  return docs;
}

}  // namespace

const std::string& v3Index() { return documents().v3Index.text; }
Served servedV3Index() { return documents().v3Index.served(); }

namespace {
const Hashed* findV3(std::string_view path) {
  // Tolerate a leading slash and a query string ("?hash=...").
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  const auto& docs = documents().v3;
  auto it = docs.find(path);
  return it == docs.end() ? nullptr : &it->second;
}
}  // namespace

std::optional<std::string_view> v3Document(std::string_view path) {
  const Hashed* doc = findV3(path);
  if (doc == nullptr) return std::nullopt;
  return doc->text;
}

std::optional<Served> servedV3(std::string_view path) {
  const Hashed* doc = findV3(path);
  if (doc == nullptr) return std::nullopt;
  return doc->served();
}

const std::string& v2Document() { return documents().v2.text; }
const std::string& v2Protobuf() { return documents().v2Protobuf; }

Served servedV2(bool protobuf) {
  const Documents& docs = documents();
  if (!protobuf) return docs.v2.served();
  return {docs.v2Protobuf, docs.v2ProtobufGzipped, docs.v2.hash};
}

}  // namespace berth::apiserver::openapi
