// Swagger 2.0 JSON → gnostic openapi.v2.Document protobuf. The field numbers are those of
// gnostic's published OpenAPIv2.proto; each plain message is a table of (JSON key, field number,
// kind), and the one-of wrappers and maps are small functions. See gnostic.h for the mapping.
#include "apiserver/openapi/gnostic.h"

#include <boost/json/serialize.hpp>

#include <bit>
#include <cstdint>
#include <span>
#include <string_view>

#include "apiserver/protobuf/wire.h"

namespace berth::apiserver::openapi {
namespace {
namespace json = boost::json;
namespace wire = berth::apiserver::protobuf::internal;

struct Ctx {
  std::vector<std::string>* skipped;
  void skip(std::string_view message, std::string_view key) const {
    if (skipped) skipped->push_back(std::string(message) + "." + std::string(key));
  }
};

// Appends the encoded content (the fields, without tag or length) of one message.
using Encoder = void (*)(const json::value&, const Ctx&, std::string&);

enum class Kind {
  kString,    // string
  kBool,      // bool
  kDouble,    // double
  kInt64,     // int64
  kStrings,   // repeated string
  kAny,       // Any (free-form value as YAML text)
  kAnys,      // repeated Any
  kMessage,   // a message encoded by `sub`
  kMessages,  // repeated message, from a JSON array
};

struct Field {
  std::string_view key;
  int number;
  Kind kind;
  Encoder sub = nullptr;
};

struct MessageDef {
  std::string_view name;
  std::span<const Field> fields;  // in field-number order
  int vendorExtensions;           // field number of `repeated NamedAny vendor_extension`, or 0
};

// Every message of OpenAPIv2.proto that a Swagger document can contain.
void info(const json::value&, const Ctx&, std::string&);
void contact(const json::value&, const Ctx&, std::string&);
void license(const json::value&, const Ctx&, std::string&);
void externalDocs(const json::value&, const Ctx&, std::string&);
void tag(const json::value&, const Ctx&, std::string&);
void paths(const json::value&, const Ctx&, std::string&);
void pathItem(const json::value&, const Ctx&, std::string&);
void operation(const json::value&, const Ctx&, std::string&);
void parametersItem(const json::value&, const Ctx&, std::string&);
void parameter(const json::value&, const Ctx&, std::string&);
void bodyParameter(const json::value&, const Ctx&, std::string&);
void nonBodyParameter(const json::value&, const Ctx&, std::string&);
void headerParameter(const json::value&, const Ctx&, std::string&);
void formDataParameter(const json::value&, const Ctx&, std::string&);
void queryParameter(const json::value&, const Ctx&, std::string&);
void pathParameter(const json::value&, const Ctx&, std::string&);
void primitivesItems(const json::value&, const Ctx&, std::string&);
void jsonReference(const json::value&, const Ctx&, std::string&);
void responses(const json::value&, const Ctx&, std::string&);
void responseValue(const json::value&, const Ctx&, std::string&);
void response(const json::value&, const Ctx&, std::string&);
void headers(const json::value&, const Ctx&, std::string&);
void header(const json::value&, const Ctx&, std::string&);
void examples(const json::value&, const Ctx&, std::string&);
void schemaItem(const json::value&, const Ctx&, std::string&);
void fileSchema(const json::value&, const Ctx&, std::string&);
void schema(const json::value&, const Ctx&, std::string&);
void typeItem(const json::value&, const Ctx&, std::string&);
void itemsItem(const json::value&, const Ctx&, std::string&);
void additionalPropertiesItem(const json::value&, const Ctx&, std::string&);
void properties(const json::value&, const Ctx&, std::string&);
void xml(const json::value&, const Ctx&, std::string&);
void definitions(const json::value&, const Ctx&, std::string&);
void parameterDefinitions(const json::value&, const Ctx&, std::string&);
void responseDefinitions(const json::value&, const Ctx&, std::string&);
void securityDefinitions(const json::value&, const Ctx&, std::string&);
void securityDefinitionsItem(const json::value&, const Ctx&, std::string&);
void securityRequirement(const json::value&, const Ctx&, std::string&);
void basicSecurity(const json::value&, const Ctx&, std::string&);
void apiKeySecurity(const json::value&, const Ctx&, std::string&);
void oauth2Implicit(const json::value&, const Ctx&, std::string&);
void oauth2Password(const json::value&, const Ctx&, std::string&);
void oauth2Application(const json::value&, const Ctx&, std::string&);
void oauth2AccessCode(const json::value&, const Ctx&, std::string&);
void oauth2Scopes(const json::value&, const Ctx&, std::string&);

using K = Kind;

constexpr Field kDocument[] = {
    {"swagger", 1, K::kString},
    {"info", 2, K::kMessage, info},
    {"host", 3, K::kString},
    {"basePath", 4, K::kString},
    {"schemes", 5, K::kStrings},
    {"consumes", 6, K::kStrings},
    {"produces", 7, K::kStrings},
    {"paths", 8, K::kMessage, paths},
    {"definitions", 9, K::kMessage, definitions},
    {"parameters", 10, K::kMessage, parameterDefinitions},
    {"responses", 11, K::kMessage, responseDefinitions},
    {"security", 12, K::kMessages, securityRequirement},
    {"securityDefinitions", 13, K::kMessage, securityDefinitions},
    {"tags", 14, K::kMessages, tag},
    {"externalDocs", 15, K::kMessage, externalDocs},
};
constexpr Field kInfo[] = {
    {"title", 1, K::kString},
    {"version", 2, K::kString},
    {"description", 3, K::kString},
    {"termsOfService", 4, K::kString},
    {"contact", 5, K::kMessage, contact},
    {"license", 6, K::kMessage, license},
};
constexpr Field kContact[] = {
    {"name", 1, K::kString}, {"url", 2, K::kString}, {"email", 3, K::kString}};
constexpr Field kLicense[] = {{"name", 1, K::kString}, {"url", 2, K::kString}};
constexpr Field kExternalDocs[] = {{"description", 1, K::kString}, {"url", 2, K::kString}};
constexpr Field kTag[] = {
    {"name", 1, K::kString},
    {"description", 2, K::kString},
    {"externalDocs", 3, K::kMessage, externalDocs},
};
constexpr Field kPathItem[] = {
    {"$ref", 1, K::kString},
    {"get", 2, K::kMessage, operation},
    {"put", 3, K::kMessage, operation},
    {"post", 4, K::kMessage, operation},
    {"delete", 5, K::kMessage, operation},
    {"options", 6, K::kMessage, operation},
    {"head", 7, K::kMessage, operation},
    {"patch", 8, K::kMessage, operation},
    {"parameters", 9, K::kMessages, parametersItem},
};
constexpr Field kOperation[] = {
    {"tags", 1, K::kStrings},
    {"summary", 2, K::kString},
    {"description", 3, K::kString},
    {"externalDocs", 4, K::kMessage, externalDocs},
    {"operationId", 5, K::kString},
    {"produces", 6, K::kStrings},
    {"consumes", 7, K::kStrings},
    {"parameters", 8, K::kMessages, parametersItem},
    {"responses", 9, K::kMessage, responses},
    {"schemes", 10, K::kStrings},
    {"deprecated", 11, K::kBool},
    {"security", 12, K::kMessages, securityRequirement},
};
constexpr Field kBodyParameter[] = {
    {"description", 1, K::kString},
    {"name", 2, K::kString},
    {"in", 3, K::kString},
    {"required", 4, K::kBool},
    {"schema", 5, K::kMessage, schema},
};

// The validation keywords shared by non-body parameters, items and headers, numbered from
// `first` on ("type" is numbered first, "multipleOf" first + 16) in every such message.
#define BERTH_PRIMITIVE_FIELDS(first)                                                    \
  {"type", (first), K::kString}, {"format", (first) + 1, K::kString},                    \
      {"items", (first) + 2, K::kMessage, primitivesItems},                              \
      {"collectionFormat", (first) + 3, K::kString}, {"default", (first) + 4, K::kAny},  \
      {"maximum", (first) + 5, K::kDouble}, {"exclusiveMaximum", (first) + 6, K::kBool}, \
      {"minimum", (first) + 7, K::kDouble}, {"exclusiveMinimum", (first) + 8, K::kBool}, \
      {"maxLength", (first) + 9, K::kInt64}, {"minLength", (first) + 10, K::kInt64},     \
      {"pattern", (first) + 11, K::kString}, {"maxItems", (first) + 12, K::kInt64},      \
      {"minItems", (first) + 13, K::kInt64}, {"uniqueItems", (first) + 14, K::kBool},    \
      {"enum", (first) + 15, K::kAnys}, {                                                \
    "multipleOf", (first) + 16, K::kDouble                                               \
  }

constexpr Field kHeaderOrPathParameter[] = {
    {"required", 1, K::kBool}, {"in", 2, K::kString},     {"description", 3, K::kString},
    {"name", 4, K::kString},   BERTH_PRIMITIVE_FIELDS(5),
};
constexpr Field kQueryOrFormDataParameter[] = {
    {"required", 1, K::kBool},        {"in", 2, K::kString},
    {"description", 3, K::kString},   {"name", 4, K::kString},
    {"allowEmptyValue", 5, K::kBool}, BERTH_PRIMITIVE_FIELDS(6),
};
constexpr Field kPrimitivesItems[] = {BERTH_PRIMITIVE_FIELDS(1)};
constexpr Field kHeader[] = {BERTH_PRIMITIVE_FIELDS(1), {"description", 18, K::kString}};
#undef BERTH_PRIMITIVE_FIELDS

constexpr Field kJsonReference[] = {{"$ref", 1, K::kString}, {"description", 2, K::kString}};
constexpr Field kResponse[] = {
    {"description", 1, K::kString},
    {"schema", 2, K::kMessage, schemaItem},
    {"headers", 3, K::kMessage, headers},
    {"examples", 4, K::kMessage, examples},
};
constexpr Field kFileSchema[] = {
    {"format", 1, K::kString},      {"title", 2, K::kString},
    {"description", 3, K::kString}, {"default", 4, K::kAny},
    {"required", 5, K::kStrings},   {"type", 6, K::kString},
    {"readOnly", 7, K::kBool},      {"externalDocs", 8, K::kMessage, externalDocs},
    {"example", 9, K::kAny},
};
constexpr Field kSchema[] = {
    {"$ref", 1, K::kString},
    {"format", 2, K::kString},
    {"title", 3, K::kString},
    {"description", 4, K::kString},
    {"default", 5, K::kAny},
    {"multipleOf", 6, K::kDouble},
    {"maximum", 7, K::kDouble},
    {"exclusiveMaximum", 8, K::kBool},
    {"minimum", 9, K::kDouble},
    {"exclusiveMinimum", 10, K::kBool},
    {"maxLength", 11, K::kInt64},
    {"minLength", 12, K::kInt64},
    {"pattern", 13, K::kString},
    {"maxItems", 14, K::kInt64},
    {"minItems", 15, K::kInt64},
    {"uniqueItems", 16, K::kBool},
    {"maxProperties", 17, K::kInt64},
    {"minProperties", 18, K::kInt64},
    {"required", 19, K::kStrings},
    {"enum", 20, K::kAnys},
    {"additionalProperties", 21, K::kMessage, additionalPropertiesItem},
    {"type", 22, K::kMessage, typeItem},
    {"items", 23, K::kMessage, itemsItem},
    {"allOf", 24, K::kMessages, schema},
    {"properties", 25, K::kMessage, properties},
    {"discriminator", 26, K::kString},
    {"readOnly", 27, K::kBool},
    {"xml", 28, K::kMessage, xml},
    {"externalDocs", 29, K::kMessage, externalDocs},
    {"example", 30, K::kAny},
};
constexpr Field kXml[] = {
    {"name", 1, K::kString},    {"namespace", 2, K::kString}, {"prefix", 3, K::kString},
    {"attribute", 4, K::kBool}, {"wrapped", 5, K::kBool},
};
constexpr Field kBasicSecurity[] = {{"type", 1, K::kString}, {"description", 2, K::kString}};
constexpr Field kApiKeySecurity[] = {
    {"type", 1, K::kString},
    {"name", 2, K::kString},
    {"in", 3, K::kString},
    {"description", 4, K::kString},
};
constexpr Field kOauth2Implicit[] = {
    {"type", 1, K::kString},
    {"flow", 2, K::kString},
    {"scopes", 3, K::kMessage, oauth2Scopes},
    {"authorizationUrl", 4, K::kString},
    {"description", 5, K::kString},
};
// Password and application flows share one shape.
constexpr Field kOauth2TokenFlow[] = {
    {"type", 1, K::kString},
    {"flow", 2, K::kString},
    {"scopes", 3, K::kMessage, oauth2Scopes},
    {"tokenUrl", 4, K::kString},
    {"description", 5, K::kString},
};
constexpr Field kOauth2AccessCode[] = {
    {"type", 1, K::kString},
    {"flow", 2, K::kString},
    {"scopes", 3, K::kMessage, oauth2Scopes},
    {"authorizationUrl", 4, K::kString},
    {"tokenUrl", 5, K::kString},
    {"description", 6, K::kString},
};

bool isExtension(std::string_view key) { return key.size() > 2 && key.substr(0, 2) == "x-"; }

void putMessage(std::string& out, int number, Encoder sub, const json::value& v, const Ctx& c) {
  std::string body;
  sub(v, c, body);
  wire::putBytesField(out, number, body);
}

// gnostic's Any: field 1 a google.protobuf.Any (never used for documents), field 2 the YAML
// text of the value. JSON is a subset of YAML; the trailing newline matches a YAML encoder's.
void anyValue(const json::value& v, const Ctx&, std::string& out) {
  wire::putBytesField(out, 2, json::serialize(v) + "\n");
}

// One Named<X> pair {1: name, 2: value} at `number`.
void namedPair(std::string& out, int number, std::string_view key, Encoder sub,
               const json::value& v, const Ctx& c) {
  std::string pair;
  wire::putBytesField(pair, 1, key);
  putMessage(pair, 2, sub, v, c);
  wire::putBytesField(out, number, pair);
}

// Repeated Named<X> pairs at `number`, one per key of a JSON object, in document order.
void namedPairs(const json::value& v, const Ctx& c, std::string& out, std::string_view message,
                int number, Encoder sub) {
  if (!v.is_object()) return c.skip(message, "<not an object>");
  for (const auto& kv : v.as_object()) namedPair(out, number, kv.key(), sub, kv.value(), c);
}

void vendorExtension(std::string& out, int number, std::string_view key, const json::value& v,
                     const Ctx& c) {
  namedPair(out, number, key, anyValue, v, c);
}

void putField(std::string& out, const Field& f, const json::value& v, const Ctx& c,
              std::string_view message) {
  switch (f.kind) {
    case K::kString:
      if (!v.is_string()) return c.skip(message, f.key);
      if (!v.as_string().empty()) wire::putBytesField(out, f.number, v.as_string());
      return;
    case K::kBool:
      if (!v.is_bool()) return c.skip(message, f.key);
      if (v.as_bool()) wire::putVarintField(out, f.number, 1);
      return;
    case K::kDouble: {
      if (!v.is_number()) return c.skip(message, f.key);
      double d = v.to_number<double>();
      if (d == 0) return;
      wire::putTag(out, f.number, wire::kFixed64);
      std::uint64_t bits = std::bit_cast<std::uint64_t>(d);
      for (int i = 0; i < 8; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
      return;
    }
    case K::kInt64: {
      if (!v.is_number()) return c.skip(message, f.key);
      auto n = v.to_number<std::int64_t>();
      if (n != 0) wire::putVarintField(out, f.number, static_cast<std::uint64_t>(n));
      return;
    }
    case K::kStrings:
      if (!v.is_array()) return c.skip(message, f.key);
      for (const auto& e : v.as_array()) {
        if (e.is_string()) wire::putBytesField(out, f.number, e.as_string());
      }
      return;
    case K::kAny:
      return putMessage(out, f.number, anyValue, v, c);
    case K::kAnys:
      if (!v.is_array()) return c.skip(message, f.key);
      for (const auto& e : v.as_array()) putMessage(out, f.number, anyValue, e, c);
      return;
    case K::kMessage:
      return putMessage(out, f.number, f.sub, v, c);
    case K::kMessages:
      if (!v.is_array()) return c.skip(message, f.key);
      for (const auto& e : v.as_array()) putMessage(out, f.number, f.sub, e, c);
      return;
  }
}

// A plain message: its table's fields in number order, with the vendor extensions at their
// number (always after the table's fields, as in every message of OpenAPIv2.proto).
void encodeObject(const MessageDef& def, const json::object& o, const Ctx& c, std::string& out) {
  for (const Field& f : def.fields) {
    if (const json::value* fv = o.if_contains(f.key)) putField(out, f, *fv, c, def.name);
  }
  for (const auto& kv : o) {
    bool known = false;
    for (const Field& f : def.fields) known = known || f.key == kv.key();
    if (known) continue;
    if (def.vendorExtensions != 0 && isExtension(kv.key())) {
      vendorExtension(out, def.vendorExtensions, kv.key(), kv.value(), c);
    } else {
      c.skip(def.name, kv.key());
    }
  }
}

void encodeMessage(const MessageDef& def, const json::value& v, const Ctx& c, std::string& out) {
  if (!v.is_object()) return c.skip(def.name, "<not an object>");
  encodeObject(def, v.as_object(), c, out);
}

std::string_view stringAt(const json::value& v, std::string_view key) {
  const json::value* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_string() ? std::string_view(f->as_string()) : std::string_view();
}

bool hasRef(const json::value& v) { return v.is_object() && v.as_object().contains("$ref"); }

// The encoder of each plain message (declared above, so that the tables can point at it):
// its table and the number of its vendor_extension field.
#define BERTH_PLAIN_MESSAGE(fn, name, table, ext)                 \
  void fn(const json::value& v, const Ctx& c, std::string& out) { \
    static constexpr MessageDef kDef{name, table, ext};           \
    encodeMessage(kDef, v, c, out);                               \
  }
BERTH_PLAIN_MESSAGE(info, "Info", kInfo, 7)
BERTH_PLAIN_MESSAGE(contact, "Contact", kContact, 4)
BERTH_PLAIN_MESSAGE(license, "License", kLicense, 3)
BERTH_PLAIN_MESSAGE(externalDocs, "ExternalDocs", kExternalDocs, 3)
BERTH_PLAIN_MESSAGE(tag, "Tag", kTag, 4)
BERTH_PLAIN_MESSAGE(pathItem, "PathItem", kPathItem, 10)
BERTH_PLAIN_MESSAGE(operation, "Operation", kOperation, 13)
BERTH_PLAIN_MESSAGE(bodyParameter, "BodyParameter", kBodyParameter, 6)
BERTH_PLAIN_MESSAGE(headerParameter, "HeaderParameterSubSchema", kHeaderOrPathParameter, 22)
BERTH_PLAIN_MESSAGE(pathParameter, "PathParameterSubSchema", kHeaderOrPathParameter, 22)
BERTH_PLAIN_MESSAGE(queryParameter, "QueryParameterSubSchema", kQueryOrFormDataParameter, 23)
BERTH_PLAIN_MESSAGE(formDataParameter, "FormDataParameterSubSchema", kQueryOrFormDataParameter, 23)
BERTH_PLAIN_MESSAGE(primitivesItems, "PrimitivesItems", kPrimitivesItems, 18)
BERTH_PLAIN_MESSAGE(header, "Header", kHeader, 19)
BERTH_PLAIN_MESSAGE(jsonReference, "JsonReference", kJsonReference, 0)
BERTH_PLAIN_MESSAGE(response, "Response", kResponse, 5)
BERTH_PLAIN_MESSAGE(fileSchema, "FileSchema", kFileSchema, 10)
BERTH_PLAIN_MESSAGE(schema, "Schema", kSchema, 31)
BERTH_PLAIN_MESSAGE(xml, "Xml", kXml, 6)
BERTH_PLAIN_MESSAGE(basicSecurity, "BasicAuthenticationSecurity", kBasicSecurity, 3)
BERTH_PLAIN_MESSAGE(apiKeySecurity, "ApiKeySecurity", kApiKeySecurity, 5)
BERTH_PLAIN_MESSAGE(oauth2Implicit, "Oauth2ImplicitSecurity", kOauth2Implicit, 6)
BERTH_PLAIN_MESSAGE(oauth2Password, "Oauth2PasswordSecurity", kOauth2TokenFlow, 6)
BERTH_PLAIN_MESSAGE(oauth2Application, "Oauth2ApplicationSecurity", kOauth2TokenFlow, 6)
BERTH_PLAIN_MESSAGE(oauth2AccessCode, "Oauth2AccessCodeSecurity", kOauth2AccessCode, 7)
#undef BERTH_PLAIN_MESSAGE

// Maps: repeated Named<X> additional_properties = 1.
void definitions(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "Definitions", 1, schema);
}
void properties(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "Properties", 1, schema);
}
void parameterDefinitions(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "ParameterDefinitions", 1, parameter);
}
void responseDefinitions(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "ResponseDefinitions", 1, response);
}
void securityDefinitions(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "SecurityDefinitions", 1, securityDefinitionsItem);
}
void headers(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "Headers", 1, header);
}
void examples(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "Examples", 1, anyValue);
}
// NamedString's value is a string, which is on the wire what a message's bytes are.
void oauth2Scopes(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "Oauth2Scopes", 1, [](const json::value& s, const Ctx& c2, std::string& o) {
    if (s.is_string())
      o.append(s.as_string());
    else
      c2.skip("Oauth2Scopes", "<not a string>");
  });
}
// SecurityRequirement: name → StringArray {repeated string value = 1}.
void securityRequirement(const json::value& v, const Ctx& c, std::string& out) {
  namedPairs(v, c, out, "SecurityRequirement", 1,
             [](const json::value& a, const Ctx& c2, std::string& o) {
               putField(o, Field{"value", 1, K::kStrings}, a, c2, "StringArray");
             });
}

