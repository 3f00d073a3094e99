#pragma once
// Kubernetes protobuf transcoding: request bodies with
// Content-Type application/vnd.kubernetes.protobuf are decoded into exactly the JSON object the
// JSON path would have received, driven by the field table in schema.h (one transcoder for all
// kinds, no per-kind code).
//
// Envelope: 4 magic bytes "k8s\0", then a runtime.Unknown message:
//   1: typeMeta (runtime.TypeMeta: 1 apiVersion, 2 kind), 2: raw (bytes: the object's message),
//   3: contentEncoding, 4: contentType.
//
// JSON shaping rules (so the result equals what kubectl would have sent as JSON):
//  - Time/MicroTime {1 seconds, 2 nanos} → RFC 3339 string ("2024-01-02T03:04:05Z"; MicroTime
//    with 6 fractional digits); Duration {1 duration ns} → Go duration string ("1m30s").
//  - Quantity {1 string} → string; IntOrString {1 type, 2 intVal, 3 strVal} → int or string.
//  - RawExtension / FieldsV1 {1 raw} → the embedded JSON value.
//  - bytes → base64; map entries (key 1, value 2) → JSON object.
//  - Go omits zero-valued `omitempty` fields from JSON but gogo-protobuf writes non-pointer
//    fields always; the codec drops empty strings, false, zero numbers, empty lists/maps and
//    empty non-pointer messages, except fields marked keepZero in the table (schema.h): Go
//    pointers (replicas, suspend, maxUnavailable, emptyDir: {}) and scalars without omitempty
//    (ServicePort.port, EnvVar.name), which the generator reads from the upstream Go types.
//  - Structs embedded with json:",inline" (Volume.volumeSource, Probe.handler, ...) are nested
//    messages on the wire and flattened into the parent in JSON.
//  - A RawExtension whose raw bytes are themselves a k8s envelope decodes to that object.
//  - The encoder writes only the fields present in the JSON, in field-number order, map entries
//    sorted by key; unknown JSON fields are dropped.
//
// Bad input (truncated varints, lengths past the end, wrong wire types, unknown kinds,
// nesting deeper than 64) is a BadRequest Status; the decoder never reads out of bounds.
//
// Thread-safety: stateless free functions.
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::apiserver::protobuf {

inline constexpr std::string_view kMediaType = "application/vnd.kubernetes.protobuf";
inline constexpr std::string_view kMagic{"k8s\0", 4};

// Decodes an enveloped body into a JSON object with apiVersion and kind from the envelope.
core::Result<boost::json::object> decodeEnvelope(std::string_view body);
// Decodes a bare message of a known type.
core::Result<boost::json::object> decodeMessage(std::string_view messageName,
                                                std::string_view bytes);

// Encodes a JSON object (apiVersion and kind set) into an enveloped body. Fields unknown to the
// schema are dropped. Used for protobuf responses and by tests.
core::Result<std::string> encodeEnvelope(const boost::json::object& obj);
core::Result<std::string> encodeMessage(std::string_view messageName,
                                        const boost::json::object& obj);

}  // namespace berth::apiserver::protobuf
