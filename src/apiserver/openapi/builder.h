#pragma once
// Internal: builds the OpenAPI documents that openapi.h serves, from the type schema
// (protobuf/schema.h) and the resource catalogue (core/resources.h). Split in two:
// schemas.cpp turns messages into JSON schemas, paths.cpp turns resources into REST paths.
// Both are parameterised by the dialect, OpenAPI 3.0 (components/schemas, requestBody) or
// Swagger 2.0 (definitions, body parameters), so the v2 and v3 documents stay the same API.
//
// Thread-safety: stateless free functions over immutable tables.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/resources.h"

namespace berth::apiserver::openapi::internal {

enum class Dialect { kV3, kV2 };

struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;
  boost::json::object toJson() const;
};

// "k8s.io.api.core.v1.Pod" → "io.k8s.api.core.v1.Pod".
std::string definitionName(std::string_view protoName);
// "#/components/schemas/<def>" (v3) or "#/definitions/<def>" (v2).
std::string refTo(std::string_view protoName, Dialect dialect);
boost::json::object refSchema(std::string_view protoName, Dialect dialect);

// Proto message names of the schema reachable from `roots` (roots included, special types
// included, inlined-only messages excluded).
std::set<std::string> reachableMessages(const std::vector<std::string>& roots);
// The JSON schema of one message (or special type) under its definition name.
boost::json::object messageSchema(std::string_view protoName, Dialect dialect);
// The proto message of a served resource's kind ("" when the schema lacks it).
std::string kindMessage(std::string_view apiVersion, std::string_view kind);

// Messages every group-version document carries: DeleteOptions, Status, WatchEvent, Patch, ...
std::vector<std::string> commonMessages();
constexpr std::string_view kScaleMessage = "k8s.io.api.autoscaling.v1.Scale";

// Adds the paths of one resource (collection, item, all-namespaces list, status and scale
// subresources) to `paths`.
void addResourcePaths(const core::ResourceType& rt, Dialect dialect, boost::json::object& paths);

}  // namespace berth::apiserver::openapi::internal
