#include "cel/parser.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

namespace berth::cel {

std::string formatIssue(std::string_view source, size_t offset, const std::string& message) {
  offset = std::min(offset, source.size());
  size_t line = 1, lineStart = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  size_t lineEnd = source.find('\n', lineStart);
  std::string_view text = source.substr(lineStart, lineEnd == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : lineEnd - lineStart);
  size_t col = offset - lineStart;
  return "ERROR: <input>:" + std::to_string(line) + ":" + std::to_string(col + 1) + ": " +
         message + "\n | " + std::string(text) + "\n | " + std::string(col, '.') + "^";
}

namespace {

enum class Tok {
  kEof, kInt, kUint, kDouble, kString, kBytes, kIdent, kPunct
};

struct Token {
  Tok kind = Tok::kEof;
  size_t offset = 0;
  std::string text;     // identifier, punctuation, or decoded string/bytes
  uint64_t magnitude = 0;  // kInt / kUint
  double number = 0;       // kDouble
};

struct SyntaxError {
  size_t offset;
  std::string message;
};

const std::set<std::string, std::less<>> kReserved = {
    "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
    "loop", "package", "namespace", "return", "var", "void", "while"};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next() {
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
        if (l == 'r' && !raw) raw = true, ++p;
        else if (l == 'b' && !bytes) bytes = true, ++p;
        else break;
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
    throw SyntaxError{pos_, "Syntax error: token recognition error at: '" + std::string(1, c) +
                                "'"};
  }

