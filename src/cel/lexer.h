#pragma once
// The CEL lexer (internal to src/cel): tokens of cel-spec's lexical grammar, with string and
// bytes literals decoded (escapes, raw and triple-quoted forms) and integer magnitudes left to
// the parser, which knows whether a minus sign precedes them. Errors are thrown as SyntaxError
// and caught by parse(); they never leave the component.
//
// Thread-safety: one lexer per parse; copyable (the parser peeks ahead with a copy).
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::cel::detail {

enum class Tok { kEof, kInt, kUint, kDouble, kString, kBytes, kIdent, kPunct };

struct Token {
  Tok kind = Tok::kEof;
  size_t offset = 0;
  std::string text;        // identifier, punctuation, or decoded string/bytes
  uint64_t magnitude = 0;  // kInt / kUint
  double number = 0;       // kDouble
};

struct SyntaxError {
  size_t offset;
  std::string message;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next();

 private:
  void skipSpace();
  Token number(Token t);
  Token integer(Token t, std::string_view digits, int base);
  static void appendUtf8(std::string& out, uint32_t cp);
  uint32_t hexDigits(size_t n);
  void escape(std::string& out, bool bytes, char quote);
  Token string(Token t, bool raw, bool bytes);

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace berth::cel::detail
