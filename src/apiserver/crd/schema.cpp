// Structural schemas: compile, validate, default, prune. Messages follow kube-openapi's
// validate package (errors.go) as apiextensions-apiserver converts them into field errors.
#include "apiserver/crd/schema.h"

#include "apiserver/crd/rules.h"

#include <cmath>
#include <cstdio>

#include <re2/re2.h>

#include "core/kinds/internal.h"

namespace berth::apiserver::crd {
namespace {

namespace json = boost::json;
using core::kinds::detail::addForbidden;
using core::kinds::detail::addInvalid;
using core::kinds::detail::addNotSupported;
using core::kinds::detail::addRequired;
using core::kinds::detail::addTooLong;
using core::kinds::detail::goQuote;

// A value as Go's %v prints what it decodes to: floats as 1.5 (not JSON's 1.5E0).
std::string formatNumber(double d);
std::string formatValue(const json::value& v) {
  if (v.is_double()) return formatNumber(v.get_double());
  return core::kinds::detail::formatValue(v);
}

constexpr int kMaxDepth = 64;  // deeper schemas are rejected; documents deeper are not walked

const std::vector<std::string> kTypes = {"array",  "boolean", "integer",
                                         "number", "object",  "string"};

std::string childPath(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}
std::string indexPath(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// go-openapi's %v of a float64 bound: 10 → "10", 1.5 → "1.5".
std::string formatNumber(double d) {
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

// The JSON type name of a value as kube-openapi reports it.
std::string_view typeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "null";
}

std::optional<double> asNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

std::optional<int64_t> intField(const json::object& o, std::string_view k, const std::string& path,
                                FieldErrors& errs) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto n = asNumber(*v);
  if (!n || *n < 0 || std::floor(*n) != *n) {
    addInvalid(errs, childPath(path, k), formatValue(*v), "must be a non-negative integer");
    return std::nullopt;
  }
  return static_cast<int64_t>(*n);
}

bool boolField(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && v->is_bool() && v->get_bool();
}

void compileInto(Schema& s, const json::object& raw, const std::string& path, int depth,
                 FieldErrors& errs);

std::shared_ptr<const Schema> compileChild(const json::value& raw, const std::string& path,
                                           int depth, FieldErrors& errs) {
  auto child = std::make_shared<Schema>();
  if (!raw.is_object()) {
    addInvalid(errs, path, formatValue(raw), "must be a schema object");
    return child;
  }
  compileInto(*child, raw.get_object(), path, depth + 1, errs);
  return child;
}

// The node's type and the flags that stand in for one.
void compileType(Schema& s, const json::object& raw, const std::string& path, FieldErrors& errs) {
  if (raw.contains("$ref")) addForbidden(errs, childPath(path, "$ref"), "$ref is not supported");
  if (const json::value* t = raw.if_contains("type")) {
    if (t->is_string()) s.type = std::string(t->get_string());
    if (!t->is_string() || std::find(kTypes.begin(), kTypes.end(), s.type) == kTypes.end()) {
      addNotSupported(errs, childPath(path, "type"), formatValue(*t), kTypes);
    }
  }
  s.nullable = boolField(raw, "nullable");
  s.intOrString = boolField(raw, "x-kubernetes-int-or-string");
  s.embeddedResource = boolField(raw, "x-kubernetes-embedded-resource");
  if (const json::value* p = raw.if_contains("x-kubernetes-preserve-unknown-fields")) {
    if (!p->is_bool() || !p->get_bool()) {
      addInvalid(errs, childPath(path, "x-kubernetes-preserve-unknown-fields"), formatValue(*p),
                 "must be true or undefined");
    }
    s.preserveUnknownFields = p->is_bool() && p->get_bool();
  }
}

// properties, items and additionalProperties, each compiled one level deeper.
void compileChildren(Schema& s, const json::object& raw, const std::string& path, int depth,
                     FieldErrors& errs) {
  if (const json::value* props = raw.if_contains("properties")) {
    if (!props->is_object()) {
      addInvalid(errs, childPath(path, "properties"), formatValue(*props), "must be an object");
    } else {
      for (const auto& [name, sub] : props->get_object()) {
        std::string p = childPath(path, "properties") + "[" + std::string(name) + "]";
        auto child = compileChild(sub, p, depth, errs);
        s.properties.emplace(std::string(name), *child);
      }
    }
  }
  if (const json::value* items = raw.if_contains("items")) {
    s.items = compileChild(
        items->is_array() && items->get_array().size() == 1 ? items->get_array()[0] : *items,
        childPath(path, "items"), depth, errs);
  }
  if (const json::value* ap = raw.if_contains("additionalProperties")) {
    if (ap->is_bool()) {
      s.additionalPropertiesAllowed = ap->get_bool();
    } else {
      s.additionalProperties =
          compileChild(*ap, childPath(path, "additionalProperties"), depth, errs);
    }
    if (!s.properties.empty()) {
      addForbidden(errs, childPath(path, "additionalProperties"),
                   "additionalProperties and properties are mutual exclusive");
    }
  }
}

// What a value must satisfy: required fields, enum, bounds, lengths, counts, format.
void compileValueConstraints(Schema& s, const json::object& raw, const std::string& path,
                             FieldErrors& errs) {
  if (const json::value* req = raw.if_contains("required"); req && req->is_array()) {
    for (const auto& r : req->get_array())
      if (r.is_string()) s.required.emplace_back(r.get_string());
  }
  if (const json::value* e = raw.if_contains("enum"); e && e->is_array()) {
    s.enumValues.assign(e->get_array().begin(), e->get_array().end());
  }
  if (const json::value* v = raw.if_contains("minimum")) s.minimum = asNumber(*v);
  if (const json::value* v = raw.if_contains("maximum")) s.maximum = asNumber(*v);
  s.exclusiveMinimum = boolField(raw, "exclusiveMinimum");
  s.exclusiveMaximum = boolField(raw, "exclusiveMaximum");
  s.minLength = intField(raw, "minLength", path, errs);
  s.maxLength = intField(raw, "maxLength", path, errs);
  s.minItems = intField(raw, "minItems", path, errs);
  s.maxItems = intField(raw, "maxItems", path, errs);
  s.minProperties = intField(raw, "minProperties", path, errs);
  s.maxProperties = intField(raw, "maxProperties", path, errs);
  if (const json::value* f = raw.if_contains("format"); f && f->is_string())
    s.format = std::string(f->get_string());
}

// The pattern, compiled once here (RE2: linear time on any input).
void compilePattern(Schema& s, const json::object& raw, const std::string& path,
                    FieldErrors& errs) {
  if (const json::value* p = raw.if_contains("pattern"); p && p->is_string()) {
    s.pattern = std::string(p->get_string());
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(s.pattern, options);
    if (re->ok()) {
      s.patternRe = std::move(re);
    } else {
      addInvalid(errs, childPath(path, "pattern"), goQuote(s.pattern),
                 "must be a valid regular expression, but isn't: " + re->error());
    }
  }
}

void checkStructural(const Schema& s, const std::string& path, int depth, FieldErrors& errs) {
  // Structural: every node says its type, unless it is int-or-string or preserves anything.
  if (s.type.empty() && !s.intOrString && !s.preserveUnknownFields) {
    std::string what = !s.properties.empty() ? "specified object fields"
                       : s.items             ? "specified array items"
                                             : "a structural schema";
    if (!s.properties.empty() || s.items || depth > 0) {
      addRequired(errs, childPath(path, "type"), "must not be empty for " + what);
    }
  }
  if (s.type == "array" && !s.items) {
    addRequired(errs, childPath(path, "items"), "must be specified");
  }
}

// default and the x-kubernetes-list-* markers.
void compileDefaultAndListType(Schema& s, const json::object& raw) {
  if (const json::value* d = raw.if_contains("default")) s.defaultValue = *d;
  if (const json::value* lt = raw.if_contains("x-kubernetes-list-type"); lt && lt->is_string())
    s.listType = std::string(lt->get_string());
  if (const json::value* keys = raw.if_contains("x-kubernetes-list-map-keys");
      keys && keys->is_array()) {
    for (const auto& k : keys->get_array())
      if (k.is_string()) s.listMapKeys.emplace_back(k.get_string());
  }
}

ValidationRule validationRuleOf(const json::value& r) {
  ValidationRule rule;
  if (const json::object* o = r.if_object()) {
    auto str = [&](std::string_view k) {
      const json::value* v = o->if_contains(k);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    rule.rule = str("rule");
    rule.message = str("message");
    rule.messageExpression = str("messageExpression");
    rule.reason = str("reason");
    rule.hasReason = o->contains("reason");
    rule.fieldPath = str("fieldPath");
    if (const json::value* v = o->if_contains("optionalOldSelf"); v && v->is_bool())
      rule.optionalOldSelf = v->get_bool();
  }
  return rule;
}

void compileRules(Schema& s, const json::object& raw, const std::string& path, FieldErrors& errs) {
  if (const json::value* rules = raw.if_contains("x-kubernetes-validations")) {
    if (!rules->is_array()) {
      addInvalid(errs, childPath(path, "x-kubernetes-validations"), formatValue(*rules),
                 "must be an array");
    } else {
      for (const auto& r : rules->get_array()) {
        s.rules.push_back(validationRuleOf(r));
      }
    }
  }
}

void compileInto(Schema& s, const json::object& raw, const std::string& path, int depth,
                 FieldErrors& errs) {
  if (depth > kMaxDepth) {
    addForbidden(errs, path, "schema is nested too deeply");
    return;
  }
  compileType(s, raw, path, errs);
  compileChildren(s, raw, path, depth, errs);
  compileValueConstraints(s, raw, path, errs);
  forbidNestedRules(raw, path, errs);
  compilePattern(s, raw, path, errs);
  checkStructural(s, path, depth, errs);
  compileDefaultAndListType(s, raw);
  compileRules(s, raw, path, errs);
}

void typeError(const std::string& path, std::string_view expected, std::string_view actual,
               FieldErrors& errs) {
  std::string shown = path.empty() ? "." : path;
  std::string detail =
      shown + " in body must be of type " + std::string(expected) + ": " + goQuote(actual);
  addInvalid(errs, path, goQuote(actual), detail);
  errs.back().reason = "FieldValueTypeInvalid";
}

bool typeMatches(std::string_view type, const json::value& v) {
  if (type == "integer") {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::floor(v.get_double()) == v.get_double();
  }
  if (type == "number") return v.is_int64() || v.is_uint64() || v.is_double();
  return typeName(v) == type;
}

void validateString(const Schema& s, const json::string& str, const std::string& path,
                    FieldErrors& errs) {
  // Lengths count characters (runes) as go-openapi does, not bytes.
  int64_t runes = 0;
  for (unsigned char c : str) runes += (c & 0xC0) != 0x80;
  std::string shown = path.empty() ? "." : path;
  if (s.maxLength && runes > *s.maxLength) addTooLong(errs, path, *s.maxLength);
  if (s.minLength && runes < *s.minLength) {
    addInvalid(
        errs, path, goQuote(str),
        shown + " in body should be at least " + std::to_string(*s.minLength) + " chars long");
  }
  if (s.patternRe) {
    // Unanchored, as Go's regexp.MatchString.
    if (!RE2::PartialMatch(re2::StringPiece(str.data(), str.size()), *s.patternRe)) {
      addInvalid(errs, path, goQuote(str), shown + " in body should match '" + s.pattern + "'");
    }
  }
}

void validateNumber(const Schema& s, const json::value& v, double n, const std::string& path,
                    FieldErrors& errs) {
  std::string shown = path.empty() ? "." : path;
  if (s.maximum && (s.exclusiveMaximum ? n >= *s.maximum : n > *s.maximum)) {
    addInvalid(errs, path, formatValue(v),
               shown + " in body should be less than " +
                   (s.exclusiveMaximum ? "" : "or equal to ") + formatNumber(*s.maximum));
  }
  if (s.minimum && (s.exclusiveMinimum ? n <= *s.minimum : n < *s.minimum)) {
    addInvalid(errs, path, formatValue(v),
               shown + " in body should be greater than " +
                   (s.exclusiveMinimum ? "" : "or equal to ") + formatNumber(*s.minimum));
  }
}

void validateEnum(const Schema& s, const json::value& v, const std::string& path,
                  FieldErrors& errs) {
  if (s.enumValues.empty()) return;
  for (const auto& e : s.enumValues) {
    if (e == v) return;
    auto a = asNumber(e), b = asNumber(v);
    if (a && b && *a == *b) return;
  }
  std::vector<std::string> allowed;
  for (const auto& e : s.enumValues)
    allowed.push_back(e.is_string() ? std::string(e.get_string()) : json::serialize(e));
  addNotSupported(errs, path, formatValue(v), allowed);
}

void validateAt(const Schema& s, const json::value& v, const std::string& path, int depth,
                FieldErrors& errs) {
  if (depth > kMaxDepth) return;
  if (v.is_null()) {
    if (s.nullable || (s.type.empty() && !s.intOrString)) return;
    typeError(path, s.intOrString ? "integer" : s.type, "null", errs);
    return;
  }
  if (s.intOrString) {
    if (!v.is_string() && !typeMatches("integer", v)) {
      typeError(path, "integer", typeName(v), errs);
      typeError(path, "string", typeName(v), errs);
      return;
    }
  } else if (!s.type.empty() && !typeMatches(s.type, v)) {
    typeError(path, s.type, typeName(v), errs);
    return;
  }
  validateEnum(s, v, path, errs);
  if (v.is_string()) validateString(s, v.get_string(), path, errs);
  if (auto n = asNumber(v)) validateNumber(s, v, *n, path, errs);
  if (v.is_array()) {
    const auto& arr = v.get_array();
    std::string shown = path.empty() ? "." : path;
    if (s.maxItems && static_cast<int64_t>(arr.size()) > *s.maxItems) {
      errs.push_back({"FieldValueTooMany",
                      "Too many: " + std::to_string(arr.size()) + ": must have at most " +
                          std::to_string(*s.maxItems) + " items",
                      path});
    }
    if (s.minItems && static_cast<int64_t>(arr.size()) < *s.minItems) {
      addInvalid(errs, path, formatValue(v),
                 shown + " in body should have at least " + std::to_string(*s.minItems) + " items");
    }
    if (s.items) {
      for (size_t i = 0; i < arr.size(); ++i)
        validateAt(*s.items, arr[i], indexPath(path, i), depth + 1, errs);
    }
  }
  if (v.is_object()) {
    const auto& obj = v.get_object();
    std::string shown = path.empty() ? "." : path;
    if (s.maxProperties && static_cast<int64_t>(obj.size()) > *s.maxProperties) {
      addInvalid(errs, path, formatValue(v),
                 shown + " in body should have at most " + std::to_string(*s.maxProperties) +
                     " properties");
    }
    if (s.minProperties && static_cast<int64_t>(obj.size()) < *s.minProperties) {
      addInvalid(errs, path, formatValue(v),
                 shown + " in body should have at least " + std::to_string(*s.minProperties) +
                     " properties");
    }
    for (const auto& r : s.required) {
      if (!obj.contains(r)) addRequired(errs, childPath(path, r));
    }
    if (s.embeddedResource) {
      // An embedded object names its own type (upstream's validateEmbeddedResource).
      for (const char* k : {"apiVersion", "kind"}) {
        const json::value* f = obj.if_contains(k);
        if (f == nullptr || !f->is_string() || f->get_string().empty())
          addRequired(errs, childPath(path, k), "must not be empty");
      }
    }
    for (const auto& [k, child] : obj) {
      std::string p = childPath(path, k);
      if (auto it = s.properties.find(std::string_view(k)); it != s.properties.end()) {
        validateAt(it->second, child, p, depth + 1, errs);
      } else if (s.additionalProperties) {
        validateAt(*s.additionalProperties, child, p, depth + 1, errs);
      } else if (!s.additionalPropertiesAllowed && !s.preserveUnknownFields) {
        addForbidden(errs, p, "additional properties are not allowed");
      }
    }
  }
}

void defaultAt(const Schema& s, json::value& v, int depth) {
  if (depth > kMaxDepth) return;
  if (v.is_object()) {
    auto& obj = v.get_object();
    for (const auto& [name, child] : s.properties) {
      json::value* field = obj.if_contains(name);
      if (child.defaultValue && (field == nullptr || (field->is_null() && !child.nullable))) {
        obj[name] = *child.defaultValue;
        field = obj.if_contains(name);
      }
      if (field != nullptr) defaultAt(child, *field, depth + 1);
    }
    if (s.additionalProperties) {
      for (auto& [k, child] : obj) defaultAt(*s.additionalProperties, child, depth + 1);
    }
  } else if (v.is_array() && s.items) {
    for (auto& e : v.get_array()) defaultAt(*s.items, e, depth + 1);
  }
}

bool keptByMeta(std::string_view key, bool resourceLevel) {
  return resourceLevel && (key == "apiVersion" || key == "kind" || key == "metadata");
}

// Walks like prune; `drop` decides whether unknown fields are removed or only reported.
void pruneAt(const Schema& s, json::value& v, bool resourceLevel, const std::string& path,
             int depth, std::vector<std::string>* report, bool drop) {
  if (depth > kMaxDepth) return;
  if (v.is_object()) {
    auto& obj = v.get_object();
    std::vector<std::string> unknown;
    for (auto& [k, child] : obj) {
      std::string p = childPath(path, k);
      if (keptByMeta(k, resourceLevel)) continue;
      if (auto it = s.properties.find(std::string_view(k)); it != s.properties.end()) {
        pruneAt(it->second, child, it->second.embeddedResource, p, depth + 1, report, drop);
      } else if (s.additionalProperties) {
        pruneAt(*s.additionalProperties, child, s.additionalProperties->embeddedResource, p,
                depth + 1, report, drop);
      } else if (!s.preserveUnknownFields) {
        unknown.emplace_back(k);
        if (report) report->push_back(p);
      }
    }
    if (drop)
      for (const auto& k : unknown) obj.erase(k);
  } else if (v.is_array() && s.items) {
    auto& arr = v.get_array();
    for (size_t i = 0; i < arr.size(); ++i)
      pruneAt(*s.items, arr[i], s.items->embeddedResource, indexPath(path, i), depth + 1, report,
              drop);
  }
}

}  // namespace

std::shared_ptr<const Schema> compileSchema(const json::object& raw, const std::string& path,
                                            FieldErrors& errs) {
  size_t before = errs.size();
  auto s = std::make_shared<Schema>();
  compileInto(*s, raw, path, 0, errs);
  if (!s->type.empty() && s->type != "object") {
    addInvalid(errs, childPath(path, "type"), goQuote(s->type), "must be object at the root");
  }
  if (s->type.empty() && !s->preserveUnknownFields) {
    addRequired(errs, childPath(path, "type"), "must not be empty at the root");
  }
  // Defaults must themselves be valid (upstream validates them against their schema).
  std::function<void(const Schema&, const std::string&, int)> checkDefaults =
      [&](const Schema& node, const std::string& p, int depth) {
        if (depth > kMaxDepth) return;
        if (node.defaultValue) {
          FieldErrors derrs;
          validateAt(node, *node.defaultValue, "", 0, derrs);
          for (auto& e : derrs)
            addInvalid(errs, childPath(p, "default"), formatValue(*node.defaultValue), e.message);
        }
        for (const auto& [name, child] : node.properties)
          checkDefaults(child, childPath(p, "properties") + "[" + name + "]", depth + 1);
        if (node.items) checkDefaults(*node.items, childPath(p, "items"), depth + 1);
        if (node.additionalProperties)
          checkDefaults(*node.additionalProperties, childPath(p, "additionalProperties"),
                        depth + 1);
      };
  checkDefaults(*s, path, 0);
  if (errs.size() != before) return nullptr;
  return s;
}

void validateValue(const Schema& schema, const json::value& value, const std::string& path,
                   FieldErrors& errs) {
  validateAt(schema, value, path, 0, errs);
}

FieldErrors validateObject(const Schema& root, const json::value& obj) {
  FieldErrors errs;
  if (!obj.is_object()) {
    typeError("", "object", typeName(obj), errs);
    return errs;
  }
  // apiVersion, kind and metadata are validated by the generic path, not by the schema.
  json::object body = obj.get_object();
  body.erase("apiVersion");
  body.erase("kind");
  body.erase("metadata");
  Schema top = root;
  for (const char* k : {"apiVersion", "kind", "metadata"}) top.properties.erase(k);
  validateAt(top, body, "", 0, errs);
  return errs;
}

void applyDefaults(const Schema& root, json::value& obj) {
  if (!obj.is_object()) return;
  // metadata defaults are not applied (upstream allows them only for name/generateName).
  Schema top = root;
  top.properties.erase("metadata");
  defaultAt(top, obj, 0);
}

void prune(const Schema& root, json::value& obj) { pruneAt(root, obj, true, "", 0, nullptr, true); }

std::vector<std::string> unknownFields(const Schema& root, const json::value& obj) {
  std::vector<std::string> out;
  json::value copy = obj;
  pruneAt(root, copy, true, "", 0, &out, false);
  return out;
}

}  // namespace berth::apiserver::crd
