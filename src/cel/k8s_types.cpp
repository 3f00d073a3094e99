// Kubernetes' quantity, URL, IP and CIDR CEL libraries and the type checking of every library
// function of cel/k8s_types.h. Values are kept as text (Value::opaque) and parsed when used.
#include "cel/k8s_types.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <variant>

#include "cel/extensions.h"
#include "cel/functions.h"

namespace berth::cel {
namespace {

// ---- quantities --------------------------------------------------------------------------------

// mantissa × 10^exponent (binary suffixes are multiplied into the mantissa).
struct Decimal {
  __int128 mantissa = 0;
  int exponent = 0;
};

constexpr __int128 kMantissaLimit = static_cast<__int128>(1) << 120;

// resource.ParseQuantity's grammar: a signed decimal number and a suffix (Ki..Ei, n u m k M G T
// P E, or an exponent eN).
std::optional<Decimal> parseQuantity(const std::string& s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  Decimal d;
  bool anyDigit = false, dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    anyDigit = true;
    if (d.mantissa < kMantissaLimit / 10) {
      d.mantissa = d.mantissa * 10 + (c - '0');
      if (dot) --d.exponent;
    } else if (!dot) {
      ++d.exponent;  // precision beyond 36 digits is dropped, as it cannot matter here
    }
  }
  if (!anyDigit) return std::nullopt;
  std::string suffix = s.substr(i);
  static const std::map<std::string, int> kDecimal = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},
                                                      {"k", 3},  {"M", 6},  {"G", 9},  {"T", 12},
                                                      {"P", 15}, {"E", 18}};
  static const std::map<std::string, int> kBinary = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                     {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  if (auto it = kDecimal.find(suffix); it != kDecimal.end()) {
    d.exponent += it->second;
  } else if (auto b = kBinary.find(suffix); b != kBinary.end()) {
    for (int k = 0; k < b->second; ++k) {
      if (d.mantissa >= kMantissaLimit) return std::nullopt;
      d.mantissa *= 2;
    }
  } else if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    bool eneg = false;
    if (suffix[j] == '+' || suffix[j] == '-') eneg = suffix[j++] == '-';
    if (j >= suffix.size() || suffix.size() - j > 4) return std::nullopt;
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9') return std::nullopt;
      e = e * 10 + (suffix[j] - '0');
    }
    d.exponent += eneg ? -e : e;
  } else {
    return std::nullopt;
  }
  if (neg) d.mantissa = -d.mantissa;
  return d;
}

long double approx(const Decimal& d) {
  return static_cast<long double>(d.mantissa) * std::pow(10.0L, d.exponent);
}

// Scales d to exponent `e` (< d.exponent); false when the mantissa would overflow.
bool rescale(Decimal& d, int e) {
  while (d.exponent > e) {
    if (d.mantissa > kMantissaLimit || d.mantissa < -kMantissaLimit) return false;
    d.mantissa *= 10;
    --d.exponent;
  }
  return true;
}

int compareDecimal(Decimal a, Decimal b) {
  int e = std::min(a.exponent, b.exponent);
  if (rescale(a, e) && rescale(b, e)) return a.mantissa < b.mantissa ? -1 : a.mantissa > b.mantissa;
  long double x = approx(a), y = approx(b);
  return x < y ? -1 : x > y;
}

std::string decimalText(Decimal d) {
  while (d.mantissa != 0 && d.mantissa % 10 == 0) {
    d.mantissa /= 10;
    ++d.exponent;
  }
  bool neg = d.mantissa < 0;
  unsigned __int128 m = neg ? -static_cast<unsigned __int128>(d.mantissa) : d.mantissa;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m);
  return (neg ? "-" : "") + digits + (d.exponent ? "e" + std::to_string(d.exponent) : "");
}

Value quantityValue(const Decimal& d) { return Value::opaque(kQuantityType, decimalText(d)); }

Decimal quantityOf(const Value& v) {
  if (v.kind() == Kind::kInt) return Decimal{v.asInt(), 0};
  return parseQuantity(v.asString()).value_or(Decimal{});
}

Value quantityArith(const Decimal& a, Decimal b, bool subtract) {
  if (subtract) b.mantissa = -b.mantissa;
  Decimal x = a;
  int e = std::min(x.exponent, b.exponent);
  if (!rescale(x, e) || !rescale(b, e)) return Value::error("quantity overflow");
  x.mantissa += b.mantissa;
  return quantityValue(x);
}

