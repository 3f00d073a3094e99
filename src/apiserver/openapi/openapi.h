#pragma once
// OpenAPI documents generated from the type schema (protobuf/schema.h) and the resource
// catalogue (core/resources.h), enough for `kubectl explain`, kubectl's client-side validation
// and its check that the server validates fields itself:
//  - GET /openapi/v3 → {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=H"},
//    "apis/apps/v1":{...}, ...}}
//  - GET /openapi/v3/<path> → an OpenAPI 3.0 document: components.schemas keyed by definition
//    name ("io.k8s.api.core.v1.Pod") with properties/types/$ref, and
//    x-kubernetes-group-version-kind on top-level kinds; paths for each resource whose operations
//    carry x-kubernetes-group-version-kind, with the PATCH operation listing a `fieldValidation`
//    query parameter (that is what makes kubectl leave validation to the server).
//  - GET /openapi/v2 → Swagger 2.0 with the same definitions, as JSON or in gnostic's protobuf
//    form (gnostic.h), which kubectl 1.20–1.28 ask for.
// Documents (and the protobuf form) are generated and gzip-compressed once per state of the
// resource catalogue (CRDs add and remove kinds), and cached; each has a content hash, stable for
// a given catalogue, that serve.h uses as its ETag.
//
// Thread-safety: functions are safe to call concurrently (internal one-time init).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver::openapi {

std::string v3Index();
// `path` like "api/v1" or "apis/apps/v1" (a leading "/" and a "?query" are ignored); nullopt
// when unknown.
std::optional<std::string> v3Document(std::string_view path);
std::string v2Document();  // JSON
std::string v2Protobuf();  // gnostic openapi.v2.Document

// A document as served: its bytes, the same gzip-compressed (empty if compression failed) and
// its content hash (the ETag; for v3 group versions also the index's ?hash=). The views stay
// valid while `owner` (the documents they were cut from) is held.
struct Served {
  std::string_view body;
  std::string_view gzipped;
  std::string_view hash;
  std::shared_ptr<const void> owner;
};
Served servedV3Index();
std::optional<Served> servedV3(std::string_view path);
// Both v2 forms carry the JSON's hash, as upstream's ETag does; responses vary on Accept.
Served servedV2(bool protobuf);

}  // namespace berth::apiserver::openapi