 private:
  void skipSpace() {
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

  Token number(Token t) {
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

  Token integer(Token t, std::string_view digits, int base) {
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.magnitude, base);
    if (r.ec != std::errc()) throw SyntaxError{t.offset, "Syntax error: integer out of range"};
    t.kind = Tok::kInt;
    if (pos_ < s_.size() && (s_[pos_] == 'u' || s_[pos_] == 'U')) {
      ++pos_;
      t.kind = Tok::kUint;
    }
    return t;
  }

  static void appendUtf8(std::string& out, uint32_t cp) {
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

  uint32_t hexDigits(size_t n) {
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

  void escape(std::string& out, bool bytes, char quote) {
    size_t at = pos_ - 1;
    if (pos_ >= s_.size()) throw SyntaxError{at, "Syntax error: invalid escape sequence"};
    char c = s_[pos_++];
    switch (c) {
      case 'a': out += '\a'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'v': out += '\v'; return;
      case '\\': case '\'': case '"': case '`': case '?': out += c; return;
      case 'x': case 'X': {
        uint32_t v = hexDigits(2);
        if (bytes) out += static_cast<char>(v);
        else appendUtf8(out, v);
        return;
      }
      case 'u': case 'U': {
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
          if (bytes) out += static_cast<char>(v);
          else appendUtf8(out, v);
          return;
        }
        (void)quote;
        throw SyntaxError{at, "Syntax error: invalid escape sequence"};
    }
  }

  Token string(Token t, bool raw, bool bytes) {
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

  std::string_view s_;
  size_t pos_ = 0;
};

ExprPtr node(Expr::Type type, size_t offset) {
  auto e = std::make_unique<Expr>();
  e->type = type;
  e->offset = offset;
  return e;
}

ExprPtr call(std::string fn, size_t offset, std::vector<ExprPtr> args, ExprPtr target = nullptr) {
  auto e = node(Expr::Type::kCall, offset);
  e->name = std::move(fn);
  e->args = std::move(args);
  e->target = std::move(target);
  return e;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : lex_(s) { advance(); }

  ExprPtr parseAll() {
    ExprPtr e = expr();
    if (tok_.kind != Tok::kEof) fail("extraneous input " + describe(tok_));
    return e;
  }

 private:
  void advance() { tok_ = lex_.next(); }
  bool is(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  bool accept(std::string_view p) {
    if (!is(p)) return false;
    advance();
    return true;
  }
  static std::string describe(const Token& t) {
    if (t.kind == Tok::kEof) return "'<EOF>'";
    if (t.kind == Tok::kPunct || t.kind == Tok::kIdent) return "'" + t.text + "'";
    return "literal";
  }
  [[noreturn]] void fail(const std::string& msg) {
    throw SyntaxError{tok_.offset, "Syntax error: " + msg};
  }
  void expect(std::string_view p) {
    if (!accept(p)) fail("mismatched input " + describe(tok_) + " expecting '" + std::string(p) + "'");
  }

  // Counts nesting: one level per recursive descent and per link of an operator or member
  // chain (a chain nests in the tree the evaluator walks), restored when the scope ends.
  struct Depth {
    explicit Depth(Parser& p, bool enter = true) : p_(p) {
      if (enter) deeper();
    }
    void deeper() {
      ++added_;
      if (++p_.depth_ > kMaxNesting) {
        throw SyntaxError{p_.tok_.offset, "expression recursion limit exceeded"};
      }
    }
    ~Depth() { p_.depth_ -= added_; }
    Parser& p_;
    int added_ = 0;
  };

  ExprPtr expr() {
    Depth d(*this);
    ExprPtr cond = orExpr();
    if (!is("?")) return cond;
    size_t at = tok_.offset;
    advance();
    ExprPtr a = orExpr();
    expect(":");
    ExprPtr b = expr();
    std::vector<ExprPtr> args;
    args.push_back(std::move(cond));
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return call("_?_:_", at, std::move(args));
  }

  ExprPtr binary(ExprPtr lhs, const std::string& fn, size_t at, ExprPtr rhs) {
    std::vector<ExprPtr> args;
    args.push_back(std::move(lhs));
    args.push_back(std::move(rhs));
    return call(fn, at, std::move(args));
  }

  ExprPtr orExpr() {
    ExprPtr e = andExpr();
    while (is("||")) {
      size_t at = tok_.offset;
      advance();
      e = binary(std::move(e), "_||_", at, andExpr());
    }
    return e;
  }

  ExprPtr andExpr() {
    ExprPtr e = relation();
    Depth chain(*this, false);
    while (is("&&")) {
      chain.deeper();
      size_t at = tok_.offset;
      advance();
      e = binary(std::move(e), "_&&_", at, relation());
    }
    return e;
  }

  ExprPtr relation() {
    ExprPtr e = addition();
    Depth chain(*this, false);
    for (;;) {
      std::string fn;
      if (tok_.kind == Tok::kIdent && tok_.text == "in") fn = "@in";
      for (const char* op : {"<", "<=", ">", ">=", "==", "!="}) {
        if (is(op)) fn = std::string("_") + op + "_";
      }
      if (fn.empty()) return e;
      size_t at = tok_.offset;
      advance();
      chain.deeper();
      e = binary(std::move(e), fn, at, addition());
    }
  }

  ExprPtr addition() {
    ExprPtr e = multiplication();
    Depth chain(*this, false);
    while (is("+") || is("-")) {
      std::string fn = "_" + tok_.text + "_";
      size_t at = tok_.offset;
      advance();
      chain.deeper();
      e = binary(std::move(e), fn, at, multiplication());
    }
    return e;
  }

  ExprPtr multiplication() {
    ExprPtr e = unary();
    Depth chain(*this, false);
    while (is("*") || is("/") || is("%")) {
      std::string fn = "_" + tok_.text + "_";
      size_t at = tok_.offset;
      advance();
      chain.deeper();
      e = binary(std::move(e), fn, at, unary());
    }
    return e;
  }

  ExprPtr unary() {
    Depth d(*this);
    if (is("!") || is("-")) {
      std::string op = tok_.text;
      size_t at = tok_.offset;
      advance();
      // A negative numeric literal is one literal (so -9223372036854775808 is an int).
      if (op == "-" && (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) && !peekMember()) {
        auto e = node(Expr::Type::kLiteral, at);
        if (tok_.kind == Tok::kDouble) {
          e->literal = Value::dbl(-tok_.number);
        } else {
          if (tok_.magnitude > static_cast<uint64_t>(INT64_MAX) + 1) fail("integer out of range");
          e->literal = Value::integer(static_cast<int64_t>(0 - tok_.magnitude));
        }
        advance();
        return member(std::move(e));
      }
      std::vector<ExprPtr> args;
      args.push_back(unary());
      return call(op + "_", at, std::move(args));
    }
    return member(primary());
  }

  // Whether the literal about to be folded into a negative one is followed by a member
  // access (then `-1.foo()` negates the call, as cel-go does not fold there either).
  bool peekMember() {
    Lexer copy = lex_;
    Token next = copy.next();
    return next.kind == Tok::kPunct && (next.text == "." || next.text == "[");
  }

  std::vector<ExprPtr> exprList(std::string_view close) {
    std::vector<ExprPtr> out;
    if (accept(close)) return out;
    for (;;) {
      out.push_back(expr());
      if (accept(close)) return out;
      expect(",");
      if (accept(close)) return out;  // trailing comma
    }
  }

  ExprPtr member(ExprPtr e) {
    Depth chain(*this, false);
    for (;;) {
      if (is(".") || is("[")) chain.deeper();
      if (is(".")) {
        size_t at = tok_.offset;
        advance();
        if (tok_.kind != Tok::kIdent) fail("mismatched input " + describe(tok_) + " expecting IDENTIFIER");
        std::string field = tok_.text;
        advance();
        if (is("(")) {
          advance();
          e = call(field, at, exprList(")"), std::move(e));
        } else {
          auto s = node(Expr::Type::kSelect, at);
          s->name = field;
          s->target = std::move(e);
          e = std::move(s);
        }
      } else if (is("[")) {
        size_t at = tok_.offset;
        advance();
        ExprPtr idx = expr();
        expect("]");
        e = binary(std::move(e), "_[_]", at, std::move(idx));
      } else {
        return e;
      }
    }
  }

  ExprPtr primary() {
    Depth d(*this);
    size_t at = tok_.offset;
    switch (tok_.kind) {
      case Tok::kInt: {
        if (tok_.magnitude > static_cast<uint64_t>(INT64_MAX)) fail("integer out of range");
        auto e = node(Expr::Type::kLiteral, at);
        e->literal = Value::integer(static_cast<int64_t>(tok_.magnitude));
        advance();
        return e;
      }
      case Tok::kUint: {
        auto e = node(Expr::Type::kLiteral, at);
        e->literal = Value::uinteger(tok_.magnitude);
        advance();
        return e;
      }
      case Tok::kDouble: {
        auto e = node(Expr::Type::kLiteral, at);
        e->literal = Value::dbl(tok_.number);
        advance();
        return e;
      }
      case Tok::kString:
      case Tok::kBytes: {
        auto e = node(Expr::Type::kLiteral, at);
        e->literal =
            tok_.kind == Tok::kString ? Value::string(tok_.text) : Value::bytes(tok_.text);
        advance();
        return e;
      }
      case Tok::kIdent: return identifier();
      case Tok::kPunct:
        if (accept("(")) {
          ExprPtr e = expr();
          expect(")");
          return e;
        }
        if (accept("[")) {
          auto e = node(Expr::Type::kList, at);
          e->args = exprList("]");
          return e;
        }
        if (accept("{")) return mapLiteral(at);
        if (is(".")) fail("leading '.' names are not supported");
        break;
      case Tok::kEof: break;
    }
    fail("mismatched input " + describe(tok_) + " expecting expression");
  }

  ExprPtr mapLiteral(size_t at) {
    auto e = node(Expr::Type::kMap, at);
    if (accept("}")) return e;
    for (;;) {
      e->args.push_back(expr());
      expect(":");
      e->args.push_back(expr());
      if (accept("}")) return e;
      expect(",");
      if (accept("}")) return e;
    }
  }

  ExprPtr identifier() {
    size_t at = tok_.offset;
    std::string name = tok_.text;
    if (kReserved.count(name)) fail("reserved identifier: " + name);
    advance();
    if (name == "true" || name == "false") {
      auto e = node(Expr::Type::kLiteral, at);
      e->literal = Value::boolean(name == "true");
      return e;
    }
    if (name == "null") return node(Expr::Type::kLiteral, at);
    if (name == "in") fail("mismatched input 'in' expecting expression");
    if (accept("(")) {
      auto args = exprList(")");
      if (name == "has") {
        if (args.size() != 1 || args[0]->type != Expr::Type::kSelect) {
          throw SyntaxError{at, "invalid argument to has() macro"};
        }
        args[0]->testOnly = true;
        return std::move(args[0]);
      }
      return call(name, at, std::move(args));
    }
    if (is("{")) fail("message construction is not supported");
    auto e = node(Expr::Type::kIdent, at);
    e->name = name;
    return e;
  }

  Lexer lex_;
  Token tok_;
  int depth_ = 0;
};

}  // namespace

std::variant<ExprPtr, CompileError> parse(std::string_view source) {
  if (source.size() > kMaxExpressionLength) {
    return CompileError{"ERROR: <input>:1:1: expression code point size exceeds limit: size: " +
                        std::to_string(source.size()) +
                        ", limit " + std::to_string(kMaxExpressionLength)};
  }
  try {
    Parser p(source);
    return p.parseAll();
  } catch (const SyntaxError& e) {
    return CompileError{formatIssue(source, e.offset, e.message)};
  }
}

}  // namespace berth::cel