Value quantityFunction(const std::string& fn, const std::vector<Value>& a) {
  Decimal q = quantityOf(a[0]);
  if (a.size() == 1) {
    if (fn == "sign") return Value::integer(q.mantissa < 0 ? -1 : q.mantissa > 0);
    Decimal i = q;
    bool integer = q.exponent >= 0 || rescale(i, 0);
    if (q.exponent < 0) {
      i = q;
      while (i.exponent < 0 && i.mantissa % 10 == 0) {
        i.mantissa /= 10;
        ++i.exponent;
      }
      integer = i.exponent >= 0;
    }
    if (fn == "isInteger")
      return Value::boolean(integer && rescale(i, 0) && i.mantissa <= INT64_MAX &&
                            i.mantissa >= INT64_MIN);
    if (fn == "asInteger") {
      if (!integer || !rescale(i, 0) || i.mantissa > INT64_MAX || i.mantissa < INT64_MIN)
        return Value::error("cannot convert value to integer");
      return Value::integer(static_cast<int64_t>(i.mantissa));
    }
    if (fn == "asApproximateFloat") return Value::dbl(static_cast<double>(approx(q)));
  } else if (a.size() == 2) {
    bool other = a[1].kind() == Kind::kOpaque && a[1].typeName() == kQuantityType;
    if ((fn == "add" || fn == "sub") && (other || a[1].kind() == Kind::kInt))
      return quantityArith(q, quantityOf(a[1]), fn == "sub");
    if (other) {
      int c = compareDecimal(q, quantityOf(a[1]));
      if (fn == "compareTo") return Value::integer(c);
      if (fn == "isGreaterThan") return Value::boolean(c > 0);
      if (fn == "isLessThan") return Value::boolean(c < 0);
    }
  }
  return noSuchOverload(fn, a);
}

// ---- IPs and CIDRs
// -------------------------------------------------------------------------------

struct Addr {
  int family = 0;  // 4 or 6
  std::array<unsigned char, 16> bytes{};
  size_t size() const { return family == 4 ? 4 : 16; }
};

std::string addrText(const Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

// netip.ParseAddr as Kubernetes' library uses it: no zones, no IPv4-mapped IPv6.
std::variant<Addr, std::string> parseAddr(const std::string& s) {
  Addr a;
  if (s.find('%') != std::string::npos)
    return std::string("IP address with zone value is not allowed");
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = 6;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), kMapped, 12) == 0)
      return std::string("IPv4-mapped IPv6 address is not allowed");
    return a;
  }
  return "ParseAddr(" + std::string("\"") + s + "\"): unable to parse IP";
}

struct Prefix {
  Addr addr;
  int bits = 0;
};

std::variant<Prefix, std::string> parsePrefix(const std::string& s) {
  size_t slash = s.rfind('/');
  if (slash == std::string::npos) return "netip.ParsePrefix(\"" + s + "\"): no '/'";
  auto a = parseAddr(s.substr(0, slash));
  if (auto* err = std::get_if<std::string>(&a)) return "netip.ParsePrefix(\"" + s + "\"): " + *err;
  Prefix p{std::get<Addr>(a), 0};
  std::string bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || (bits.size() > 1 && bits[0] == '0'))
    return "netip.ParsePrefix(\"" + s + "\"): bad bits after slash: \"" + bits + "\"";
  for (char c : bits) {
    if (c < '0' || c > '9')
      return "netip.ParsePrefix(\"" + s + "\"): bad bits after slash: \"" + bits + "\"";
    p.bits = p.bits * 10 + (c - '0');
  }
  if (p.bits > static_cast<int>(p.addr.size() * 8))
    return "netip.ParsePrefix(\"" + s + "\"): prefix length out of range";
  return p;
}

Addr masked(Addr a, int bits) {
  for (size_t i = 0; i < a.size(); ++i) {
    int keep = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    a.bytes[i] &= static_cast<unsigned char>(0xff00 >> keep);
  }
  return a;
}

bool contains(const Prefix& p, const Addr& a) {
  return a.family == p.addr.family && masked(a, p.bits).bytes == masked(p.addr, p.bits).bytes;
}

Addr addrOf(const Value& v) { return std::get<Addr>(parseAddr(v.asString())); }
Prefix prefixOf(const Value& v) { return std::get<Prefix>(parsePrefix(v.asString())); }
std::string prefixText(const Prefix& p) { return addrText(p.addr) + "/" + std::to_string(p.bits); }

