// Decoding half of codec.h: protobuf bytes → the JSON object kubectl would have sent.
// Encoding is in encode.cpp.
#include "apiserver/protobuf/codec.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

#include "apiserver/protobuf/resolved.h"
#include "apiserver/protobuf/schema.h"
#include "apiserver/protobuf/special_types.h"
#include "apiserver/protobuf/wire.h"

namespace berth::apiserver::protobuf {
namespace {

namespace json = boost::json;
using core::Status;
using internal::Reader;
using internal::Special;

constexpr int kMaxDepth = 64;

std::string fieldLabel(const FieldSchema& f, const MessageSchema& m) {
  return "protobuf: field " + std::string(f.jsonName) + " (" + std::to_string(f.number) + ") of " +
         std::string(m.name);
}

// The hot path's error: null on success. core::Status is too large to build per field.
using Error = std::unique_ptr<Status>;

Error fail(Status status) { return std::make_unique<Status>(std::move(status)); }

Error truncated(std::string_view what, std::string_view message) {
  return fail(Status::badRequest("protobuf: truncated " + std::string(what) + " in " +
                                 std::string(message)));
}

bool isZero(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return !v.get_bool();
    case json::kind::int64:
      return v.get_int64() == 0;
    case json::kind::uint64:
      return v.get_uint64() == 0;
    case json::kind::double_:
      return v.get_double() == 0;
    case json::kind::string:
      return v.get_string().empty();
    case json::kind::array:
      return v.get_array().empty();
    case json::kind::object:
      return v.get_object().empty();
  }
  return false;
}

// Skips one field's payload of an unknown number, as proto decoders do.
Error skipField(Reader& r, int wireType, std::string_view message) {
  std::uint64_t ignored;
  std::string_view bytes;
  switch (wireType) {
    case internal::kVarint:
      return r.varint(ignored) ? nullptr : truncated("varint", message);
    case internal::kFixed64:
      return r.fixed(8, ignored) ? nullptr : truncated("fixed64", message);
    case internal::kFixed32:
      return r.fixed(4, ignored) ? nullptr : truncated("fixed32", message);
    case internal::kLengthDelimited:
      return r.bytes(bytes, ignored) ? nullptr : truncated("length-delimited field", message);
    default:
      return fail(Status::badRequest("protobuf: unsupported wire type " + std::to_string(wireType) +
                                     " in " + std::string(message)));
  }
}

core::Result<json::object> decodeEnvelopeAt(std::string_view body, int depth);

// Sets a non-repeated field. Go's JSON omits zero `omitempty` values that gogo-protobuf writes
// anyway; a later zero occurrence of the field still overrides an earlier value (last wins).
void assign(json::object& out, const FieldSchema& f, json::value&& v) {
  if (v.is_null() || (!f.keepZero && isZero(v))) {
    out.erase(f.jsonName);
  } else {
    out[f.jsonName] = std::move(v);
  }
}

void append(json::object& out, const FieldSchema& f, json::value&& v) {
  json::value& slot = out[f.jsonName];
  if (!slot.is_array()) slot.emplace_array();
  slot.get_array().push_back(std::move(v));
}

class Decoder {
 public:
  Error message(const MessageSchema& schema, std::string_view bytes, json::object& out, int depth);

