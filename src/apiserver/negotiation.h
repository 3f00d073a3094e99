#pragma once
// Response media-type negotiation, as upstream's negotiation.NegotiateOutputMediaType does it:
// the Accept header's clauses in order of their q-values (ties keep the client's order), the
// first one the server can serve wins; `*/*` and `application/*` mean JSON; q=0 excludes.
// Served: application/json, application/yaml, application/vnd.kubernetes.protobuf, and the
// meta.k8s.io transformations upstream's RequestScope.AllowsMediaTypeTransform allows (v=v1 or
// v1beta1): Table (`application/json;as=Table;v=v1;g=meta.k8s.io`, JSON or YAML) and
// PartialObjectMetadata / PartialObjectMetadataList (JSON, YAML or protobuf; client-go's metadata
// client). Clauses with parameters Berth does not serve (other `as=` kinds, unknown parameters)
// are skipped, so a client's plain fallback clause is used. Nothing acceptable is a 406
// NotAcceptable Status. Watches (stream=true) serve JSON and protobuf only, as upstream's stream
// serializers. Whether the object or list form fits the request is the handler's to check
// (upstream negotiates first and answers 406 from the transformation).
//
// Thread-safety: stateless free functions.
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::apiserver {

enum class MediaKind { kJson, kYaml, kProtobuf };

// as=PartialObjectMetadata (one object, or each watch event's object) or
// as=PartialObjectMetadataList (a list), g=meta.k8s.io: objects reduced to their metadata.
enum class PartialMetadata { kNone, kObject, kList };

struct OutputMedia {
  MediaKind kind = MediaKind::kJson;
  bool table = false;  // as=Table;g=meta.k8s.io;v=v1|v1beta1
  PartialMetadata partial = PartialMetadata::kNone;
  std::string metaVersion = "v1";  // v= of a PartialObjectMetadata transformation
  // How Status errors are encoded when a transformation was negotiated: upstream's
  // ErrorNegotiated negotiates without transformations, so the first plain clause (or JSON).
  MediaKind statusKind = MediaKind::kJson;
  std::string contentType() const;
};

core::Result<OutputMedia> negotiateOutput(std::string_view accept, bool stream = false);

// A JSON response body in the negotiated encoding, ending in a newline as Go's encoders write
// it. Protobuf needs a kind the schema knows (apiVersion and kind in the body); a body it cannot
// encode is answered in JSON, whose Content-Type clients decode by (`contentType` says which).
std::string encodeResponse(const OutputMedia& media, std::string json, std::string& contentType);

// Watch events as JSON lines ({"type":...,"object":{...}}\n, several per batch) re-framed as
// upstream's protobuf watch stream: per event a 4-byte big-endian length, then a k8s envelope
// (empty typeMeta, as upstream's serializer writes a WatchEvent) around meta.v1.WatchEvent
// {1 type, 2 object: RawExtension{1 raw: the object's own k8s envelope}}. An event whose
// object the schema cannot encode is dropped (kinds outside the table are never negotiated to
// protobuf in practice: their clients ask for JSON).
std::string protobufWatchFrames(std::string_view jsonLines);

// JSON → YAML as sigs.k8s.io/yaml writes it: block style, map keys sorted, strings quoted
// where a plain scalar would read as something else.
std::string jsonToYaml(const boost::json::value& v);

}  // namespace berth::apiserver