Value ipFunction(const std::string& fn, const Addr& a, const std::vector<Value>& args) {
  const auto& b = a.bytes;
  bool v4 = a.family == 4;
  auto all = [&](unsigned char x, size_t from) {
    for (size_t i = from; i < a.size(); ++i)
      if (b[i] != x) return false;
    return true;
  };
  bool unspecified = all(0, 0);
  bool loopback =
      v4 ? b[0] == 127
         : std::all_of(b.begin(), b.begin() + 15, [](int c) { return c == 0; }) && b[15] == 1;
  bool linkLocalUnicast = v4 ? b[0] == 169 && b[1] == 254 : b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
  bool linkLocalMulticast =
      v4 ? b[0] == 224 && b[1] == 0 && b[2] == 0 : b[0] == 0xff && (b[1] & 0x0f) == 0x02;
  bool multicast = v4 ? (b[0] & 0xf0) == 0xe0 : b[0] == 0xff;
  if (fn == "family") return Value::integer(a.family);
  if (fn == "isUnspecified") return Value::boolean(unspecified);
  if (fn == "isLoopback") return Value::boolean(loopback);
  if (fn == "isLinkLocalUnicast") return Value::boolean(linkLocalUnicast);
  if (fn == "isLinkLocalMulticast") return Value::boolean(linkLocalMulticast);
  if (fn == "isGlobalUnicast") {
    bool broadcast = v4 && all(0xff, 0);
    return Value::boolean(!unspecified && !broadcast && !loopback && !multicast &&
                          !linkLocalUnicast);
  }
  return noSuchOverload(fn, args);
}

Value cidrFunction(const std::string& fn, const std::vector<Value>& a) {
  Prefix p = prefixOf(a[0]);
  if (a.size() == 1) {
    if (fn == "prefixLength") return Value::integer(p.bits);
    if (fn == "ip") return Value::opaque(kIpType, addrText(p.addr));
    if (fn == "masked")
      return Value::opaque(kCidrType, prefixText({masked(p.addr, p.bits), p.bits}));
  } else if (a.size() == 2) {
    if (fn == "containsIP") {
      if (a[1].kind() == Kind::kString) {
        auto x = parseAddr(a[1].asString());
        if (auto* err = std::get_if<std::string>(&x)) return Value::error(*err);
        return Value::boolean(contains(p, std::get<Addr>(x)));
      }
      if (a[1].typeName() == kIpType) return Value::boolean(contains(p, addrOf(a[1])));
    }
    if (fn == "containsCIDR") {
      std::optional<Prefix> other;
      if (a[1].kind() == Kind::kString) {
        auto x = parsePrefix(a[1].asString());
        if (auto* err = std::get_if<std::string>(&x)) return Value::error(*err);
        other = std::get<Prefix>(x);
      } else if (a[1].typeName() == kCidrType) {
        other = prefixOf(a[1]);
      }
      if (other) return Value::boolean(other->bits >= p.bits && contains(p, other->addr));
    }
  }
  return noSuchOverload(fn, a);
}

// ---- URLs
// ------------------------------------------------------------------------------------------

struct Url {
  std::string scheme, opaque, host, path, query;
};

bool validEscapes(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return false;
    i += 2;
  }
  return true;
}

// url.ParseRequestURI: an absolute URI or an absolute path, no fragment handling.
std::optional<Url> parseUrl(const std::string& s) {
  Url u;
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  std::string rest = s;
  if (auto q = rest.find('?'); q != std::string::npos) {
    u.query = rest.substr(q + 1);
    rest.resize(q);
  }
  size_t colon = rest.find(':');
  if (colon != std::string::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool scheme = true;
    for (size_t i = 1; i < colon && scheme; ++i) {
      char c = rest[i];
      scheme = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (scheme) {
      u.scheme = rest.substr(0, colon);
      rest = rest.substr(colon + 1);
    }
  }
  if (rest.empty() || rest[0] != '/') {
    if (u.scheme.empty()) return std::nullopt;
    u.opaque = rest;
    return u;
  }
  if (!u.scheme.empty() && rest.rfind("//", 0) == 0) {
    size_t end = rest.find('/', 2);
    std::string authority = rest.substr(2, end == std::string::npos ? std::string::npos : end - 2);
    rest = end == std::string::npos ? "" : rest.substr(end);
    if (auto at = authority.rfind('@'); at != std::string::npos)
      authority = authority.substr(at + 1);
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string::npos) return std::nullopt;
      std::string after = authority.substr(close + 1);
      if (!after.empty() && after[0] != ':') return std::nullopt;
    }
    size_t portColon = authority.rfind(':');
    if (portColon != std::string::npos && authority.find(']', portColon) == std::string::npos) {
      for (size_t i = portColon + 1; i < authority.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(authority[i]))) return std::nullopt;
    }
    for (char c : authority)
      if (c == ' ' || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' || c == '|' ||
          c == '\\' || c == '^' || c == '`')
        return std::nullopt;
    u.host = authority;
  }
  if (!validEscapes(rest) || !validEscapes(u.query)) return std::nullopt;
  u.path = rest;
  return u;
}

