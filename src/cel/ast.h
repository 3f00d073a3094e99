#pragma once
// The parsed form of a CEL expression. Operators are calls with cel-go's internal names
// ("_+_", "_&&_", "!_", "-_", "_?_:_", "_[_]", "@in"); `has(a.b)` is a Select with testOnly;
// macros (exists, all, exists_one, map, filter) stay calls on their target and are expanded by
// the evaluator.
//
// Thread-safety: immutable after parsing.
#include <memory>
#include <string>
#include <vector>

#include "cel/value.h"

namespace berth::cel {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Type { kLiteral, kIdent, kSelect, kCall, kList, kMap };
  Type type = Type::kLiteral;
  size_t offset = 0;          // where in the source it starts, for messages
  Value literal;              // kLiteral
  std::string name;           // kIdent: the name; kSelect: the field; kCall: the function
  bool testOnly = false;      // kSelect: has()
  ExprPtr target;             // kSelect: the operand; kCall: the receiver of a member call
  std::vector<ExprPtr> args;  // kCall: arguments; kList: items; kMap: key, value, key, ...
  // cel-go's optional entries: indexes of `[?a]` items (kList) or of `{?k: v}` entries (kMap,
  // counted in entries, not args), ascending. Their value is an optional; none leaves them out.
  std::vector<size_t> optionalIndices;

  bool isOptionalEntry(size_t i) const;
};

// Renders an expression as CEL source that parses back to the same tree (operators fully
// parenthesized).
std::string unparse(const Expr& e);

}  // namespace berth::cel