 private:
  Error field(const MessageSchema& schema, const FieldSchema& f, int wireType, Reader& r,
              json::object& out, int depth);
  Error scalar(const MessageSchema& schema, const FieldSchema& f, FieldType type, Reader& r,
               json::value& out);
  Error messageValue(const MessageSchema& schema, const FieldSchema& f, std::string_view bytes,
                     json::value& out, int depth);
  Error special(Special kind, std::string_view name, std::string_view bytes, json::value& out,
                int depth);
  Error mapEntry(const MessageSchema& schema, const FieldSchema& f, std::string_view bytes,
                 json::object& map, int depth);
};

Error Decoder::message(const MessageSchema& schema, std::string_view bytes, json::object& out,
                       int depth) {
  if (depth > kMaxDepth) {
    return fail(Status::badRequest("protobuf: nesting deeper than " + std::to_string(kMaxDepth) +
                                   " in " + std::string(schema.name)));
  }
  Reader r(bytes);
  while (!r.empty()) {
    std::uint64_t key;
    if (!r.varint(key)) return truncated("field key", schema.name);
    const std::uint64_t number = key >> 3;
    const int wireType = static_cast<int>(key & 7);
    if (number == 0 || number > 536870911) {
      return fail(Status::badRequest("protobuf: invalid field number " + std::to_string(number) +
                                     " in " + std::string(schema.name)));
    }
    const FieldSchema* f = schema.byNumber(static_cast<int>(number));
    Error e = f == nullptr ? skipField(r, wireType, schema.name)
                           : field(schema, *f, wireType, r, out, depth);
    if (e) return e;
  }
  return nullptr;
}

Error Decoder::field(const MessageSchema& schema, const FieldSchema& f, int wireType, Reader& r,
                     json::object& out, int depth) {
  const bool numeric = f.type == FieldType::kBool || f.type == FieldType::kInt32 ||
                       f.type == FieldType::kInt64 || f.type == FieldType::kDouble;
  const int expected = f.type == FieldType::kDouble ? internal::kFixed64
                       : numeric                    ? internal::kVarint
                                                    : internal::kLengthDelimited;
  const bool packed = numeric && f.repeated && wireType == internal::kLengthDelimited;
  if (wireType != expected && !packed) {
    return fail(Status::badRequest(fieldLabel(f, schema) + ": wrong wire type " +
                                   std::to_string(wireType)));
  }
  if (numeric) {
    if (packed) {
      std::string_view payload;
      std::uint64_t length;
      if (!r.bytes(payload, length)) return truncated("packed field", schema.name);
      Reader pr(payload);
      while (!pr.empty()) {
        json::value v;
        if (Error e = scalar(schema, f, f.type, pr, v)) return e;
        append(out, f, std::move(v));
      }
      return nullptr;
    }
    json::value v;
    if (Error e = scalar(schema, f, f.type, r, v)) return e;
    if (f.repeated) {
      append(out, f, std::move(v));
    } else {
      assign(out, f, std::move(v));
    }
    return nullptr;
  }
  std::string_view payload;
  std::uint64_t length = 0;
  const std::size_t left = r.remaining();
  if (!r.bytes(payload, length)) {
    return fail(Status::badRequest(fieldLabel(f, schema) + ": length " + std::to_string(length) +
                                   " exceeds the " + std::to_string(left) +
                                   " bytes left (or the length is truncated)"));
  }
  if (f.type == FieldType::kMap) {
    json::value& slot = out[f.jsonName];
    if (!slot.is_object()) slot.emplace_object();
    return mapEntry(schema, f, payload, slot.get_object(), depth);
  }
  json::value v;
  if (f.type == FieldType::kString) {
    v = json::string(payload);
  } else if (f.type == FieldType::kBytes) {
    v = json::string(internal::base64Encode(payload));
  } else if (f.inlined) {
    // Embedded with json:",inline": the struct's fields belong to this object.
    json::value inner;
    if (Error e = messageValue(schema, f, payload, inner, depth)) return e;
    for (auto& kv : inner.get_object()) out[kv.key()] = std::move(kv.value());
    return nullptr;
  } else if (Error e = messageValue(schema, f, payload, v, depth)) {
    return e;
  }
  if (f.repeated) {
    append(out, f, std::move(v));
  } else {
    assign(out, f, std::move(v));
  }
  return nullptr;
}

Error Decoder::scalar(const MessageSchema& schema, const FieldSchema& f, FieldType type, Reader& r,
                      json::value& out) {
  std::uint64_t raw;
  if (type == FieldType::kDouble) {
    if (!r.fixed(8, raw)) return truncated("double", schema.name);
    double d;
    std::memcpy(&d, &raw, sizeof d);
    out = d;
    return nullptr;
  }
  if (!r.varint(raw)) return fail(Status::badRequest(fieldLabel(f, schema) + ": truncated varint"));
  switch (type) {
    case FieldType::kBool:
      out = raw != 0;
      break;
    case FieldType::kInt32:
      out = static_cast<std::int64_t>(static_cast<std::int32_t>(raw));
      break;
    default:
      out = static_cast<std::int64_t>(raw);
      break;
  }
  return nullptr;
}

Error Decoder::messageValue(const MessageSchema& schema, const FieldSchema& f,
                            std::string_view bytes, json::value& out, int depth) {
  const internal::ResolvedType& type = internal::resolveField(schema, f);
  if (type.special != Special::kNone) {
    return special(type.special, f.messageType, bytes, out, depth + 1);
  }
  const MessageSchema* sub = type.message;
  if (sub == nullptr) {
    return fail(Status::internal("protobuf: no schema for " + std::string(f.messageType) +
                                 " (field " + std::string(f.jsonName) + " of " +
                                 std::string(schema.name) + ")"));
  }
  json::object& obj = out.emplace_object();
  return message(*sub, bytes, obj, depth + 1);
}

Error Decoder::mapEntry(const MessageSchema& schema, const FieldSchema& f, std::string_view bytes,
                        json::object& map, int depth) {
  Reader r(bytes);
  std::string_view key, value;
  while (!r.empty()) {
    std::uint64_t tag, length;
    if (!r.varint(tag)) return truncated("map entry key", schema.name);
    const int wireType = static_cast<int>(tag & 7);
    const std::uint64_t number = tag >> 3;
    // Keys are strings and every value type in the served groups is length-delimited.
    if ((number == 1 || number == 2) && wireType != internal::kLengthDelimited) {
      return fail(Status::badRequest(fieldLabel(f, schema) + ": wrong wire type " +
                                     std::to_string(wireType) + " in map entry"));
    }
    if (number == 1) {
      if (!r.bytes(key, length)) return truncated("map key", schema.name);
    } else if (number == 2) {
      if (!r.bytes(value, length)) return truncated("map value", schema.name);
    } else if (Error e = skipField(r, wireType, schema.name)) {
      return e;
    }
  }
  json::value v;
  switch (f.mapValueType) {
    case FieldType::kString:
      v = json::string(value);
      break;
    case FieldType::kBytes:
      v = json::string(internal::base64Encode(value));
      break;
    case FieldType::kMessage:
      if (Error e = messageValue(schema, f, value, v, depth)) return e;
      break;
    default:
      // No map<string, scalar number> exists in the served API groups.
      return fail(Status::badRequest(fieldLabel(f, schema) + ": unsupported map value type"));
  }
  map[key] = std::move(v);
  return nullptr;
}

Error Decoder::special(Special kind, std::string_view name, std::string_view bytes,
                       json::value& out, int depth) {
  if (depth > kMaxDepth) {
    return fail(Status::badRequest("protobuf: nesting deeper than " + std::to_string(kMaxDepth)));
  }
  // Every special type is a small message of fields 1..3; collect them generically.
  std::uint64_t ints[4] = {0, 0, 0, 0};
  std::string_view strs[4];
  Reader r(bytes);
  while (!r.empty()) {
    std::uint64_t tag, length;
    if (!r.varint(tag)) return truncated("field key", name);
    const std::uint64_t number = tag >> 3;
    const int wireType = static_cast<int>(tag & 7);
    if (number >= 1 && number <= 3 && wireType == internal::kVarint) {
      if (!r.varint(ints[number])) return truncated("varint", name);
    } else if (number >= 1 && number <= 3 && wireType == internal::kLengthDelimited) {
      if (!r.bytes(strs[number], length)) return truncated("length-delimited field", name);
    } else if (Error e = skipField(r, wireType, name)) {
      return e;
    }
  }
  const bool micro = kind == Special::kMicroTime;
  if (kind == Special::kTime || micro) {
    if (bytes.empty()) {  // the zero time; Go's JSON writes null
      out = nullptr;
      return nullptr;
    }
    internal::UnixTime t{static_cast<std::int64_t>(ints[1]), 0};
    if (micro) {
      std::int64_t nanos = static_cast<std::int32_t>(ints[2]);
      t.seconds += nanos / 1000000000;
      nanos %= 1000000000;
      if (nanos < 0) {
        nanos += 1000000000;
        t.seconds -= 1;
      }
      t.nanos = static_cast<std::int32_t>(nanos / 1000 * 1000);
    }
    auto text = internal::formatRfc3339(t, micro);
    if (!text) return fail(Status::badRequest("protobuf: " + std::string(name) + " out of range"));
    out = json::string(*text);
  } else if (kind == Special::kDuration) {
    out = json::string(internal::formatGoDuration(static_cast<std::int64_t>(ints[1])));
  } else if (kind == Special::kIntOrString) {
    if (ints[1] == 1) {
      out = json::string(strs[3]);
    } else {
      out = static_cast<std::int64_t>(static_cast<std::int32_t>(ints[2]));
    }
  } else if (kind == Special::kRawExtension) {
    std::string_view raw = strs[1];
    if (raw.empty()) {
      out = nullptr;
    } else if (raw.size() >= kMagic.size() && raw.substr(0, kMagic.size()) == kMagic) {
      auto inner = decodeEnvelopeAt(raw, depth + 1);  // an object embedded as protobuf
      if (!inner.ok()) return fail(inner.status());
      out = std::move(*inner);
    } else {
      json::parse_options opts;
      opts.max_depth = kMaxDepth;
      boost::system::error_code ec;
      out = json::parse(json::string_view(raw.data(), raw.size()), ec, {}, opts);
      if (ec) {
        return fail(Status::badRequest("protobuf: " + std::string(name) +
                                       " does not hold JSON: " + ec.message()));
      }
    }
  } else {  // Quantity, QuantityValue: the canonical string; an empty message is zero
    out = json::string(strs[1].empty() ? std::string_view("0") : strs[1]);
  }
  return nullptr;
}

core::Result<json::object> decodeEnvelopeAt(std::string_view body, int depth) {
  if (depth > kMaxDepth) {
    return Status::badRequest("protobuf: nesting deeper than " + std::to_string(kMaxDepth));
  }
  if (body.size() < kMagic.size() || body.substr(0, kMagic.size()) != kMagic) {
    return Status::badRequest("protobuf: body does not start with the k8s\\0 prefix");
  }
  Reader r(body.substr(kMagic.size()));
  std::string_view typeMeta, raw, contentEncoding;
  while (!r.empty()) {
    std::uint64_t tag, length;
    if (!r.varint(tag)) return *truncated("field key", "runtime.Unknown");
    const std::uint64_t number = tag >> 3;
    const int wireType = static_cast<int>(tag & 7);
    if (number >= 1 && number <= 4) {
      if (wireType != internal::kLengthDelimited) {
        return Status::badRequest("protobuf: field " + std::to_string(number) +
                                  " of runtime.Unknown: wrong wire type " +
                                  std::to_string(wireType));
      }
      std::string_view payload;
      if (!r.bytes(payload, length)) return *truncated("field", "runtime.Unknown");
      if (number == 1) typeMeta = payload;
      if (number == 2) raw = payload;
      if (number == 3) contentEncoding = payload;
    } else if (Error e = skipField(r, wireType, "runtime.Unknown")) {
      return *e;
    }
  }
  auto meta = decodeMessage("k8s.io.apimachinery.pkg.runtime.TypeMeta", typeMeta);
  if (!meta.ok()) return meta.status();
  auto text = [&](std::string_view key) -> std::string_view {
    auto it = meta->find(key);
    if (it == meta->end() || !it->value().is_string()) return {};
    return it->value().get_string();
  };
  const std::string_view apiVersion = text("apiVersion");
  const std::string_view kind = text("kind");
  if (kind.empty()) return Status::badRequest("Object 'Kind' is missing in protobuf envelope");
  if (!contentEncoding.empty()) {
    return Status::badRequest("protobuf: unsupported content encoding \"" +
                              std::string(contentEncoding) + "\"");
  }
  const MessageSchema* schema = messageForKind(apiVersion, kind);
  if (schema == nullptr) {
    return Status::badRequest("no kind \"" + std::string(kind) + "\" is registered for version \"" +
                              std::string(apiVersion) + "\"");
  }
  json::object out;
  out["kind"] = kind;
  out["apiVersion"] = apiVersion;
  Decoder d;
  if (Error e = d.message(*schema, raw, out, depth + 1)) return *e;
  return out;
}

}  // namespace

core::Result<boost::json::object> decodeMessage(std::string_view messageName,
                                                std::string_view bytes) {
  const MessageSchema* schema = findMessage(messageName);
  if (schema == nullptr) {
    return Status::badRequest("protobuf: unknown message " + std::string(messageName));
  }
  json::object out;
  Decoder d;
  if (Error e = d.message(*schema, bytes, out, 0)) return *e;
  return out;
}

core::Result<boost::json::object> decodeEnvelope(std::string_view body) {
  return decodeEnvelopeAt(body, 0);
}

}  // namespace berth::apiserver::protobuf