std::string hostname(const std::string& host) {
  if (!host.empty() && host[0] == '[') return host.substr(1, host.find(']') - 1);
  size_t c = host.rfind(':');
  return c == std::string::npos ? host : host.substr(0, c);
}

std::string port(const std::string& host) {
  size_t c = host.rfind(':');
  if (c == std::string::npos || host.find(']', c) != std::string::npos) return "";
  return host.substr(c + 1);
}

std::string unescapeQuery(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Value queryMap(const std::string& query) {
  std::vector<std::pair<std::string, ValueList>> entries;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? query.size() + 1 : amp + 1;
    if (pair.empty() || pair.find(';') != std::string::npos) continue;  // Go drops these
    size_t eq = pair.find('=');
    std::string k = unescapeQuery(pair.substr(0, eq));
    std::string v = eq == std::string::npos ? "" : unescapeQuery(pair.substr(eq + 1));
    auto it = std::find_if(entries.begin(), entries.end(), [&](auto& e) { return e.first == k; });
    if (it == entries.end()) it = entries.insert(entries.end(), {k, {}});
    it->second.push_back(Value::string(v));
  }
  ValueMap m;
  for (auto& [k, vs] : entries) m.emplace_back(Value::string(k), Value::list(std::move(vs)));
  return Value::map(std::move(m));
}

Value urlFunction(const std::string& fn, const std::vector<Value>& a) {
  Url u = parseUrl(a[0].asString()).value_or(Url{});
  if (a.size() == 1) {
    if (fn == "getScheme") return Value::string(u.scheme);
    if (fn == "getHost") return Value::string(u.host);
    if (fn == "getHostname") return Value::string(hostname(u.host));
    if (fn == "getPort") return Value::string(port(u.host));
    if (fn == "getEscapedPath") return Value::string(u.path);
    if (fn == "getQuery") return queryMap(u.query);
  }
  return noSuchOverload(fn, a);
}

// ---- constructors
// ----------------------------------------------------------------------------------

