#pragma once
// A CEL parser (cel-spec's grammar without message construction, with cel-go's optional syntax:
// field selection `a.?b`, indexing `m[?k]`, list and map entries `[?a]`, `{?k: v}`): literals
// (null, bool, int, uint, double, string, bytes, raw and triple-quoted strings), lists, maps,
// field selection, indexing, member and global calls, the operators with CEL's precedence, `? :`
// and the has() macro. Hostile input is bounded: expressions past
// kMaxExpressionLength characters or kMaxNesting levels are rejected, never recursed into.
//
// Thread-safety: pure function.
#include <string>
#include <string_view>
#include <variant>

#include "cel/ast.h"

namespace berth::cel {

constexpr size_t kMaxExpressionLength = 100 * 1024;
constexpr int kMaxNesting = 250;  // levels of the tree, as cel-go's parser limit

// A failure to parse or check: cel-go's rendering, e.g.
// "ERROR: <input>:1:5: Syntax error: mismatched input ... \n | a + \n | ....^".
struct CompileError {
  std::string message;
};

// Formats one issue at `offset` of `source` the way cel-go's issues.String() does.
std::string formatIssue(std::string_view source, size_t offset, const std::string& message);

std::variant<ExprPtr, CompileError> parse(std::string_view source);

}  // namespace berth::cel
