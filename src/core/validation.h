// apimachinery's pkg/util/validation: syntax validators returning upstream's error messages (an
// empty list means valid). Used by the object validators (core/kinds), label selectors
// (core/labels) and the API server; no other copy of these rules should exist.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace berth::core::validation {

// RegexError(msg, fmt, examples...) as upstream words it.
std::string regexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples);
std::string maxLenError(size_t n);  // "must be no more than N characters"

// RFC 1123 subdomain (most object names), RFC 1123 label (namespaces, services), RFC 1035 label.
std::vector<std::string> isDns1123Subdomain(std::string_view value);
std::vector<std::string> isDns1123Label(std::string_view value);
std::vector<std::string> isDns1035Label(std::string_view value);
std::vector<std::string> isWildcardDns1123Subdomain(std::string_view value);
std::vector<std::string> isQualifiedName(std::string_view value);  // label/annotation keys
std::vector<std::string> isValidLabelValue(std::string_view value);
std::vector<std::string> isConfigMapKey(std::string_view value);
std::vector<std::string> isValidPortName(std::string_view value);
std::vector<std::string> isValidPortNum(int64_t port);
std::vector<std::string> isEnvVarName(std::string_view value);
std::vector<std::string> isValidPercent(std::string_view value);
bool isValidIp(std::string_view value);  // as Go's net.ParseIP, no leading zeros in IPv4
std::vector<std::string> validatePathSegmentName(std::string_view name, bool prefix);

// Object names (path.ValidatePathSegmentName aside): `prefix` = a generateName prefix, which may
// end in '-'.
std::vector<std::string> nameIsDnsSubdomain(std::string_view name, bool prefix);
std::vector<std::string> nameIsDnsLabel(std::string_view name, bool prefix);
std::vector<std::string> nameIsDns1035Label(std::string_view name, bool prefix);

}  // namespace berth::core::validation
