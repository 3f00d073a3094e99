// Field-error formatting (upstream apimachinery field.Error.ErrorBody) and JSON accessors.
#include <algorithm>
#include <cstdio>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t utf8SeqLen(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (c >= 0xF5) n = 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string makeBody(std::string_view type, std::string_view value, std::string_view detail) {
  std::string s(type);
  if (!value.empty()) {
    s += ": ";
    s += value;
  }
  if (!detail.empty()) {
    s += ": ";
    s += detail;
  }
  return s;
}

void push(FieldErrors& errs, const char* reason, std::string path, std::string message) {
  errs.push_back(StatusCause{reason, std::move(message), std::move(path)});
}

}  // namespace

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8SeqLen(s, i);
      if (n == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string formatStringMap(const json::object* m) {
  if (m == nullptr) return "map[string]string(nil)";
  std::vector<std::pair<std::string, std::string>> kv;
  for (const auto& [k, v] : *m) {
    kv.emplace_back(std::string(k), v.is_string() ? std::string(v.get_string()) : "");
  }
  std::sort(kv.begin(), kv.end());
  std::string s = "map[string]string{";
  for (size_t i = 0; i < kv.size(); ++i) {
    if (i) s += ", ";
    s += goQuote(kv[i].first) + ":" + goQuote(kv[i].second);
  }
  return s + "}";
}

std::string formatIntOrString(const json::value& v) {
  if (v.is_string()) {
    return "intstr.IntOrString{Type:1, IntVal:0, StrVal:" + goQuote(v.get_string()) + "}";
  }
  std::string n = v.is_int64()    ? std::to_string(v.get_int64())
                  : v.is_uint64() ? std::to_string(v.get_uint64())
                                  : "0";
  return "intstr.IntOrString{Type:0, IntVal:" + n + ", StrVal:\"\"}";
}

std::string formatValue(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return goQuote(v.get_string());
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: return json::serialize(v);
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::null: return "null";
    case json::kind::object: {
      bool allStrings = true;
      for (const auto& [k, e] : v.get_object()) allStrings = allStrings && e.is_string();
      if (allStrings) return formatStringMap(&v.get_object());
      return json::serialize(v);
    }
    default: return json::serialize(v);
  }
}

void addInvalid(FieldErrors& errs, std::string path, std::string_view value,
                std::string_view detail) {
  push(errs, "FieldValueInvalid", std::move(path),
       makeBody("Invalid value", value.empty() ? "\"\"" : value, detail));
}
void addRequired(FieldErrors& errs, std::string path, std::string_view detail) {
  push(errs, "FieldValueRequired", std::move(path), makeBody("Required value", "", detail));
}
void addNotSupported(FieldErrors& errs, std::string path, std::string_view value,
                     const std::vector<std::string>& valid) {
  std::string detail;
  if (!valid.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < valid.size(); ++i) {
      if (i) detail += ", ";
      detail += goQuote(valid[i]);
    }
  }
  push(errs, "FieldValueNotSupported", std::move(path),
       makeBody("Unsupported value", value.empty() ? "\"\"" : value, detail));
}
void addDuplicate(FieldErrors& errs, std::string path, std::string_view value) {
  push(errs, "FieldValueDuplicate", std::move(path), makeBody("Duplicate value", value, ""));
}
void addForbidden(FieldErrors& errs, std::string path, std::string_view detail) {
  push(errs, "FieldValueForbidden", std::move(path), makeBody("Forbidden", "", detail));
}
void addTooLong(FieldErrors& errs, std::string path, int64_t maxBytes) {
  std::string detail = "may not be more than " + std::to_string(maxBytes) +
                       (maxBytes == 1 ? " byte" : " bytes");
  push(errs, "FieldValueTooLong", std::move(path), makeBody("Too long", "", detail));
}
void addNotFound(FieldErrors& errs, std::string path, std::string_view value) {
  push(errs, "FieldValueNotFound", std::move(path), makeBody("Not found", value, ""));
}

// ---- JSON accessors ---------------------------------------------------------------------------

