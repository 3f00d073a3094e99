#include "cel/lexer.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace berth::cel::detail {

Token Lexer::next() {
  skipSpace();
  Token t;
  t.offset = pos_;
  if (pos_ >= s_.size()) return t;
  char c = s_[pos_];
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))))
    return number(t);
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
    // String prefixes: r, b, rb, br in any case, directly followed by a quote.
    size_t p = pos_;
    bool raw = false, bytes = false;
    for (int k = 0; k < 2 && p < s_.size(); ++k) {
      char l = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[p])));
      if (l == 'r' && !raw)
        raw = true, ++p;
      else if (l == 'b' && !bytes)
        bytes = true, ++p;
      else
        break;
    }
    if ((raw || bytes) && p < s_.size() && (s_[p] == '"' || s_[p] == '\'')) {
      pos_ = p;
      return string(t, raw, bytes);
    }
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    t.kind = Tok::kIdent;
    t.text = std::string(s_.substr(start, pos_ - start));
    return t;
  }
  if (c == '"' || c == '\'') return string(t, false, false);
  static const char* kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
  for (const char* op : kTwo) {
    if (s_.substr(pos_, 2) == op) {
      pos_ += 2;
      t.kind = Tok::kPunct;
      t.text = op;
      return t;
    }
  }
  if (std::string_view("+-*/%!<>?:.,()[]{}").find(c) != std::string_view::npos) {
    ++pos_;
    t.kind = Tok::kPunct;
    t.text = std::string(1, c);
    return t;
  }
  throw SyntaxError{pos_, "Syntax error: token recognition error at: '" + std::string(1, c) + "'"};
}

void Lexer::skipSpace() {
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++pos_;
    } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    } else {
      break;
    }
  }
}

Token Lexer::number(Token t) {
  size_t start = pos_;
  bool hex = s_.substr(pos_, 2) == "0x" || s_.substr(pos_, 2) == "0X";
  if (hex) {
    pos_ += 2;
    size_t digits = pos_;
    while (pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == digits) throw SyntaxError{start, "Syntax error: invalid hex literal"};
    return integer(t, s_.substr(digits, pos_ - digits), 16);
  }
  while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  bool isDouble = false;
  if (pos_ + 1 < s_.size() && s_[pos_] == '.' &&
      std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
    isDouble = true;
    ++pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
    size_t p = pos_ + 1;
    if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
    if (p < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p]))) {
      isDouble = true;
      pos_ = p;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
  }
  if (isDouble) {
    t.kind = Tok::kDouble;
    t.number = std::strtod(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr);
    return t;
  }
  return integer(t, s_.substr(start, pos_ - start), 10);
}

Token Lexer::integer(Token t, std::string_view digits, int base) {
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.magnitude, base);
  if (r.ec != std::errc()) throw SyntaxError{t.offset, "Syntax error: integer out of range"};
  t.kind = Tok::kInt;
  if (pos_ < s_.size() && (s_[pos_] == 'u' || s_[pos_] == 'U')) {
    ++pos_;
    t.kind = Tok::kUint;
  }
  return t;
}

void Lexer::escape(std::string& out, bool bytes, char quote) {
  size_t at = pos_ - 1;
  if (pos_ >= s_.size()) throw SyntaxError{at, "Syntax error: invalid escape sequence"};
  char c = s_[pos_++];
  switch (c) {
    case 'a':
      out += '\a';
      return;
    case 'b':
      out += '\b';
      return;
    case 'f':
      out += '\f';
      return;
    case 'n':
      out += '\n';
      return;
    case 'r':
      out += '\r';
      return;
    case 't':
      out += '\t';
      return;
    case 'v':
      out += '\v';
      return;
    case '\\':
    case '\'':
    case '"':
    case '`':
    case '?':
      out += c;
      return;
    case 'x':
    case 'X': {
      uint32_t v = hexDigits(2);
      if (bytes)
        out += static_cast<char>(v);
      else
        appendUtf8(out, v);
      return;
    }
    case 'u':
    case 'U': {
      if (bytes) throw SyntaxError{at, "Syntax error: \\u escape in bytes literal"};
      uint32_t v = hexDigits(c == 'u' ? 4 : 8);
      if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
        throw SyntaxError{at, "Syntax error: invalid unicode code point"};
      appendUtf8(out, v);
      return;
    }
    default:
      if (c >= '0' && c <= '3' && pos_ + 1 < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7' &&
          s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '7') {
        uint32_t v = (c - '0') * 64 + (s_[pos_] - '0') * 8 + (s_[pos_ + 1] - '0');
        pos_ += 2;
        if (bytes)
          out += static_cast<char>(v);
        else
          appendUtf8(out, v);
        return;
      }
      (void)quote;
      throw SyntaxError{at, "Syntax error: invalid escape sequence"};
  }
}

Token Lexer::string(Token t, bool raw, bool bytes) {
  char q = s_[pos_];
  bool triple = s_.substr(pos_, 3) == std::string(3, q);
  pos_ += triple ? 3 : 1;
  std::string out;
  for (;;) {
    if (pos_ >= s_.size()) throw SyntaxError{t.offset, "Syntax error: unterminated string"};
    char c = s_[pos_];
    if (triple ? s_.substr(pos_, 3) == std::string(3, q) : c == q) {
      pos_ += triple ? 3 : 1;
      break;
    }
    if (!triple && (c == '\n' || c == '\r'))
      throw SyntaxError{t.offset, "Syntax error: unterminated string"};
    ++pos_;
    if (c == '\\' && !raw) {
      escape(out, bytes, q);
    } else if (c == '\\' && raw && pos_ < s_.size() && s_[pos_] == q && !triple) {
      out += c;  // a raw string keeps the backslash but the quote does not end it
      out += s_[pos_++];
    } else {
      out += c;
    }
  }
  t.kind = bytes ? Tok::kBytes : Tok::kString;
  t.text = std::move(out);
  return t;
}

void Lexer::appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t Lexer::hexDigits(size_t n) {
  if (pos_ + n > s_.size()) throw SyntaxError{pos_, "Syntax error: invalid escape sequence"};
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s_[pos_++];
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      throw SyntaxError{pos_ - 1, "Syntax error: invalid escape sequence"};
    v = v * 16 + (std::isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return v;
}

}  // namespace berth::cel::detail
