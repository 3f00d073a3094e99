#pragma once
// Kubernetes' format library (k8s.io/apiserver/pkg/cel/library/format.go, Kubernetes 1.31+) and
// cel-go's string formatting (ext strings, version 1+: "%s is %d".format([a, b])), internal to
// src/cel. Only environments with Env::extensionLibraries see them.
//
//   format.dns1123Label() ... format.datetime()  -> kubernetes.NamedFormat
//   format.named(name)                           -> optional(kubernetes.NamedFormat)
//   <NamedFormat>.validate(s)                    -> optional(list(string)): none when s is valid
//   <string>.format(list)                        -> string
//
// The named formats are upstream's: dns1123Label, dns1123Subdomain, dns1035Label, qualifiedName,
// dns1123LabelPrefix, dns1123SubdomainPrefix, dns1035LabelPrefix, labelValue, uri, uuid, byte,
// date, datetime, with apimachinery's messages.
//
// Thread-safety: pure functions.
#include <optional>
#include <string>
#include <vector>

#include "cel/ast.h"
#include "cel/cel.h"

namespace berth::cel::detail {

inline constexpr const char* kNamedFormatType = "kubernetes.NamedFormat";

// The type of a call on the `format` namespace (format.dns1123Label(), format.named(s)), the
// arguments already checked. Throws CheckError (cel/extensions.h) when it fits none.
Type checkFormatNamespaceCall(const Expr& e, const std::vector<Type>& args);
// Evaluates a call on the `format` namespace.
Value callFormatNamespace(const std::string& fn, const std::vector<Value>& args);

// validate() on a named format and format() on a string (receiver first); nullopt when `e` is
// neither.
std::optional<Type> checkFormatMember(const Expr& e, const std::vector<Type>& types);
std::optional<Value> callFormatMember(const std::string& fn, const std::vector<Value>& args);

// The errors of `s` against the named format; nullopt when the name is unknown.
std::optional<std::vector<std::string>> validateNamedFormat(const std::string& name,
                                                            const std::string& s);

// cel-go's <string>.format(<list>): %s %d %f %e %b %x %X %o and %%, with precision (%.2f).
Value formatString(const std::string& pattern, const Value& args);

}  // namespace berth::cel::detail
