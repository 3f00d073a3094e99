// Encoding half of codec.h: a JSON object → protobuf bytes, field by field in number order as
// gogo-protobuf writes them. Only fields present in the JSON are written (a decoder reads an
// absent scalar as its zero, so this is equivalent and smaller).
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "apiserver/protobuf/codec.h"
#include "apiserver/protobuf/resolved.h"
#include "apiserver/protobuf/schema.h"
#include "apiserver/protobuf/special_types.h"
#include "apiserver/protobuf/wire.h"

namespace berth::apiserver::protobuf {
namespace {

namespace json = boost::json;
using core::Status;
using internal::Special;

constexpr int kMaxDepth = 64;

Status typeError(const FieldSchema& f, const MessageSchema& m, std::string_view want) {
  return Status::badRequest("protobuf: cannot encode field " + std::string(f.jsonName) + " of " +
                            std::string(m.name) + ": expected " + std::string(want));
}

// A JSON number that is an integer (Go's JSON decoder accepts 3.0 for an int field).
bool integerOf(const json::value& v, std::int64_t& out) {
  if (const auto* i = v.if_int64()) {
    out = *i;
    return true;
  }
  if (const auto* u = v.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  if (const auto* d = v.if_double()) {
    if (std::trunc(*d) != *d || std::fabs(*d) > 9.2e18) return false;
    out = static_cast<std::int64_t>(*d);
    return true;
  }
  return false;
}

std::string quantityText(const json::value& v) {
  if (const auto* s = v.if_string()) return std::string(*s);
  std::int64_t i;
  if (integerOf(v, i)) return std::to_string(i);
  return json::serialize(v);
}

class Encoder {
 public:
  Status message(const MessageSchema& schema, const json::object& obj, std::string& out, int depth);

 private:
  Status value(const MessageSchema& schema, const FieldSchema& f, FieldType type,
               const json::value& v, std::string& out, int depth);
  Status special(const MessageSchema& schema, const FieldSchema& f, Special kind,
                 const json::value& v, std::string& out);
};

Status Encoder::message(const MessageSchema& schema, const json::object& obj, std::string& out,
                        int depth) {
  if (depth > kMaxDepth) {
    return Status::badRequest("protobuf: nesting deeper than " + std::to_string(kMaxDepth) +
                              " in " + std::string(schema.name));
  }
  for (const FieldSchema& f : schema.fields) {
    if (f.inlined) {
      const MessageSchema* sub = internal::resolveField(schema, f).message;
      if (sub == nullptr) continue;
      std::string inner;
      if (Status st = message(*sub, obj, inner, depth + 1); !st.ok()) return st;
      internal::putBytesField(out, f.number, inner);
      continue;
    }
    auto it = obj.find(f.jsonName);
    if (it == obj.end() || it->value().is_null()) continue;
    const json::value& v = it->value();
    if (f.type == FieldType::kMap) {
      const auto* map = v.if_object();
      if (map == nullptr) return typeError(f, schema, "an object");
      std::vector<const json::key_value_pair*> entries;
      for (const auto& kv : *map) entries.push_back(&kv);
      // Deterministic like upstream's generated marshalers: keys in order.
      std::sort(entries.begin(), entries.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      for (const auto* kv : entries) {
        std::string entry;
        internal::putBytesField(entry, 1, kv->key());
        if (!kv->value().is_null()) {
          if (Status st = value(schema, f, f.mapValueType, kv->value(), entry, depth); !st.ok()) {
            return st;
          }
        }
        internal::putBytesField(out, f.number, entry);
      }
    } else if (f.repeated) {
      const auto* arr = v.if_array();
      if (arr == nullptr) return typeError(f, schema, "an array");
      for (const auto& e : *arr) {
        if (Status st = value(schema, f, f.type, e, out, depth); !st.ok()) return st;
      }
    } else if (Status st = value(schema, f, f.type, v, out, depth); !st.ok()) {
      return st;
    }
  }
  return Status();
}

// Writes one value of `f` (a map value is written as entry field 2).
Status Encoder::value(const MessageSchema& schema, const FieldSchema& f, FieldType type,
                      const json::value& v, std::string& out, int depth) {
  const int number = f.type == FieldType::kMap ? 2 : f.number;
  switch (type) {
    case FieldType::kString: {
      const auto* s = v.if_string();
      if (s == nullptr) return typeError(f, schema, "a string");
      internal::putBytesField(out, number, *s);
      return Status();
    }
    case FieldType::kBytes: {
      const auto* s = v.if_string();
      auto bytes = s ? internal::base64Decode(*s) : std::nullopt;
      if (!bytes) return typeError(f, schema, "a base64 string");
      internal::putBytesField(out, number, *bytes);
      return Status();
    }
    case FieldType::kBool:
      if (!v.is_bool()) return typeError(f, schema, "a boolean");
      internal::putVarintField(out, number, v.get_bool() ? 1 : 0);
      return Status();
    case FieldType::kInt32:
    case FieldType::kInt64: {
      std::int64_t i;
      if (!integerOf(v, i)) return typeError(f, schema, "an integer");
      if (type == FieldType::kInt32 && (i < INT32_MIN || i > INT32_MAX)) {
        return typeError(f, schema, "a 32-bit integer");
      }
      internal::putVarintField(out, number, static_cast<std::uint64_t>(i));
      return Status();
    }
    case FieldType::kDouble: {
      if (!v.is_number()) return typeError(f, schema, "a number");
      double d = v.to_number<double>();
      std::uint64_t raw;
      std::memcpy(&raw, &d, sizeof raw);
      internal::putTag(out, number, internal::kFixed64);
      for (int i = 0; i < 8; ++i) out += static_cast<char>((raw >> (8 * i)) & 0xff);
      return Status();
    }
    case FieldType::kMessage: {
      const internal::ResolvedType& resolved = internal::resolveField(schema, f);
      if (resolved.special != Special::kNone) {
        std::string inner;
        if (Status st = special(schema, f, resolved.special, v, inner); !st.ok()) return st;
        internal::putBytesField(out, number, inner);
        return Status();
      }
      const MessageSchema* sub = resolved.message;
      const auto* obj = v.if_object();
      if (sub == nullptr || obj == nullptr) return typeError(f, schema, "an object");
      std::string inner;
      if (Status st = message(*sub, *obj, inner, depth + 1); !st.ok()) return st;
      internal::putBytesField(out, number, inner);
      return Status();
    }
    case FieldType::kMap:
      break;
  }
  return typeError(f, schema, "a supported type");
}

Status Encoder::special(const MessageSchema& schema, const FieldSchema& f, Special kind,
                        const json::value& v, std::string& out) {
  const bool micro = kind == Special::kMicroTime;
  if (kind == Special::kTime || micro) {
    const auto* s = v.if_string();
    auto t = s ? internal::parseRfc3339(*s) : std::nullopt;
    if (!t) return typeError(f, schema, "an RFC 3339 time");
    internal::putVarintField(out, 1, static_cast<std::uint64_t>(t->seconds));
    internal::putVarintField(out, 2, micro ? t->nanos / 1000 * 1000 : 0);
  } else if (kind == Special::kDuration) {
    const auto* s = v.if_string();
    auto d = s ? internal::parseGoDuration(*s) : std::nullopt;
    if (!d) return typeError(f, schema, "a duration");
    internal::putVarintField(out, 1, static_cast<std::uint64_t>(*d));
  } else if (kind == Special::kIntOrString) {
    std::int64_t i = 0;
    if (const auto* s = v.if_string()) {
      internal::putVarintField(out, 1, 1);
      internal::putVarintField(out, 2, 0);
      internal::putBytesField(out, 3, *s);
    } else if (integerOf(v, i) && i >= INT32_MIN && i <= INT32_MAX) {
      internal::putVarintField(out, 1, 0);
      internal::putVarintField(out, 2, static_cast<std::uint64_t>(i));
      internal::putBytesField(out, 3, "");
    } else {
      return typeError(f, schema, "an integer or a string");
    }
  } else if (kind == Special::kRawExtension) {
    internal::putBytesField(out, 1, json::serialize(v));
  } else {  // Quantity
    if (!v.is_string() && !v.is_number()) return typeError(f, schema, "a quantity");
    internal::putBytesField(out, 1, quantityText(v));
  }
  return Status();
}

}  // namespace

core::Result<std::string> encodeMessage(std::string_view messageName,
                                        const boost::json::object& obj) {
  const MessageSchema* schema = findMessage(messageName);
  if (schema == nullptr) {
    return Status::badRequest("protobuf: unknown message " + std::string(messageName));
  }
  std::string out;
  Encoder e;
  if (Status st = e.message(*schema, obj, out, 0); !st.ok()) return st;
  return out;
}

core::Result<std::string> encodeEnvelope(const boost::json::object& obj) {
  auto text = [&](std::string_view key) -> std::string_view {
    auto it = obj.find(key);
    if (it == obj.end() || !it->value().is_string()) return {};
    return it->value().get_string();
  };
  const std::string_view apiVersion = text("apiVersion");
  const std::string_view kind = text("kind");
  if (kind.empty()) return Status::badRequest("Object 'Kind' is missing");
  const MessageSchema* schema = messageForKind(apiVersion, kind);
  if (schema == nullptr) {
    return Status::badRequest("no kind \"" + std::string(kind) + "\" is registered for version \"" +
                              std::string(apiVersion) + "\"");
  }
  std::string raw;
  Encoder e;
  if (Status st = e.message(*schema, obj, raw, 1); !st.ok()) return st;
  std::string typeMeta;
  internal::putBytesField(typeMeta, 1, apiVersion);
  internal::putBytesField(typeMeta, 2, kind);
  std::string out(kMagic);
  internal::putBytesField(out, 1, typeMeta);
  internal::putBytesField(out, 2, raw);
  internal::putBytesField(out, 3, "");  // contentEncoding
  internal::putBytesField(out, 4, "");  // contentType
  return out;
}

}  // namespace berth::apiserver::protobuf
