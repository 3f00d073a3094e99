#include "cel/value.h"

#include "cel/k8s_types.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace berth::cel {

namespace json = boost::json;

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::uinteger(uint64_t u) {
  Value v;
  v.kind_ = Kind::kUint;
  v.u_ = u;
  return v;
}
Value Value::dbl(double d) {
  Value v;
  v.kind_ = Kind::kDouble;
  v.d_ = d;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}
Value Value::bytes(std::string s) {
  Value v = string(std::move(s));
  v.kind_ = Kind::kBytes;
  return v;
}
Value Value::list(ValueList items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<const ValueList>(std::move(items));
  return v;
}
Value Value::map(ValueMap entries) {
  Value v;
  v.kind_ = Kind::kMap;
  v.map_ = std::make_shared<const ValueMap>(std::move(entries));
  return v;
}
Value Value::optional(std::optional<Value> v) {
  Value out;
  out.kind_ = Kind::kOptional;
  ValueList items;
  if (v) items.push_back(std::move(*v));
  out.list_ = std::make_shared<const ValueList>(std::move(items));
  return out;
}

Value Value::type(std::string name) {
  Value v = string(std::move(name));
  v.kind_ = Kind::kType;
  return v;
}

Value Value::timestamp(int64_t seconds, int32_t nanos) {
  Value v;
  v.kind_ = Kind::kTimestamp;
  v.i_ = seconds;
  v.u_ = static_cast<uint64_t>(nanos);
  return v;
}

Value Value::duration(int64_t nanos) {
  Value v;
  v.kind_ = Kind::kDuration;
  v.i_ = nanos;
  return v;
}

Value Value::opaque(const char* typeName, std::string text) {
  Value v = string(std::move(text));
  v.kind_ = Kind::kOpaque;
  v.opaque_ = typeName;
  return v;
}

std::optional<Value> Value::optionalValue() const {
  if (kind_ != Kind::kOptional || !list_ || list_->empty()) return std::nullopt;
  return (*list_)[0];
}

Value Value::error(std::string message) {
  Value v = string(std::move(message));
  v.kind_ = Kind::kError;
  return v;
}

Value Value::fromJson(const json::value& j) {
  switch (j.kind()) {
    case json::kind::null:
      return Value();
    case json::kind::bool_:
      return boolean(j.get_bool());
    case json::kind::int64:
      return integer(j.get_int64());
    case json::kind::uint64:
      // JSON numbers are CEL ints (Kubernetes' unstructured conversion); only values past
      // int64's range stay unsigned.
      if (j.get_uint64() <= static_cast<uint64_t>(INT64_MAX))
        return integer(static_cast<int64_t>(j.get_uint64()));
      return uinteger(j.get_uint64());
    case json::kind::double_:
      return dbl(j.get_double());
    case json::kind::string:
      return string(std::string(j.get_string()));
    case json::kind::array: {
      Value v;
      v.kind_ = Kind::kList;
      v.jsonList_ = &j.get_array();
      return v;
    }
    case json::kind::object:
      return fromJsonObject(j.get_object());
  }
  return Value();
}

Value Value::fromJsonObject(const json::object& o) {
  Value v;
  v.kind_ = Kind::kMap;
  v.jsonMap_ = &o;
  return v;
}

size_t Value::size() const {
  if (jsonList_) return jsonList_->size();
  if (jsonMap_) return jsonMap_->size();
  if (list_) return list_->size();
  if (map_) return map_->size();
  return 0;
}

Value Value::at(size_t i) const {
  if (jsonList_) return fromJson((*jsonList_)[i]);
  return (*list_)[i];
}

std::optional<Value> Value::get(const Value& key) const {
  if (jsonMap_) {
    if (key.kind() != Kind::kString) return std::nullopt;  // JSON keys are strings
    auto* v = jsonMap_->if_contains(key.asString());
    if (!v) return std::nullopt;
    return fromJson(*v);
  }
  if (!map_) return std::nullopt;
  for (const auto& [k, v] : *map_) {
    if (equals(k, key)) return v;
  }
  return std::nullopt;
}

Value Value::keyAt(size_t i) const {
  if (jsonMap_) return string(std::string((jsonMap_->begin() + i)->key()));
  return (*map_)[i].first;
}

std::string kindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kError:
      return "error";
    case Kind::kOptional:
      return "optional_type";
    case Kind::kType:
      return "type";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kOpaque:
      return "opaque";
  }
  return "unknown";
}

std::string Value::typeName() const { return opaque_ ? opaque_ : kindName(kind_); }

std::string formatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

namespace {

// Decodes one UTF-8 sequence at s[i]; 0 bytes when it is not valid (overlong forms, surrogates
// and code points past U+10FFFF included), as Go's utf8.DecodeRuneInString rejects them.
size_t decodeRune(std::string_view s, size_t i, uint32_t& rune) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  rune = n == 1 ? c : c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    rune = rune << 6 | (b(k) & 0x3f);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (rune < kMin[n] || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return 0;
  return n;
}

// Go's strconv.IsPrint for runes past ASCII, less its tables of unassigned code points: Unicode's
// controls, spaces other than U+0020, separators, format and private-use characters are not.
bool printable(uint32_t r) {
  static const std::pair<uint32_t, uint32_t> kNot[] = {
      {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},
      {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x1680, 0x1680},   {0x180e, 0x180e},
      {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x2064},   {0x2066, 0x206f},
      {0x3000, 0x3000},   {0xe000, 0xf8ff},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},
      {0xfffe, 0xffff},   {0x110bd, 0x110bd}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
      {0xe0020, 0xe007f}, {0xf0000, 0x10ffff}};
  for (const auto& [lo, hi] : kNot) {
    if (r >= lo && r <= hi) return false;
  }
  return (r & 0xfffe) != 0xfffe;  // the noncharacters at the end of each plane
}

