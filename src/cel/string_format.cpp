// cel-go's <string>.format(<list>) (ext strings, formatting.go), with Go's formatting of each
// clause. Unlike cel-go, numbers are not run through a locale's printer (%e prints as Go's
// fmt does: "2.718280e+00").
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "cel/format_library.h"
#include "cel/k8s_types.h"

namespace berth::cel::detail {
namespace {

std::string doubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string durationText(int64_t nanos) {
  // cel-go: the seconds as the shortest decimal, then "s".
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(nanos) / 1e9,
                         std::chars_format::fixed);
  return std::string(buf, r.ptr) + "s";
}

// %s of a value; strings nested in lists and maps are quoted.
std::optional<std::string> asText(const Value& v, bool nested, int depth = 0) {
  if (depth > 32) return std::nullopt;
  switch (v.kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return v.asBool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(v.asInt());
    case Kind::kUint:
      return std::to_string(v.asUint());
    case Kind::kDouble:
      // cel-go's quoteForCEL: inside a list or map, NaN and the infinities are quoted.
      return nested && !std::isfinite(v.asDouble()) ? goQuote(doubleText(v.asDouble()))
                                                    : doubleText(v.asDouble());
    case Kind::kString:
      return nested ? goQuote(v.asString()) : v.asString();
    case Kind::kBytes:
      return nested ? "b" + goQuote(v.asString()) : v.asString();
    case Kind::kType:
      return v.asString();
    case Kind::kTimestamp:
      return formatTimestamp(v.seconds(), v.nanos());
    case Kind::kDuration:
      return durationText(v.durationNanos());
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        auto e = asText(v.at(i), true, depth + 1);
        if (!e) return std::nullopt;
        out += (i ? ", " : "") + *e;
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::vector<std::string> entries;
      for (size_t i = 0; i < v.size(); ++i) {
        Value k = v.keyAt(i);
        auto kt = asText(k, true, depth + 1), vt = asText(*v.get(k), true, depth + 1);
        if (!kt || !vt) return std::nullopt;
        entries.push_back(*kt + ":" + *vt);
      }
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      for (size_t i = 0; i < entries.size(); ++i) out += (i ? ", " : "") + entries[i];
      return out + "}";
    }
    case Kind::kOpaque:
      return v.asString();
    default:
      return std::nullopt;
  }
}

std::string inBase(uint64_t magnitude, bool negative, int base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[magnitude % base]);
    magnitude /= base;
  } while (magnitude);
  return negative ? "-" + out : out;
}

// An integer argument as sign and magnitude; nullopt when it is not an int or uint.
std::optional<std::pair<bool, uint64_t>> integer(const Value& v) {
  if (v.kind() == Kind::kUint) return std::pair{false, v.asUint()};
  if (v.kind() != Kind::kInt) return std::nullopt;
  int64_t i = v.asInt();
  return std::pair{i < 0, i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i)};
}

std::optional<double> number(const Value& v) {
  if (v.kind() == Kind::kDouble) return v.asDouble();
  if (v.kind() == Kind::kInt) return static_cast<double>(v.asInt());
  if (v.kind() == Kind::kUint) return static_cast<double>(v.asUint());
  if (v.kind() == Kind::kString) {
    if (v.asString() == "NaN") return std::nan("");
    if (v.asString() == "Infinity") return INFINITY;
    if (v.asString() == "-Infinity") return -INFINITY;
  }
  return std::nullopt;
}

std::variant<std::string, Value> clause(char verb, int precision, const Value& arg) {
  auto wrongType = [&](const std::string& what) {
    return Value::error(what + ", was given " + arg.typeName());
  };
  switch (verb) {
    case 's': {
      auto t = asText(arg, false);
      if (!t)
        return wrongType(
            "string clause can only be used on strings, bools, bytes, ints, doubles, maps, "
            "lists, types, durations, and timestamps");
      return *t;
    }
    case 'd': {
      auto i = integer(arg);
      if (!i) return wrongType("decimal clause can only be used on integers");
      return inBase(i->second, i->first, 10, false);
    }
    case 'f':
    case 'e': {
      auto d = number(arg);
      if (!d)
        return wrongType(verb == 'f' ? "fixed-point clause can only be used on doubles"
                                     : "scientific clause can only be used on doubles");
      if (std::isnan(*d) || std::isinf(*d)) return doubleText(*d);
      char buf[512];
      std::snprintf(buf, sizeof buf, verb == 'f' ? "%.*f" : "%.*e", precision, *d);
      return std::string(buf);
    }
    case 'b': {
      if (arg.kind() == Kind::kBool) return std::string(arg.asBool() ? "1" : "0");
      auto i = integer(arg);
      if (!i) return wrongType("only integers and bools can be formatted as binary");
      return inBase(i->second, i->first, 2, false);
    }
    case 'o': {
      auto i = integer(arg);
      if (!i) return wrongType("octal clause can only be used on integers");
      return inBase(i->second, i->first, 8, false);
    }
    case 'x':
    case 'X': {
      bool upper = verb == 'X';
      if (arg.kind() == Kind::kString || arg.kind() == Kind::kBytes) {
        std::string out;
        for (unsigned char c : arg.asString()) {
          std::string h = inBase(c, false, 16, upper);
          out += h.size() == 1 ? "0" + h : h;
        }
        return out;
      }
      auto i = integer(arg);
      if (!i) return wrongType("only integers, byte buffers, and strings can be formatted as hex");
      return inBase(i->second, i->first, 16, upper);
    }
  }
  return Value::error("could not parse formatting clause: unrecognized formatting clause \"" +
                      std::string(1, verb) + "\"");
}

}  // namespace

Value formatString(const std::string& pattern, const Value& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    if (++i >= pattern.size())
      return Value::error("could not parse formatting clause: unexpected end of string");
    if (pattern[i] == '%') {
      out += '%';
      continue;
    }
    int precision = 6;
    if (pattern[i] == '.') {
      precision = 0;
      size_t start = ++i;
      while (i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i])) &&
             i - start < 3)
        precision = precision * 10 + (pattern[i++] - '0');
      if (i == start || i >= pattern.size())
        return Value::error("could not parse formatting clause: error while parsing precision");
    }
    if (next >= args.size()) return Value::error("index " + std::to_string(next) + " out of range");
    auto piece = clause(pattern[i], precision, args.at(next++));
    if (auto* err = std::get_if<Value>(&piece)) return *err;
    out += std::get<std::string>(piece);
    // Formatting is charged like string building elsewhere: bounded by the argument sizes.
    if (out.size() > (1u << 24)) return Value::error("formatted string too long");
  }
  return Value::string(std::move(out));
}

}  // namespace berth::cel::detail
