#pragma once
// The schema of the built-in API types: for every protobuf message of k8s.io/api and
// k8s.io/apimachinery that Berth serves, its fields with their protobuf numbers (facts from the
// upstream generated.proto files), JSON names and types. One table, three users: the protobuf
// transcoder (codec.h), OpenAPI generation (openapi/), and strict field validation
// (fieldValidation=Strict → unknown fields).
//
// Message names are fully qualified proto names: "k8s.io.api.core.v1.Pod",
// "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta".
//
// Thread-safety: the table is immutable static data.
#include <boost/json/fwd.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace berth::apiserver::protobuf {

enum class FieldType {
  kString,
  kBytes,  // JSON: base64 string
  kBool,
  kInt32,
  kInt64,  // JSON: number
  kDouble,
  kMessage,  // messageType names it
  kMap,      // map<string, mapValue>; mapValueType / messageType describe the value
};

struct FieldSchema {
  int number;
  std::string_view jsonName;
  FieldType type;
  bool repeated = false;
  std::string_view messageType;  // for kMessage, or kMap with a message value
  FieldType mapValueType = FieldType::kString;
  // Go embeds the struct with `json:",inline"`: in JSON its fields sit directly in the parent
  // object (Volume.volumeSource, Probe.handler, ...); jsonName is then the proto name only.
  bool inlined = false;
  // A zero value is meaningful and kept in JSON: the Go field is a pointer (replicas, suspend,
  // emptyDir: {}) or a scalar without `omitempty` (ServicePort.port, EnvVar.name).
  bool keepZero = false;
  // Go's encoding/json writes this field even when it holds its zero value: a non-pointer field
  // without `omitempty`, or a non-pointer struct (omitempty never omits a struct; a zero
  // metav1.Time then reads null). See zero_values.h.
  bool emitZero = false;
};

struct MessageSchema {
  std::string_view name;
  std::span<const FieldSchema> fields;  // sorted by number
  bool isKind = false;  // a registered top-level type (implements runtime.Object upstream)
  const FieldSchema* byNumber(int number) const;
  // Direct fields only; a JSON key of an inlined struct is not found here (see codec).
  const FieldSchema* byJsonName(std::string_view jsonName) const;
};

// Messages with a special JSON form, handled by the codec and OpenAPI rather than as objects:
//   meta.v1.Time / MicroTime (RFC 3339 string), meta.v1.Duration (Go duration string),
//   api.resource.Quantity (string), util.intstr.IntOrString (int or string),
//   runtime.RawExtension and meta.v1.FieldsV1 (embedded JSON), and
//   apiextensions JSON. isSpecial() tells them apart.
bool isSpecial(std::string_view messageName);

const MessageSchema* findMessage(std::string_view name);
// The message of a top-level kind, e.g. ("apps/v1", "Deployment") →
// "k8s.io.api.apps.v1.Deployment". nullptr when unknown.
const MessageSchema* messageForKind(std::string_view apiVersion, std::string_view kind);
// Every message in the table (for OpenAPI).
std::span<const MessageSchema> allMessages();

// Paths of JSON fields in `obj` that the schema of `messageName` does not know, formatted as
// upstream's strict decoding errors name them ("spec.containers[0].imagex"); keys of inlined
// structs count as the parent's. apiVersion and kind are always known at the top. Values of
// map<string, Message> fields are walked unless the message is special; other map values are
// free-form.
std::vector<std::string> unknownFields(std::string_view messageName, const boost::json::value& obj);

}  // namespace berth::apiserver::protobuf