void appendHex(std::string& out, const char* prefix, uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, digits, v);
  out += buf;
}

}  // namespace

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    size_t n = decodeRune(s, i, r);
    if (n == 0) {
      appendHex(out, "\\x", static_cast<unsigned char>(s[i]), 2);
      ++i;
      continue;
    }
    static const std::pair<char, const char*> kEscapes[] = {
        {'\a', "\\a"}, {'\b', "\\b"}, {'\f', "\\f"}, {'\n', "\\n"},
        {'\r', "\\r"}, {'\t', "\\t"}, {'\v', "\\v"}};
    if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (r >= 0x20 && r < 0x7f) {
      out += static_cast<char>(r);
    } else if (r >= 0x80 && printable(r)) {
      out.append(s.substr(i, n));
    } else if (auto e = std::find_if(std::begin(kEscapes), std::end(kEscapes),
                                     [&](const auto& x) { return uint32_t(x.first) == r; });
               e != std::end(kEscapes)) {
      out += e->second;
    } else if (r < 0x80) {
      appendHex(out, "\\x", r, 2);
    } else {
      appendHex(out, r < 0x10000 ? "\\u" : "\\U", r, r < 0x10000 ? 4 : 8);
    }
    i += n;
  }
  return out + "\"";
}

std::string Value::debugString() const {
  switch (kind_) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return b_ ? "true" : "false";
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kUint:
      return std::to_string(u_) + "u";
    case Kind::kDouble: {
      std::string s = formatDouble(d_);
      if (s.find_first_of(".eIN") == std::string::npos) s += ".0";
      return s;
    }
    case Kind::kString:
      return goQuote(s_);
    case Kind::kBytes:
      return "b" + goQuote(s_);
    case Kind::kError:
      return "error(" + goQuote(s_) + ")";
    case Kind::kOptional: {
      auto v = optionalValue();
      return v ? "optional.of(" + v->debugString() + ")" : "optional.none()";
    }
    case Kind::kType:
      return s_;
    case Kind::kTimestamp:
      return "timestamp(" + std::to_string(i_) + "s+" + std::to_string(u_) + "ns)";
    case Kind::kDuration:
      return "duration(" + std::to_string(i_) + "ns)";
    case Kind::kOpaque:
      return std::string(opaque_) + "(" + goQuote(s_) + ")";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < size(); ++i) out += (i ? ", " : "") + at(i).debugString();
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < size(); ++i) {
        Value k = keyAt(i);
        out += (i ? ", " : "") + k.debugString() + ": " + get(k)->debugString();
      }
      return out + "}";
    }
  }
  return "";
}

namespace {

bool isNumber(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

// Numeric ordering across int, uint and double without losing precision.
int compareNumbers(const Value& a, const Value& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (a.kind() == b.kind()) {
    if (a.kind() == Kind::kInt) return sign(a.asInt(), b.asInt());
    if (a.kind() == Kind::kUint) return sign(a.asUint(), b.asUint());
    return sign(a.asDouble(), b.asDouble());
  }
  if (a.kind() == Kind::kDouble || b.kind() == Kind::kDouble) {
    auto toD = [](const Value& v) {
      return v.kind() == Kind::kInt    ? static_cast<double>(v.asInt())
             : v.kind() == Kind::kUint ? static_cast<double>(v.asUint())
                                       : v.asDouble();
    };
    return sign(toD(a), toD(b));
  }
  // int vs uint
  if (a.kind() == Kind::kInt) {
    if (a.asInt() < 0) return -1;
    return sign(static_cast<uint64_t>(a.asInt()), b.asUint());
  }
  return -compareNumbers(b, a);
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  if (isNumber(a.kind()) && isNumber(b.kind())) {
    if ((a.kind() == Kind::kDouble && std::isnan(a.asDouble())) ||
        (b.kind() == Kind::kDouble && std::isnan(b.asDouble())))
      return false;
    return compareNumbers(a, b) == 0;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.asBool() == b.asBool();
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kError:
    case Kind::kType:
      return a.asString() == b.asString();
    case Kind::kTimestamp:
      return a.seconds() == b.seconds() && a.nanos() == b.nanos();
    case Kind::kDuration:
      return a.durationNanos() == b.durationNanos();
    case Kind::kOpaque:
      return a.typeName() == b.typeName() && opaqueEquals(a, b);
    case Kind::kList:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!equals(a.at(i), b.at(i))) return false;
      }
      return true;
    case Kind::kMap:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        Value k = a.keyAt(i);
        auto other = b.get(k);
        if (!other || !equals(*a.get(k), *other)) return false;
      }
      return true;
    case Kind::kOptional: {
      auto x = a.optionalValue(), y = b.optionalValue();
      return x && y ? equals(*x, *y) : !x && !y;
    }
    default:
      return false;
  }
}

std::optional<int> compare(const Value& a, const Value& b) {
  if (isNumber(a.kind()) && isNumber(b.kind())) return compareNumbers(a, b);
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case Kind::kBool:
      return a.asBool() == b.asBool() ? 0 : (a.asBool() ? 1 : -1);
    case Kind::kString:
    case Kind::kBytes: {
      int c = a.asString().compare(b.asString());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::kTimestamp: {
      auto x = std::make_pair(a.seconds(), a.nanos()), y = std::make_pair(b.seconds(), b.nanos());
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case Kind::kDuration:
      return a.durationNanos() < b.durationNanos()   ? -1
             : a.durationNanos() > b.durationNanos() ? 1
                                                     : 0;
    default:
      return std::nullopt;
  }
}

}  // namespace berth::cel