Value construct(const std::string& fn, const Value& arg) {
  const std::string& s = arg.asString();
  if (fn == "quantity" || fn == "isQuantity") {
    auto q = parseQuantity(s);
    if (fn == "isQuantity") return Value::boolean(q.has_value());
    if (!q)
      return Value::error(
          "quantities must match the regular expression "
          "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    return Value::opaque(kQuantityType, s);
  }
  if (fn == "url" || fn == "isURL") {
    auto u = parseUrl(s);
    if (fn == "isURL") return Value::boolean(u.has_value());
    if (!u)
      return Value::error("URL parse error during conversion from string: parse \"" + s +
                          "\": invalid URI for request");
    return Value::opaque(kUrlType, s);
  }
  if (fn == "ip" || fn == "isIP") {
    auto a = parseAddr(s);
    if (fn == "isIP") return Value::boolean(std::holds_alternative<Addr>(a));
    if (auto* err = std::get_if<std::string>(&a))
      return Value::error("IP Address \"" + s +
                          "\" parse error during conversion from string: " + *err);
    return Value::opaque(kIpType, addrText(std::get<Addr>(a)));
  }
  if (fn == "cidr" || fn == "isCIDR") {
    auto p = parsePrefix(s);
    if (fn == "isCIDR") return Value::boolean(std::holds_alternative<Prefix>(p));
    if (auto* err = std::get_if<std::string>(&p))
      return Value::error("network address parse error during conversion from string: " + *err);
    return Value::opaque(kCidrType, prefixText(std::get<Prefix>(p)));
  }
  if (fn == "isCanonical") {  // ip.isCanonical(s)
    auto a = parseAddr(s);
    if (auto* err = std::get_if<std::string>(&a))
      return Value::error("IP Address \"" + s +
                          "\" parse error during conversion from string: " + *err);
    return Value::boolean(addrText(std::get<Addr>(a)) == s);
  }
  return noSuchOverload(fn, {arg});
}

// ---- type checking
// ---------------------------------------------------------------------------------

using K = Type::K;

struct Overload {
  const char* fn;
  bool member;
  std::vector<const char*> operands;  // receiver first; "dyn" matches anything
  const char* result;
};

const std::vector<Overload>& overloads() {
  static const char* Q = kQuantityType;
  static const char* U = kUrlType;
  static const char* I = kIpType;
  static const char* C = kCidrType;
  static const std::vector<Overload> kAll = [] {
    std::vector<Overload> v = {
        {"timestamp", false, {"string"}, "timestamp"},
        {"timestamp", false, {"int"}, "timestamp"},
        {"timestamp", false, {"timestamp"}, "timestamp"},
        {"duration", false, {"string"}, "duration"},
        {"duration", false, {"duration"}, "duration"},
        {"string", false, {"timestamp"}, "string"},
        {"string", false, {"duration"}, "string"},
        {"string", false, {I}, "string"},
        {"string", false, {C}, "string"},
        {"int", false, {"timestamp"}, "int"},
        {"int", false, {"duration"}, "int"},
        {"_+_", false, {"timestamp", "duration"}, "timestamp"},
        {"_+_", false, {"duration", "timestamp"}, "timestamp"},
        {"_+_", false, {"duration", "duration"}, "duration"},
        {"_-_", false, {"timestamp", "duration"}, "timestamp"},
        {"_-_", false, {"timestamp", "timestamp"}, "duration"},
        {"_-_", false, {"duration", "duration"}, "duration"},
        {"quantity", false, {"string"}, Q},
        {"isQuantity", false, {"string"}, "bool"},
        {"url", false, {"string"}, U},
        {"isURL", false, {"string"}, "bool"},
        {"ip", false, {"string"}, I},
        {"isIP", false, {"string"}, "bool"},
        {"cidr", false, {"string"}, C},
        {"isCIDR", false, {"string"}, "bool"},
        {"sign", true, {Q}, "int"},
        {"isInteger", true, {Q}, "bool"},
        {"asInteger", true, {Q}, "int"},
        {"asApproximateFloat", true, {Q}, "double"},
        {"add", true, {Q, Q}, Q},
        {"add", true, {Q, "int"}, Q},
        {"sub", true, {Q, Q}, Q},
        {"sub", true, {Q, "int"}, Q},
        {"compareTo", true, {Q, Q}, "int"},
        {"isGreaterThan", true, {Q, Q}, "bool"},
        {"isLessThan", true, {Q, Q}, "bool"},
        {"getScheme", true, {U}, "string"},
        {"getHost", true, {U}, "string"},
        {"getHostname", true, {U}, "string"},
        {"getPort", true, {U}, "string"},
        {"getEscapedPath", true, {U}, "string"},
        {"getQuery", true, {U}, "map(string, list(string))"},
        {"family", true, {I}, "int"},
        {"isUnspecified", true, {I}, "bool"},
        {"isLoopback", true, {I}, "bool"},
        {"isLinkLocalMulticast", true, {I}, "bool"},
        {"isLinkLocalUnicast", true, {I}, "bool"},
        {"isGlobalUnicast", true, {I}, "bool"},
        {"containsIP", true, {C, I}, "bool"},
        {"containsIP", true, {C, "string"}, "bool"},
        {"containsCIDR", true, {C, C}, "bool"},
        {"containsCIDR", true, {C, "string"}, "bool"},
        {"ip", true, {C}, I},
        {"masked", true, {C}, C},
        {"prefixLength", true, {C}, "int"},
    };
    for (const char* get :
         {"getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
          "getHours", "getMinutes", "getSeconds", "getMilliseconds"}) {
      v.push_back({get, true, {"timestamp"}, "int"});
      v.push_back({get, true, {"timestamp", "string"}, "int"});
    }
    for (const char* get : {"getHours", "getMinutes", "getSeconds", "getMilliseconds"})
      v.push_back({get, true, {"duration"}, "int"});
    return v;
  }();
  return kAll;
}

std::string key(const Type& t) {
  switch (t.k) {
    case K::kTimestamp:
      return "timestamp";
    case K::kDuration:
      return "duration";
    case K::kOpaque:
      return t.objectName;
    case K::kObject:
      return "map";
    default:
      return t.name().substr(0, t.name().find('('));
  }
}

Type typeFor(const std::string& name) {
  if (name == "int") return Type::of(K::kInt);
  if (name == "bool") return Type::of(K::kBool);
  if (name == "double") return Type::of(K::kDouble);
  if (name == "string") return Type::of(K::kString);
  if (name == "timestamp") return Type::of(K::kTimestamp);
  if (name == "duration") return Type::of(K::kDuration);
  if (name == "map(string, list(string))") return Type::mapOf(Type::listOf(Type::of(K::kString)));
  Type t = Type::of(K::kOpaque);
  t.objectName = name;
  return t;
}

bool isTimeKey(const std::string& k) { return k == "timestamp" || k == "duration"; }

}  // namespace

