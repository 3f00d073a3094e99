#pragma once
// Kubernetes' CEL extension libraries for stored expressions (internal to src/cel): cel-go's
// strings extension (charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
// substring, trim, join, reverse) and Kubernetes' lists (isSorted, sum, min, max, indexOf,
// lastIndexOf) and regex (find, findAll) libraries. All are member calls; string positions
// count code points, as cel-go's.
//
// Thread-safety: pure functions.
#include <optional>
#include <string>
#include <vector>

#include "cel/ast.h"
#include "cel/cel.h"

namespace berth::cel::detail {

struct CheckError {
  size_t offset;
  std::string message;
};

// The result type of an extension call; nullopt when `e` is not one. Throws CheckError when it
// is, but the operand types (receiver first) fit none of its overloads.
std::optional<Type> checkExtensionCall(const Expr& e, const std::vector<Type>& types);

// Evaluates an extension function (receiver first, no argument an error); nullopt when `fn`
// is not one.
std::optional<Value> callExtensionFunction(const std::string& fn, const std::vector<Value>& args);

}  // namespace berth::cel::detail
