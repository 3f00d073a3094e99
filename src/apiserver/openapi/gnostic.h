#pragma once
// Encodes a Swagger 2.0 document (JSON) as the gnostic OpenAPI v2 `Document` protobuf message
// (github.com/google/gnostic, openapiv2/OpenAPIv2.proto, package openapi.v2). kubectl 1.20 to
// 1.28 fetch /openapi/v2 as `application/com.github.proto-openapi.spec.v2[@.]v1.0+protobuf` and
// parse the body as that message with no JSON fallback; upstream produces it with gnostic's
// compiler (JSON → Document → proto.Marshal), and this is the same mapping:
//  - every Swagger object is its gnostic message, fields in field-number order, proto3 zero
//    values omitted;
//  - JSON maps (paths, definitions, properties, responses, ...) become repeated Named* pairs in
//    document order;
//  - "x-*" keys become repeated NamedAny vendor extensions, and every free-form value (vendor
//    extensions, default, enum, example) an `Any` whose `yaml` holds the value's text. JSON text
//    is YAML, and kubectl reads these with a YAML decoder (x-kubernetes-group-version-kind,
//    x-kubernetes-patch-merge-key, ...).
//  - the one-of wrappers are chosen as gnostic does: "$ref" → JsonReference, `in: body` →
//    BodyParameter, `in: query|path|header|formData` → the matching sub-schema, `type: file`
//    response schema → FileSchema, a boolean additionalProperties → its boolean arm.
//
// Thread-safety: a pure function.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace berth::apiserver::openapi {

// The serialized Document. Keys the mapping does not know (neither a Swagger 2.0 field nor
// "x-*") are skipped and, when `skipped` is given, reported as "<Message>.<key>".
std::string encodeGnosticV2(const boost::json::object& swagger,
                            std::vector<std::string>* skipped = nullptr);

}  // namespace berth::apiserver::openapi