const json::value* getVal(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && !v->is_null() ? v : nullptr;
}
const json::object* getObj(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_object() : nullptr;
}
json::object* getObjMut(json::object& o, std::string_view k) {
  json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_object() : nullptr;
}
const json::array* getArr(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_array() : nullptr;
}
json::array* getArrMut(json::object& o, std::string_view k) {
  json::value* v = o.if_contains(k);
  return v != nullptr ? v->if_array() : nullptr;
}
std::string_view getStr(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}
bool hasStr(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && v->is_string();
}
std::optional<int64_t> getInt(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    uint64_t u = v->get_uint64();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  if (v->is_double()) {
    double d = v->get_double();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}
std::optional<bool> getBool(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}
bool has(const json::object& o, std::string_view k) { return getVal(o, k) != nullptr; }

json::object& ensureObj(json::object& o, std::string_view k) {
  json::value& v = o[k];
  if (!v.is_object()) v = json::object();
  return v.get_object();
}
json::array& ensureArr(json::object& o, std::string_view k) {
  json::value& v = o[k];
  if (!v.is_array()) v = json::array();
  return v.get_array();
}
void setDefault(json::object& o, std::string_view k, json::value v) {
  json::value* cur = o.if_contains(k);
  if (cur == nullptr || cur->is_null()) o[k] = std::move(v);
}

bool sameJson(const json::value* a, const json::value* b) {
  bool aNull = a == nullptr || a->is_null();
  bool bNull = b == nullptr || b->is_null();
  if (aNull || bNull) return aNull && bNull;
  if (a->is_object() && b->is_object()) {
    const auto& ao = a->get_object();
    const auto& bo = b->get_object();
    for (const auto& [k, v] : ao) {
      if (!sameJson(&v, bo.if_contains(k))) return false;
    }
    for (const auto& [k, v] : bo) {
      if (!ao.contains(k) && !v.is_null()) return false;
    }
    return true;
  }
  if (a->is_array() && b->is_array()) {
    const auto& aa = a->get_array();
    const auto& ba = b->get_array();
    if (aa.size() != ba.size()) return false;
    for (size_t i = 0; i < aa.size(); ++i) {
      if (!sameJson(&aa[i], &ba[i])) return false;
    }
    return true;
  }
  if (a->is_number() && b->is_number()) {
    if (a->is_double() || b->is_double()) return a->to_number<double>() == b->to_number<double>();
    if (a->is_int64() && b->is_int64()) return a->get_int64() == b->get_int64();
    return json::serialize(*a) == json::serialize(*b);
  }
  return *a == *b;
}

}  // namespace berth::core::kinds::detail

namespace berth::core::kinds::detail {

std::string formatSelector(const json::object* selector) {
  if (selector == nullptr) return "null";
  std::string s = "v1.LabelSelector{MatchLabels:" + formatStringMap(getObj(*selector, "matchLabels"));
  s += ", MatchExpressions:";
  const json::array* exprs = getArr(*selector, "matchExpressions");
  if (exprs == nullptr) return s + "[]v1.LabelSelectorRequirement(nil)}";
  s += "[]v1.LabelSelectorRequirement{";
  for (size_t i = 0; i < exprs->size(); ++i) {
    const json::object* e = (*exprs)[i].if_object();
    if (i) s += ", ";
    if (e == nullptr) continue;
    s += "v1.LabelSelectorRequirement{Key:" + goQuote(getStr(*e, "key")) +
         ", Operator:" + goQuote(getStr(*e, "operator")) + ", Values:";
    const json::array* vals = getArr(*e, "values");
    if (vals == nullptr) {
      s += "[]string(nil)}";
      continue;
    }
    s += "[]string{";
    for (size_t j = 0; j < vals->size(); ++j) {
      if (j) s += ", ";
      s += (*vals)[j].is_string() ? goQuote((*vals)[j].get_string()) : "\"\"";
    }
    s += "}}";
  }
  return s + "}}";
}

void addInvalidOmitValue(FieldErrors& errs, std::string path, std::string_view detail) {
  push(errs, "FieldValueInvalid", std::move(path), makeBody("Invalid value", "", detail));
}
void addTooMany(FieldErrors& errs, std::string path, size_t actual, size_t max) {
  push(errs, "FieldValueTooMany", std::move(path),
       "Too many: " + std::to_string(actual) + ": must have at most " + std::to_string(max) +
           " items");
}

}  // namespace berth::core::kinds::detail
