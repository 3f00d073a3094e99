// Kubernetes' format library and cel-go's string formatting (see format_library.h).
#include "cel/format_library.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "cel/extensions.h"
#include "cel/functions.h"
#include "cel/k8s_types.h"
#include "core/base64.h"
#include "core/validation.h"

namespace berth::cel::detail {
namespace {

using K = Type::K;

// apimachinery's maskTrailingDash: a prefix may end in '-' (generateName); upstream drops the
// last two characters and appends an 'a' before validating.
std::string maskTrailingDash(const std::string& s) {
  if (s.size() > 1 && s.back() == '-') return s.substr(0, s.size() - 2) + "a";
  return s;
}

bool ctlByte(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
  });
}

// Go's %q of a string, for url.Error's text.
std::string goQuoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// net/url.ParseRequestURI's verdict: an absolute URI or an absolute path.
std::vector<std::string> validateUri(const std::string& s) {
  auto err = [&](const std::string& why) {
    return std::vector<std::string>{"parse " + goQuoted(s) + ": " + why};
  };
  if (ctlByte(s)) return err("net/url: invalid control character in URL");
  if (s.empty()) return err("empty url");
  if (s == "*") return {};
  std::string rest = s;
  bool scheme = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isalpha(static_cast<unsigned char>(c))) continue;
    if (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
      continue;
    if (c == ':') {
      if (i == 0) return err("missing protocol scheme");
      scheme = true;
      rest = s.substr(i + 1);
    }
    break;
  }
  if (auto q = rest.find('?'); q != std::string::npos) rest = rest.substr(0, q);
  if (!scheme && (rest.empty() || rest[0] != '/')) return err("invalid URI for request");
  if (scheme && (rest.empty() || rest[0] != '/')) return {};  // opaque: mailto:x
  if (rest.rfind("//", 0) == 0) {
    std::string authority = rest.substr(
        2, rest.find('/', 2) == std::string::npos ? std::string::npos : rest.find('/', 2) - 2);
    std::string host =
        authority.substr(authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
    size_t colon = host.rfind(':');
    if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
      std::string port = host.substr(colon);
      for (size_t i = 1; i < port.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(port[i])))
          return err("invalid port " + goQuoted(port) + " after host");
      }
    }
  }
  return {};
}

