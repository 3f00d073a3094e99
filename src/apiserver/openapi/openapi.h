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
//  - GET /openapi/v2 → Swagger 2.0 JSON with the same definitions (kubectl falls back to it);
//    protobuf (gnostic) form is not served.
// Documents are generated once and cached until the resource catalogue changes (CRDs); the hash
// is stable for a given catalogue.
//
// Thread-safety: functions are safe to call concurrently (internal one-time init).
#include <optional>
#include <string>
#include <string_view>

namespace berth::apiserver::openapi {

std::string v3Index();
// `path` like "api/v1" or "apis/apps/v1"; nullopt when unknown.
std::optional<std::string> v3Document(std::string_view path);
std::string v2Document();

}  // namespace berth::apiserver::openapi
