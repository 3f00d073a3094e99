#include "cel/parser.h"

#include "cel/lexer.h"

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
  std::string_view text = source.substr(
      lineStart, lineEnd == std::string_view::npos ? std::string_view::npos : lineEnd - lineStart);
  size_t col = offset - lineStart;
  return "ERROR: <input>:" + std::to_string(line) + ":" + std::to_string(col + 1) + ": " + message +
         "\n | " + std::string(text) + "\n | " + std::string(col, '.') + "^";
}

namespace {

using detail::Lexer;
using detail::SyntaxError;
using detail::Tok;
using detail::Token;

const std::set<std::string, std::less<>> kReserved = {
    "as",  "break", "const",   "continue",  "else",   "for", "function", "if",   "import",
    "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};

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
    if (!accept(p))
      fail("mismatched input " + describe(tok_) + " expecting '" + std::string(p) + "'");
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
        if (accept("?")) {  // a.?field: cel-go's optional field selection
          if (tok_.kind != Tok::kIdent)
            fail("mismatched input " + describe(tok_) + " expecting IDENTIFIER");
          auto field = node(Expr::Type::kLiteral, tok_.offset);
          field->literal = Value::string(tok_.text);
          advance();
          e = binary(std::move(e), "_?._", at, std::move(field));
          continue;
        }
        if (tok_.kind != Tok::kIdent)
          fail("mismatched input " + describe(tok_) + " expecting IDENTIFIER");
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
        bool optional = accept("?");  // m[?key]: optional indexing
        ExprPtr idx = expr();
        expect("]");
        e = binary(std::move(e), optional ? "_[?_]" : "_[_]", at, std::move(idx));
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
        e->literal = tok_.kind == Tok::kString ? Value::string(tok_.text) : Value::bytes(tok_.text);
        advance();
        return e;
      }
      case Tok::kIdent:
        return identifier();
      case Tok::kPunct:
        if (accept("(")) {
          ExprPtr e = expr();
          expect(")");
          return e;
        }
        if (accept("[")) return listLiteral(at);
        if (accept("{")) return mapLiteral(at);
        if (is(".")) fail("leading '.' names are not supported");
        break;
      case Tok::kEof:
        break;
    }
    fail("mismatched input " + describe(tok_) + " expecting expression");
  }

  // [a, ?b]: an optional element is left out when its value is optional.none().
  ExprPtr listLiteral(size_t at) {
    auto e = node(Expr::Type::kList, at);
    if (accept("]")) return e;
    for (;;) {
      if (accept("?")) e->optionalIndices.push_back(e->args.size());
      e->args.push_back(expr());
      if (accept("]")) return e;
      expect(",");
      if (accept("]")) return e;  // trailing comma
    }
  }

  // {k: v, ?k2: opt}: an optional entry is left out when its value is optional.none().
  ExprPtr mapLiteral(size_t at) {
    auto e = node(Expr::Type::kMap, at);
    if (accept("}")) return e;
    for (;;) {
      if (accept("?")) e->optionalIndices.push_back(e->args.size() / 2);
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
                        std::to_string(source.size()) + ", limit " +
                        std::to_string(kMaxExpressionLength)};
  }
  try {
    Parser p(source);
    return p.parseAll();
  } catch (const SyntaxError& e) {
    return CompileError{formatIssue(source, e.offset, e.message)};
  }
}

}  // namespace berth::cel