// strfmt's uuid: 32 hex digits, in the 8-4-4-4-12 groups with optional dashes.
bool isUuid(const std::string& s) {
  static const size_t kGroups[] = {8, 4, 4, 4, 12};
  size_t i = 0;
  for (size_t g = 0; g < 5; ++g) {
    if (g > 0 && i < s.size() && s[i] == '-') ++i;
    for (size_t k = 0; k < kGroups[g]; ++k, ++i) {
      if (i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
  }
  return i == s.size();
}

bool isDate(const std::string& s) {
  return s.size() == 10 && parseTimestamp(s + "T00:00:00Z").has_value();
}

// strfmt's date-time: RFC 3339, or without a zone (ISO 8601 local time).
bool isDateTime(const std::string& s) {
  if (parseTimestamp(s)) return true;
  return s.size() >= 19 && s.find_first_of("Zz+", 19) == std::string::npos &&
         s.find('-', 19) == std::string::npos && parseTimestamp(s + "Z").has_value();
}

const std::vector<std::string>& formatNames() {
  static const std::vector<std::string> kNames = {"dns1123Label",
                                                  "dns1123Subdomain",
                                                  "dns1035Label",
                                                  "qualifiedName",
                                                  "dns1123LabelPrefix",
                                                  "dns1123SubdomainPrefix",
                                                  "dns1035LabelPrefix",
                                                  "labelValue",
                                                  "uri",
                                                  "uuid",
                                                  "byte",
                                                  "date",
                                                  "datetime"};
  return kNames;
}

bool isFormatName(const std::string& n) {
  const auto& names = formatNames();
  return std::find(names.begin(), names.end(), n) != names.end();
}

Type namedFormatType() {
  Type t = Type::of(K::kOpaque);
  t.objectName = kNamedFormatType;
  return t;
}

}  // namespace

std::optional<std::vector<std::string>> validateNamedFormat(const std::string& name,
                                                            const std::string& s) {
  using namespace core::validation;
  auto one = [](bool ok, const char* why) {
    return ok ? std::vector<std::string>{} : std::vector<std::string>{why};
  };
  if (name == "dns1123Label") return isDns1123Label(s);
  if (name == "dns1123Subdomain") return isDns1123Subdomain(s);
  if (name == "dns1035Label") return isDns1035Label(s);
  if (name == "qualifiedName") return isQualifiedName(s);
  if (name == "dns1123LabelPrefix") return isDns1123Label(maskTrailingDash(s));
  if (name == "dns1123SubdomainPrefix") return isDns1123Subdomain(maskTrailingDash(s));
  if (name == "dns1035LabelPrefix") return isDns1035Label(maskTrailingDash(s));
  if (name == "labelValue") return isValidLabelValue(s);
  if (name == "uri") return validateUri(s);
  if (name == "uuid") return one(isUuid(s), "does not match the UUID format");
  if (name == "byte") return one(core::base64Decode(s).has_value(), "invalid base64");
  if (name == "date") return one(isDate(s), "invalid date");
  if (name == "datetime") return one(isDateTime(s), "invalid datetime");
  return std::nullopt;
}

Type checkFormatNamespaceCall(const Expr& e, const std::vector<Type>& args) {
  auto stringArg = [&] {
    return args.size() == 1 && (args[0].k == K::kString || args[0].k == K::kDyn);
  };
  if (e.name == "named") {
    if (!stringArg())
      throw CheckError{e.offset, "found no matching overload for 'format.named' applied to '(" +
                                     (args.empty() ? std::string() : args[0].name()) + ")'"};
    return Type::optionalOf(namedFormatType());
  }
  if (!isFormatName(e.name))
    throw CheckError{e.offset, "undeclared reference to '" + e.name + "' (in container 'format')"};
  if (!args.empty())
    throw CheckError{e.offset, "found no matching overload for 'format." + e.name + "'"};
  return namedFormatType();
}

Value callFormatNamespace(const std::string& fn, const std::vector<Value>& args) {
  if (fn == "named" && args.size() == 1 && args[0].kind() == Kind::kString) {
    if (!isFormatName(args[0].asString())) return Value::optional(std::nullopt);
    return Value::optional(Value::opaque(kNamedFormatType, args[0].asString()));
  }
  if (args.empty() && isFormatName(fn)) return Value::opaque(kNamedFormatType, fn);
  return noSuchOverload("format." + fn, args);
}

std::optional<Type> checkFormatMember(const Expr& e, const std::vector<Type>& types) {
  if (!e.target) return std::nullopt;
  auto fits = [&](size_t i, K k, const char* opaque = nullptr) {
    if (i >= types.size()) return false;
    if (types[i].k == K::kDyn) return true;
    return types[i].k == k && (!opaque || types[i].objectName == opaque);
  };
  if (e.name == "validate" && (types[0].k == K::kDyn || types[0].objectName == kNamedFormatType)) {
    if (types.size() == 2 && fits(0, K::kOpaque, kNamedFormatType) && fits(1, K::kString))
      return Type::optionalOf(Type::listOf(Type::of(K::kString)));
  } else if (e.name == "format" && (types[0].k == K::kDyn || types[0].k == K::kString)) {
    if (types.size() == 2 && fits(0, K::kString) && fits(1, K::kList)) return Type::of(K::kString);
  } else {
    return std::nullopt;
  }
  std::string args;
  for (size_t i = 1; i < types.size(); ++i) args += (i > 1 ? ", " : "") + types[i].name();
  throw CheckError{e.offset, "found no matching overload for '" + e.name + "' applied to '" +
                                 types[0].name() + ".(" + args + ")'"};
}

std::optional<Value> callFormatMember(const std::string& fn, const std::vector<Value>& a) {
  if (a.size() != 2) return std::nullopt;
  if (fn == "validate" && a[0].kind() == Kind::kOpaque && a[0].typeName() == kNamedFormatType) {
    if (a[1].kind() != Kind::kString) return noSuchOverload(fn, a);
    auto errs = validateNamedFormat(a[0].asString(), a[1].asString());
    if (!errs) return noSuchOverload(fn, a);
    if (errs->empty()) return Value::optional(std::nullopt);
    ValueList list;
    for (auto& m : *errs) list.push_back(Value::string(std::move(m)));
    return Value::optional(Value::list(std::move(list)));
  }
  if (fn == "format" && a[0].kind() == Kind::kString) {
    if (a[1].kind() != Kind::kList) return noSuchOverload(fn, a);
    return formatString(a[0].asString(), a[1]);
  }
  return std::nullopt;
}

}  // namespace berth::cel::detail
