#pragma once
// The strict CEL functions and operators (arguments already evaluated, none an error): the
// comparison, arithmetic and membership operators, indexing, size(), the string functions and
// the type conversions. Runtime type mismatches are error values ("no matching overload ...").
//
// Thread-safety: pure functions.
#include <string>
#include <vector>

#include "cel/value.h"

namespace berth::cel {

Value callFunction(const std::string& fn, const std::vector<Value>& args);

Value noSuchOverload(const std::string& fn, const std::vector<Value>& args);

}  // namespace berth::cel