bool opaqueEquals(const Value& a, const Value& b) {
  if (a.typeName() == kQuantityType) return compareDecimal(quantityOf(a), quantityOf(b)) == 0;
  return a.asString() == b.asString();  // canonical text (URLs as written)
}

namespace detail {

std::optional<Type> checkLibraryCall(const Expr& e, const std::vector<Type>& types) {
  bool member = e.target != nullptr;
  std::vector<std::string> keys;
  for (const auto& t : types) keys.push_back(key(t));
  bool anyTime = std::any_of(keys.begin(), keys.end(), isTimeKey);
  static const std::set<std::string> kRelational = {"_<_", "_<=_", "_>_", "_>=_"};
  if (!member && kRelational.count(e.name) && types.size() == 2 && anyTime) {
    if ((keys[0] == keys[1]) || keys[0] == "dyn" || keys[1] == "dyn") return Type::of(K::kBool);
    return std::nullopt;  // the general checker reports it
  }
  bool known = false, anyOpaque = false;
  for (const auto& k : keys) anyOpaque = anyOpaque || k.find('.') != std::string::npos;
  for (const auto& o : overloads()) {
    if (e.name != o.fn || o.member != member) continue;
    known = true;
    if (o.operands.size() != types.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < types.size() && ok; ++i)
      ok = keys[i] == "dyn" || keys[i] == o.operands[i];
    if (ok) return typeFor(o.result);
  }
  // Operators and conversions with other operand types belong to the general checker.
  if (!known || (!member && !anyTime && !anyOpaque && e.name.find('_') != std::string::npos))
    return std::nullopt;
  if (!member && (e.name == "string" || e.name == "int") && !anyTime && !anyOpaque)
    return std::nullopt;
  if (!member && (e.name == "_+_" || e.name == "_-_") && !anyTime) return std::nullopt;
  std::string list;
  for (size_t i = member ? 1 : 0; i < types.size(); ++i)
    list += (i > (member ? 1u : 0u) ? ", " : "") + types[i].name();
  throw CheckError{e.offset,
                   "found no matching overload for '" + e.name + "' applied to '" +
                       (member ? types[0].name() + ".(" + list + ")'" : "(" + list + ")'")};
}

std::optional<Value> callLibraryFunction(const std::string& fn, bool member,
                                         const std::vector<Value>& a) {
  if (auto v = callTimeFunction(fn, member, a)) return v;
  if (a.empty()) return std::nullopt;
  const Value& r = a[0];
  if (!member && a.size() == 1 && r.kind() == Kind::kString) {
    static const std::set<std::string> kConstructors = {"quantity", "isQuantity", "url",  "isURL",
                                                        "ip",       "isIP",       "cidr", "isCIDR"};
    if (kConstructors.count(fn)) return construct(fn, r);
  }
  if (r.kind() != Kind::kOpaque) return std::nullopt;
  std::string type = r.typeName();
  if (!member) {
    if (fn == "string" && a.size() == 1 && type != kQuantityType)
      return Value::string(r.asString());
    if (fn == "dyn" && a.size() == 1) return r;
    return std::nullopt;
  }
  if (type == kQuantityType) return quantityFunction(fn, a);
  if (type == kUrlType) return urlFunction(fn, a);
  if (type == kIpType && a.size() == 1) return ipFunction(fn, addrOf(r), a);
  if (type == kCidrType) return cidrFunction(fn, a);
  return noSuchOverload(fn, a);
}

// ip.isCanonical(s): a call on the name `ip`.
Value ipIsCanonical(const Value& s) {
  if (s.kind() != Kind::kString) return noSuchOverload("ip.isCanonical", {s});
  return construct("isCanonical", s);
}

}  // namespace detail
}  // namespace berth::cel
