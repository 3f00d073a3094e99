#include "cel/functions.h"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <map>
#include <type_traits>

namespace berth::cel {

Value noSuchOverload(const std::string& fn, const std::vector<Value>& args) {
  std::string list;
  for (size_t i = 0; i < args.size(); ++i) list += (i ? ", " : "") + args[i].typeName();
  return Value::error("no matching overload for '" + fn + "' applied to '(" + list + ")'");
}

namespace {

using Args = std::vector<Value>;

bool isNumber(const Value& v) {
  return v.kind() == Kind::kInt || v.kind() == Kind::kUint || v.kind() == Kind::kDouble;
}

bool isNaN(const Value& v) { return v.kind() == Kind::kDouble && std::isnan(v.asDouble()); }

Value relational(const std::string& fn, const Args& a) {
  auto c = compare(a[0], a[1]);
  if (!c) return noSuchOverload(fn, a);
  if (isNaN(a[0]) || isNaN(a[1])) return Value::boolean(false);
  if (fn == "_<_") return Value::boolean(*c < 0);
  if (fn == "_<=_") return Value::boolean(*c <= 0);
  if (fn == "_>_") return Value::boolean(*c > 0);
  return Value::boolean(*c >= 0);
}

// Checked int or uint arithmetic: overflow and division by zero are errors, as in CEL.
template <typename T>
Value integerArith(char op, T x, T y) {
  constexpr bool isSigned = std::is_signed_v<T>;
  T r = 0;
  bool overflow = false;
  switch (op) {
    case '+':
      overflow = __builtin_add_overflow(x, y, &r);
      break;
    case '-':
      overflow = __builtin_sub_overflow(x, y, &r);
      break;
    case '*':
      overflow = __builtin_mul_overflow(x, y, &r);
      break;
    case '/':
    case '%':
      if (y == 0) return Value::error(op == '/' ? "division by zero" : "modulus by zero");
      if constexpr (isSigned) {
        if (x == INT64_MIN && y == -1) {
          if (op == '%') return Value::integer(0);
          return Value::error("integer overflow");
        }
      }
      r = op == '/' ? x / y : x % y;
      break;
  }
  if (overflow) return Value::error(isSigned ? "integer overflow" : "unsigned integer overflow");
  if constexpr (isSigned) {
    return Value::integer(r);
  } else {
    return Value::uinteger(r);
  }
}

Value arithmetic(const std::string& fn, const Args& a) {
  char op = fn[1];
  const Value &x = a[0], &y = a[1];
  if (x.kind() != y.kind()) return noSuchOverload(fn, a);
  switch (x.kind()) {
    case Kind::kInt:
      return integerArith<int64_t>(op, x.asInt(), y.asInt());
    case Kind::kUint:
      return integerArith<uint64_t>(op, x.asUint(), y.asUint());
    case Kind::kDouble:
      if (op == '+') return Value::dbl(x.asDouble() + y.asDouble());
      if (op == '-') return Value::dbl(x.asDouble() - y.asDouble());
      if (op == '*') return Value::dbl(x.asDouble() * y.asDouble());
      if (op == '/') return Value::dbl(x.asDouble() / y.asDouble());
      break;
    case Kind::kString:
      if (op == '+') return Value::string(x.asString() + y.asString());
      break;
    case Kind::kBytes:
      if (op == '+') return Value::bytes(x.asString() + y.asString());
      break;
    case Kind::kList:
      if (op == '+') {
        ValueList items;
        items.reserve(x.size() + y.size());
        for (size_t i = 0; i < x.size(); ++i) items.push_back(x.at(i));
        for (size_t i = 0; i < y.size(); ++i) items.push_back(y.at(i));
        return Value::list(std::move(items));
      }
      break;
    default:
      break;
  }
  return noSuchOverload(fn, a);
}

std::string keyText(const Value& k) {
  return k.kind() == Kind::kString ? k.asString() : k.debugString();
}

Value index(const Args& a) {
  const Value &c = a[0], &k = a[1];
  if (c.kind() == Kind::kMap) {
    // Keys are scalars; a list or map key (perhaps a whole object) is a type error, never a
    // lookup that echoes it back in the message.
    if (k.kind() == Kind::kList || k.kind() == Kind::kMap) return noSuchOverload("_[_]", a);
    auto v = c.get(k);
    if (!v) return Value::error("no such key: " + keyText(k));
    return *v;
  }
  if (c.kind() != Kind::kList || !isNumber(k)) return noSuchOverload("_[_]", a);
  int64_t i = 0;
  if (k.kind() == Kind::kInt) {
    i = k.asInt();
  } else if (k.kind() == Kind::kUint) {
    i = k.asUint() > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(k.asUint());
  } else {
    double d = k.asDouble();
    if (d != std::trunc(d) || !(d >= 0 && d < 9.2e18)) {
      return Value::error("unsupported index value " + k.debugString() + " in list");
    }
    i = static_cast<int64_t>(d);
  }
  if (i < 0 || static_cast<uint64_t>(i) >= c.size()) {
    return Value::error("index out of bounds: " + std::to_string(i));
  }
  return c.at(static_cast<size_t>(i));
}

Value in(const Args& a) {
  const Value &x = a[0], &c = a[1];
  if (c.kind() == Kind::kMap) return Value::boolean(c.get(x).has_value());
  if (c.kind() != Kind::kList) return noSuchOverload("@in", a);
  for (size_t i = 0; i < c.size(); ++i) {
    if (equals(x, c.at(i))) return Value::boolean(true);
  }
  return Value::boolean(false);
}

size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool validUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t j = 1; j < len; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

Value size(const Args& a) {
  if (a.size() != 1) return noSuchOverload("size", a);
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kString:
      return Value::integer(static_cast<int64_t>(codePoints(v.asString())));
    case Kind::kBytes:
      return Value::integer(static_cast<int64_t>(v.asString().size()));
    case Kind::kList:
    case Kind::kMap:
      return Value::integer(static_cast<int64_t>(v.size()));
    default:
      return noSuchOverload("size", a);
  }
}

Value stringFunction(const std::string& fn, const Args& a) {
  if (a.size() != 2 || a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) {
    return noSuchOverload(fn, a);
  }
  const std::string &s = a[0].asString(), &t = a[1].asString();
  if (fn == "startsWith") return Value::boolean(s.rfind(t, 0) == 0);
  if (fn == "endsWith") {
    return Value::boolean(s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0);
  }
  if (fn == "contains") return Value::boolean(s.find(t) != std::string::npos);
  // matches: RE2 (the syntax CEL specifies), unanchored as cel-go's.
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(t, opts);
  if (!re.ok()) return Value::error("invalid regular expression: " + re.error());
  return Value::boolean(RE2::PartialMatch(s, re));
}

template <typename T>
std::optional<T> parseWhole(const std::string& s) {
  T v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Value convert(const std::string& fn, const Value& v) {
  Kind k = v.kind();
  auto bad = [&] { return Value::error("cannot convert " + v.debugString() + " to " + fn); };
  auto range = [&] {
    return Value::error("range error converting " + v.debugString() + " to " + fn);
  };
  if (fn == "dyn") return v;
  if (fn == "int") {
    if (k == Kind::kInt) return v;
    if (k == Kind::kUint) {
      return v.asUint() > static_cast<uint64_t>(INT64_MAX)
                 ? range()
                 : Value::integer(static_cast<int64_t>(v.asUint()));
    }
    if (k == Kind::kDouble) {
      double d = v.asDouble();
      if (!(d > -9.223372036854775e18 && d < 9.223372036854775e18)) return range();
      return Value::integer(static_cast<int64_t>(d));
    }
    if (k == Kind::kString) {
      auto p = parseWhole<int64_t>(v.asString());
      return p ? Value::integer(*p) : bad();
    }
  } else if (fn == "uint") {
    if (k == Kind::kUint) return v;
    if (k == Kind::kInt)
      return v.asInt() < 0 ? range() : Value::uinteger(static_cast<uint64_t>(v.asInt()));
    if (k == Kind::kDouble) {
      double d = v.asDouble();
      if (!(d >= 0 && d < 1.8446744073709552e19)) return range();
      return Value::uinteger(static_cast<uint64_t>(d));
    }
    if (k == Kind::kString) {
      auto p = parseWhole<uint64_t>(v.asString());
      return p ? Value::uinteger(*p) : bad();
    }
  } else if (fn == "double") {
    if (k == Kind::kDouble) return v;
    if (k == Kind::kInt) return Value::dbl(static_cast<double>(v.asInt()));
    if (k == Kind::kUint) return Value::dbl(static_cast<double>(v.asUint()));
    if (k == Kind::kString) {
      auto p = parseWhole<double>(v.asString());
      return p ? Value::dbl(*p) : bad();
    }
  } else if (fn == "string") {
    switch (k) {
      case Kind::kString:
        return v;
      case Kind::kInt:
        return Value::string(std::to_string(v.asInt()));
      case Kind::kUint:
        return Value::string(std::to_string(v.asUint()));
      case Kind::kDouble:
        return Value::string(formatDouble(v.asDouble()));
      case Kind::kBool:
        return Value::string(v.asBool() ? "true" : "false");
      case Kind::kBytes:
        return validUtf8(v.asString()) ? Value::string(v.asString()) : bad();
      default:
        break;
    }
  } else if (fn == "bool") {
    if (k == Kind::kBool) return v;
    if (k == Kind::kString) {
      static const std::map<std::string, bool> kWords = {
          {"1", true},  {"t", true},  {"true", true},   {"TRUE", true},   {"True", true},
          {"0", false}, {"f", false}, {"false", false}, {"FALSE", false}, {"False", false}};
      auto it = kWords.find(v.asString());
      return it != kWords.end() ? Value::boolean(it->second) : bad();
    }
  }
  return noSuchOverload(fn, {v});
}

}  // namespace

namespace {
// hasValue(), value(), orValue(x), or(o) on an optional (receiver first).
Value optionalFunction(const std::string& fn, const Args& a) {
  auto v = a[0].optionalValue();
  if (fn == "hasValue" && a.size() == 1) return Value::boolean(v.has_value());
  if (fn == "value" && a.size() == 1) {
    return v ? *v : Value::error("optional.none() dereference");
  }
  if (fn == "orValue" && a.size() == 2) return v ? *v : a[1];
  if (fn == "or" && a.size() == 2 && a[1].kind() == Kind::kOptional) return v ? a[0] : a[1];
  return noSuchOverload(fn, a);
}
}  // namespace

Value callFunction(const std::string& fn, const Args& a) {
  if (!a.empty() && a[0].kind() == Kind::kOptional &&
      (fn == "hasValue" || fn == "value" || fn == "orValue" || fn == "or"))
    return optionalFunction(fn, a);
  if (fn == "_==_") return Value::boolean(equals(a[0], a[1]));
  if (fn == "_!=_") return Value::boolean(!equals(a[0], a[1]));
  if (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_") return relational(fn, a);
  if (fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_") {
    return arithmetic(fn, a);
  }
  if (fn == "!_") {
    return a[0].kind() == Kind::kBool ? Value::boolean(!a[0].asBool()) : noSuchOverload(fn, a);
  }
  if (fn == "-_") {
    if (a[0].kind() == Kind::kInt) return integerArith<int64_t>('-', 0, a[0].asInt());
    if (a[0].kind() == Kind::kDouble) return Value::dbl(-a[0].asDouble());
    return noSuchOverload(fn, a);
  }
  if (fn == "_[_]") return index(a);
  if (fn == "@in") return in(a);
  if (fn == "size") return size(a);
  if (fn == "startsWith" || fn == "endsWith" || fn == "contains" || fn == "matches") {
    return stringFunction(fn, a);
  }
  if (a.size() == 1 && (fn == "int" || fn == "uint" || fn == "double" || fn == "string" ||
                        fn == "bool" || fn == "dyn"))
    return convert(fn, a[0]);
  return noSuchOverload(fn, a);
}

}  // namespace berth::cel
