// The CEL types and values of schema nodes for x-kubernetes-validations, after upstream's
// model.SchemaDeclType and UnstructuredToVal, and the structural rule that rules sit only on the
// schema's spine (never under allOf/anyOf/oneOf/not).
#include <cmath>
#include <set>

#include "apiserver/crd/rules.h"
#include "cel/k8s_types.h"
#include "core/kinds/internal.h"

namespace berth::apiserver::crd {

namespace json = boost::json;

namespace {

using K = cel::Type::K;
constexpr int kMaxDepth = 64;

const std::set<std::string, std::less<>> kReserved = {
    "true",     "false",   "null",      "in",       "as",  "break",  "const",
    "continue", "else",    "for",       "function", "if",  "import", "let",
    "loop",     "package", "namespace", "return",   "var", "void",   "while"};

}  // namespace

std::optional<std::string> escapeCelName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return std::nullopt;
  if (kReserved.count(name)) return "__" + std::string(name) + "__";
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '_' && i + 1 < name.size() && name[i + 1] == '_') {
      out += "__underscores__";
      ++i;
    } else if (c == '.') {
      out += "__dot__";
    } else if (c == '-') {
      out += "__dash__";
    } else if (c == '/') {
      out += "__slash__";
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

namespace {

// The root of a resource: apiVersion, kind and metadata.name/generateName are always there.
Schema withTypeAndObjectMeta(const Schema& s) {
  Schema out = s;
  Schema str;
  str.type = "string";
  out.properties["apiVersion"] = str;
  out.properties["kind"] = str;
  Schema meta;
  meta.type = "object";
  meta.properties["name"] = str;
  meta.properties["generateName"] = str;
  out.properties["metadata"] = meta;
  return out;
}

std::optional<cel::Type> typeOf(const Schema& s, bool resourceRoot, int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  if (s.intOrString) return cel::Type::of(K::kDyn);
  if (resourceRoot && s.type == "object") {
    return typeOf(withTypeAndObjectMeta(s), false, depth);
  }
  if (s.type == "array") {
    if (!s.items) return std::nullopt;
    auto elem = typeOf(*s.items, s.items->embeddedResource, depth + 1);
    if (!elem) return std::nullopt;
    return cel::Type::listOf(*elem);
  }
  if (s.type == "object") {
    if (s.additionalProperties) {
      auto value =
          typeOf(*s.additionalProperties, s.additionalProperties->embeddedResource, depth + 1);
      if (!value) return std::nullopt;
      return cel::Type::mapOf(*value);
    }
    auto fields = std::make_shared<std::map<std::string, cel::Type>>();
    for (const auto& [name, prop] : s.properties) {
      auto t = typeOf(prop, prop.embeddedResource, depth + 1);
      auto escaped = escapeCelName(name);
      if (t && escaped) (*fields)[*escaped] = *t;
    }
    return cel::Type{K::kObject, "object", std::move(fields), nullptr};
  }
  if (s.type == "string") {
    // Upstream types formatted strings: date-time and date as timestamps, duration, byte.
    if (s.format == "date-time" || s.format == "date") return cel::Type::of(K::kTimestamp);
    if (s.format == "duration") return cel::Type::of(K::kDuration);
    if (s.format == "byte") return cel::Type::of(K::kBytes);
    return cel::Type::of(K::kString);
  }
  if (s.type == "boolean") return cel::Type::of(K::kBool);
  if (s.type == "number") return cel::Type::of(K::kDouble);
  if (s.type == "integer") return cel::Type::of(K::kInt);
  return std::nullopt;
}

cel::Value valueOf(const Schema& s, const json::value& v, bool resourceRoot, int depth);

std::optional<std::string> decodeBase64(const std::string& in) {
  std::string out;
  int bits = 0, acc = 0;
  size_t pad = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (d < 0 || pad) return std::nullopt;
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if ((in.size() % 4) != 0 || pad > 2) return std::nullopt;
  return out;
}

// A string of a typed format as its CEL value; an error value when it does not parse (the rule
// using it then fails), nullopt for formats CEL sees as plain strings.
std::optional<cel::Value> formattedValue(const std::string& format, const std::string& text) {
  if (format == "date-time") {
    if (auto t = cel::detail::parseTimestamp(text)) return *t;
    return cel::Value::error("Failed to decode date-time: " + text);
  }
  if (format == "date") {
    if (auto t = cel::detail::parseTimestamp(text + "T00:00:00Z"); t && text.size() == 10)
      return *t;
    return cel::Value::error("Failed to decode date: " + text);
  }
  if (format == "duration") {
    if (auto d = cel::detail::parseGoDuration(text)) return cel::Value::duration(*d);
    return cel::Value::error("Failed to decode duration: " + text);
  }
  if (format == "byte") {
    if (auto b = decodeBase64(text)) return cel::Value::bytes(*b);
    return cel::Value::error("Failed to decode byte: " + text);
  }
  return std::nullopt;
}

cel::Value plainValue(const json::value& v, int depth) {
  // Untyped (int-or-string, or below it): JSON's own types, owned.
  if (depth > kMaxDepth) return cel::Value();
  if (v.is_array()) {
    cel::ValueList items;
    for (const auto& e : v.get_array()) items.push_back(plainValue(e, depth + 1));
    return cel::Value::list(std::move(items));
  }
  if (v.is_object()) {
    cel::ValueMap entries;
    for (const auto& [k, e] : v.get_object())
      entries.emplace_back(cel::Value::string(std::string(k)), plainValue(e, depth + 1));
    return cel::Value::map(std::move(entries));
  }
  return cel::Value::fromJson(v);
}

cel::Value valueOf(const Schema& s, const json::value& v, bool resourceRoot, int depth) {
  if (v.is_null() || depth > kMaxDepth) return cel::Value();
  if (s.intOrString || s.type.empty()) return plainValue(v, depth);
  if (s.type == "string" && v.is_string() && !s.format.empty()) {
    if (auto f = formattedValue(s.format, std::string(v.get_string()))) return *f;
  }
  if (s.type == "integer") {
    if (v.is_int64()) return cel::Value::integer(v.get_int64());
    if (v.is_uint64()) return cel::Value::uinteger(v.get_uint64());
    if (v.is_double()) return cel::Value::integer(static_cast<int64_t>(v.get_double()));
  }
  if (s.type == "number") {
    if (v.is_int64()) return cel::Value::dbl(static_cast<double>(v.get_int64()));
    if (v.is_uint64()) return cel::Value::dbl(static_cast<double>(v.get_uint64()));
  }
  if (v.is_array()) {
    cel::ValueList items;
    for (const auto& e : v.get_array()) {
      items.push_back(s.items ? valueOf(*s.items, e, s.items->embeddedResource, depth + 1)
                              : plainValue(e, depth + 1));
    }
    return cel::Value::list(std::move(items));
  }
  if (v.is_object()) {
    cel::ValueMap entries;
    const json::object& o = v.get_object();
    if (s.additionalProperties) {
      for (const auto& [k, e] : o) {
        entries.emplace_back(cel::Value::string(std::string(k)),
                             valueOf(*s.additionalProperties, e,
                                     s.additionalProperties->embeddedResource, depth + 1));
      }
      return cel::Value::map(std::move(entries));
    }
    const Schema* node = &s;
    Schema rooted;
    if (resourceRoot) {
      rooted = withTypeAndObjectMeta(s);
      node = &rooted;
    }
    for (const auto& [k, e] : o) {
      auto it = node->properties.find(std::string_view(k));
      if (it == node->properties.end()) continue;  // unknown fields are not exposed
      auto escaped = escapeCelName(k);
      if (!escaped) continue;
      entries.emplace_back(cel::Value::string(*escaped),
                           valueOf(it->second, e, it->second.embeddedResource, depth + 1));
    }
    return cel::Value::map(std::move(entries));
  }
  return cel::Value::fromJson(v);
}

}  // namespace

std::optional<cel::Type> celTypeOf(const Schema& s, bool resourceRoot) {
  return typeOf(s, resourceRoot, 0);
}

cel::Value celValueOf(const Schema& s, const json::value& v, bool resourceRoot) {
  return valueOf(s, v, resourceRoot, 0);
}

namespace {

// validateNestedValueValidation's rule: a junctor's schemas (and the schemas below them) carry
// no x-kubernetes-validations.
void forbidInNested(const json::object& nested, const std::string& path, int depth,
                    FieldErrors& errs) {
  if (depth > kMaxDepth) return;
  if (const json::value* r = nested.if_contains("x-kubernetes-validations");
      r && r->is_array() && !r->get_array().empty()) {
    core::kinds::detail::addForbidden(errs, path + ".x-kubernetes-validations",
                                      "must be empty to be structural");
  }
  forbidNestedRulesAt(nested, path, depth + 1, errs);
  if (const json::value* items = nested.if_contains("items"); items && items->is_object())
    forbidInNested(items->get_object(), path + ".items", depth + 1, errs);
  if (const json::value* ap = nested.if_contains("additionalProperties"); ap && ap->is_object())
    forbidInNested(ap->get_object(), path + ".additionalProperties", depth + 1, errs);
  if (const json::value* props = nested.if_contains("properties"); props && props->is_object()) {
    for (const auto& [name, sub] : props->get_object()) {
      if (sub.is_object())
        forbidInNested(sub.get_object(), path + ".properties[" + std::string(name) + "]", depth + 1,
                       errs);
    }
  }
}

}  // namespace

void forbidNestedRulesAt(const json::object& raw, const std::string& path, int depth,
                         FieldErrors& errs) {
  for (const char* junctor : {"allOf", "anyOf", "oneOf"}) {
    const json::value* list = raw.if_contains(junctor);
    if (!list || !list->is_array()) continue;
    for (size_t i = 0; i < list->get_array().size(); ++i) {
      const json::value& nested = list->get_array()[i];
      if (nested.is_object())
        forbidInNested(nested.get_object(),
                       (path.empty() ? std::string(junctor) : path + "." + junctor) + "[" +
                           std::to_string(i) + "]",
                       depth, errs);
    }
  }
  if (const json::value* n = raw.if_contains("not"); n && n->is_object())
    forbidInNested(n->get_object(), path.empty() ? "not" : path + ".not", depth, errs);
}

void forbidNestedRules(const json::object& raw, const std::string& path, FieldErrors& errs) {
  forbidNestedRulesAt(raw, path, 0, errs);
}

}  // namespace berth::apiserver::crd