// Paths and Responses mix vendor extensions with named entries at different numbers.
void paths(const json::value& v, const Ctx& c, std::string& out) {
  if (!v.is_object()) return c.skip("Paths", "<not an object>");
  for (const auto& kv : v.as_object()) {
    if (isExtension(kv.key())) {
      vendorExtension(out, 1, kv.key(), kv.value(), c);
      continue;
    }
    namedPair(out, 2, kv.key(), pathItem, kv.value(), c);
  }
}
void responses(const json::value& v, const Ctx& c, std::string& out) {
  if (!v.is_object()) return c.skip("Responses", "<not an object>");
  for (const auto& kv : v.as_object()) {
    if (isExtension(kv.key())) {
      vendorExtension(out, 2, kv.key(), kv.value(), c);
      continue;
    }
    namedPair(out, 1, kv.key(), responseValue, kv.value(), c);
  }
}

// One-of wrappers.
void parametersItem(const json::value& v, const Ctx& c, std::string& out) {
  if (hasRef(v)) return putMessage(out, 2, jsonReference, v, c);
  putMessage(out, 1, parameter, v, c);
}
void parameter(const json::value& v, const Ctx& c, std::string& out) {
  if (stringAt(v, "in") == "body") return putMessage(out, 1, bodyParameter, v, c);
  putMessage(out, 2, nonBodyParameter, v, c);
}
void nonBodyParameter(const json::value& v, const Ctx& c, std::string& out) {
  std::string_view in = stringAt(v, "in");
  if (in == "header") return putMessage(out, 1, headerParameter, v, c);
  if (in == "formData") return putMessage(out, 2, formDataParameter, v, c);
  if (in == "query") return putMessage(out, 3, queryParameter, v, c);
  if (in == "path") return putMessage(out, 4, pathParameter, v, c);
  c.skip("NonBodyParameter", "in");
}
void responseValue(const json::value& v, const Ctx& c, std::string& out) {
  if (hasRef(v)) return putMessage(out, 2, jsonReference, v, c);
  putMessage(out, 1, response, v, c);
}
void schemaItem(const json::value& v, const Ctx& c, std::string& out) {
  if (stringAt(v, "type") == "file") return putMessage(out, 2, fileSchema, v, c);
  putMessage(out, 1, schema, v, c);
}
void securityDefinitionsItem(const json::value& v, const Ctx& c, std::string& out) {
  std::string_view type = stringAt(v, "type");
  std::string_view flow = stringAt(v, "flow");
  if (type == "basic") return putMessage(out, 1, basicSecurity, v, c);
  if (type == "apiKey") return putMessage(out, 2, apiKeySecurity, v, c);
  if (type == "oauth2" && flow == "implicit") return putMessage(out, 3, oauth2Implicit, v, c);
  if (type == "oauth2" && flow == "password") return putMessage(out, 4, oauth2Password, v, c);
  if (type == "oauth2" && flow == "application") {
    return putMessage(out, 5, oauth2Application, v, c);
  }
  if (type == "oauth2" && flow == "accessCode") return putMessage(out, 6, oauth2AccessCode, v, c);
  c.skip("SecurityDefinitionsItem", "type");
}
// TypeItem {repeated string value = 1}: "type" is a string or an array of them.
void typeItem(const json::value& v, const Ctx& c, std::string& out) {
  if (v.is_string()) return wire::putBytesField(out, 1, v.as_string());
  putField(out, Field{"type", 1, K::kStrings}, v, c, "TypeItem");
}
// ItemsItem {repeated Schema schema = 1}: "items" is a schema or an array of them.
void itemsItem(const json::value& v, const Ctx& c, std::string& out) {
  if (v.is_array()) {
    for (const auto& e : v.as_array()) putMessage(out, 1, schema, e, c);
    return;
  }
  putMessage(out, 1, schema, v, c);
}
// AdditionalPropertiesItem: one-of {Schema schema = 1; bool boolean = 2}; a one-of arm is sent
// even when it holds false.
void additionalPropertiesItem(const json::value& v, const Ctx& c, std::string& out) {
  if (v.is_bool()) return wire::putVarintField(out, 2, v.as_bool() ? 1 : 0);
  putMessage(out, 1, schema, v, c);
}

}  // namespace

std::string encodeGnosticV2(const json::object& swagger, std::vector<std::string>* skipped) {
  std::string out;
  encodeObject(MessageDef{"Document", kDocument, 16}, swagger, Ctx{skipped}, out);
  return out;
}

}  // namespace berth::apiserver::openapi
