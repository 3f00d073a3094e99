#include "apiserver/protobuf/zero_values.h"

#include <boost/json/value.hpp>

#include <optional>

#include "apiserver/protobuf/resolved.h"
#include "apiserver/protobuf/schema.h"

namespace berth::apiserver::protobuf {

namespace json = boost::json;

namespace {

// Deeper nesting than any built-in type has; guards against a cyclic schema (JSONSchemaProps).
constexpr int kMaxDepth = 64;

void fill(const MessageSchema& schema, json::object& obj, int depth);

// The JSON of a zero value of a message type with its own JSON form (schema.h isSpecial).
// nullopt for FieldsV1 and RawExtension: Go writes null, and neither is ever a non-pointer
// field a client requires.
std::optional<json::value> specialZero(internal::Special special) {
  using internal::Special;
  switch (special) {
    case Special::kTime:
    case Special::kMicroTime:
      return json::value(nullptr);
    case Special::kDuration:
      return json::value("0s");
    case Special::kQuantity:
      return json::value("0");
    case Special::kIntOrString:
      return json::value(0);
    case Special::kRawExtension:
    case Special::kNone:
      break;
  }
  return std::nullopt;
}

std::optional<json::value> zeroOf(const FieldSchema& f, const internal::ResolvedType& type) {
  switch (f.type) {
    case FieldType::kString:
      return json::value("");
    case FieldType::kBool:
      return json::value(false);
    case FieldType::kInt32:
    case FieldType::kInt64:
      return json::value(0);
    case FieldType::kDouble:
      return json::value(0.0);
    case FieldType::kMessage:
      if (type.special != internal::Special::kNone) return specialZero(type.special);
      return json::value(json::object());
    case FieldType::kBytes:  // []byte: null, like a nil slice
    case FieldType::kMap:
      return std::nullopt;
  }
  return std::nullopt;
}

void fillField(const MessageSchema& owner, const FieldSchema& f, json::object& obj, int depth) {
  bool nested = f.type == FieldType::kMessage ||
                (f.type == FieldType::kMap && f.mapValueType == FieldType::kMessage);
  if (!nested && !f.emitZero) return;  // most fields: nothing to add, nothing to walk
  const internal::ResolvedType& type = internal::resolveField(owner, f);
  const MessageSchema* sub = type.special == internal::Special::kNone ? type.message : nullptr;
  if (f.inlined) {
    // The embedded struct's fields sit in this object.
    if (sub != nullptr && f.type == FieldType::kMessage && !f.repeated) fill(*sub, obj, depth + 1);
    return;
  }
  auto it = obj.find(f.jsonName);
  if (it == obj.end() ||
      (it->value().is_null() && sub != nullptr && !f.repeated && f.type == FieldType::kMessage)) {
    // Missing, or null where Go decodes null into a zero struct.
    if (!f.emitZero || f.repeated) return;
    auto zero = zeroOf(f, type);
    if (!zero) return;
    it = obj.insert_or_assign(f.jsonName, std::move(*zero)).first;
  }
  if (sub == nullptr) return;
  json::value& v = it->value();
  if (f.type == FieldType::kMap) {
    if (auto* m = v.if_object()) {
      for (auto& kv : *m) {
        if (auto* o = kv.value().if_object()) fill(*sub, *o, depth + 1);
      }
    }
  } else if (f.repeated) {
    if (auto* a = v.if_array()) {
      for (auto& e : *a) {
        if (auto* o = e.if_object()) fill(*sub, *o, depth + 1);
      }
    }
  } else if (auto* o = v.if_object()) {
    fill(*sub, *o, depth + 1);
  }
}

void fill(const MessageSchema& schema, json::object& obj, int depth) {
  if (depth > kMaxDepth) return;
  for (const auto& f : schema.fields) fillField(schema, f, obj, depth);
}

}  // namespace

void addGoZeroValues(const MessageSchema& schema, json::object& obj) { fill(schema, obj, 0); }

bool addGoZeroValues(json::object& obj) {
  auto* apiVersion = obj.if_contains("apiVersion");
  auto* kind = obj.if_contains("kind");
  if (apiVersion == nullptr || kind == nullptr || !apiVersion->is_string() || !kind->is_string())
    return false;
  const MessageSchema* schema = messageForKind(apiVersion->as_string(), kind->as_string());
  if (schema == nullptr) return false;
  fill(*schema, obj, 0);
  return true;
}

}  // namespace berth::apiserver::protobuf
