#pragma once
// The CEL libraries of CRD validation rules beyond cel-go's strings (internal to src/cel):
// CEL's standard timestamps and durations (timestamp(), duration(), their accessors, arithmetic
// and comparisons) and Kubernetes' quantity, URL, IP and CIDR libraries
// (k8s.io/apiserver/pkg/cel/library: quantity.go, urls.go, ip.go, cidr.go), with the type names
// and error messages those use. Only environments with Env::extensionLibraries see them, as the
// other extension libraries (cel/extensions.h).
//
// Thread-safety: pure functions.
#include <optional>
#include <string>
#include <vector>

#include "cel/ast.h"
#include "cel/cel.h"

namespace berth::cel {

inline constexpr const char* kQuantityType = "kubernetes.Quantity";
inline constexpr const char* kUrlType = "kubernetes.URL";
inline constexpr const char* kIpType = "net.IP";
inline constexpr const char* kCidrType = "net.CIDR";

// Equality of two opaque values of the same type (quantities compare by amount: 1Gi == 1024Mi).
bool opaqueEquals(const Value& a, const Value& b);

namespace detail {

// The result type of a library call or operator on library types; nullopt when `e` is none.
// Throws CheckError (cel/extensions.h) when it is one but no overload fits.
std::optional<Type> checkLibraryCall(const Expr& e, const std::vector<Type>& types);

// Evaluates a library function or an operator with a timestamp/duration operand (receiver first
// for member calls, no argument an error); nullopt when `fn` with these operands is none.
std::optional<Value> callLibraryFunction(const std::string& fn, bool member,
                                         const std::vector<Value>& args);

// ip.isCanonical(s) (a call on the name `ip`).
Value ipIsCanonical(const Value& s);

// Timestamps and durations (time_library.cpp).
std::optional<Value> parseTimestamp(const std::string& rfc3339);  // nullopt when malformed
std::optional<int64_t> parseGoDuration(const std::string& s);     // nanoseconds
std::string formatTimestamp(int64_t seconds, int32_t nanos);      // RFC 3339, as Go's RFC3339Nano
std::optional<Value> callTimeFunction(const std::string& fn, bool member,
                                      const std::vector<Value>& args);

}  // namespace detail
}  // namespace berth::cel
