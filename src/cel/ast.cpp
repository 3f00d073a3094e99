#include "cel/ast.h"

#include <algorithm>
#include <map>

namespace berth::cel {

namespace {

const std::map<std::string, std::string>& binaryOperators() {
  static const std::map<std::string, std::string> ops = {
      {"_||_", "||"}, {"_&&_", "&&"}, {"_<_", "<"},   {"_<=_", "<="}, {"_>_", ">"},
      {"_>=_", ">="}, {"_==_", "=="}, {"_!=_", "!="}, {"@in", "in"},  {"_+_", "+"},
      {"_-_", "-"},   {"_*_", "*"},   {"_/_", "/"},   {"_%_", "%"}};
  return ops;
}

std::string joined(const Expr& e, size_t step, const char* pairSep) {
  const std::vector<ExprPtr>& items = e.args;
  std::string out;
  for (size_t i = 0; i < items.size(); i += step) {
    if (i) out += ", ";
    if (e.type != Expr::Type::kCall && e.isOptionalEntry(i / step)) out += "?";
    out += unparse(*items[i]);
    if (step == 2) out += pairSep + unparse(*items[i + 1]);
  }
  return out;
}

}  // namespace

bool Expr::isOptionalEntry(size_t i) const {
  return std::binary_search(optionalIndices.begin(), optionalIndices.end(), i);
}

std::string unparse(const Expr& e) {
  switch (e.type) {
    case Expr::Type::kLiteral: {
      std::string s = e.literal.debugString();
      // A negative number is wrapped so that it stays one literal after a member access.
      return !s.empty() && s[0] == '-' ? "(" + s + ")" : s;
    }
    case Expr::Type::kIdent:
      return e.name;
    case Expr::Type::kSelect: {
      std::string s = unparse(*e.target) + "." + e.name;
      return e.testOnly ? "has(" + s + ")" : s;
    }
    case Expr::Type::kList:
      return "[" + joined(e, 1, "") + "]";
    case Expr::Type::kMap:
      return "{" + joined(e, 2, ": ") + "}";
    case Expr::Type::kCall:
      break;
  }
  const auto& bin = binaryOperators();
  if (auto it = bin.find(e.name); it != bin.end() && e.args.size() == 2 && !e.target) {
    return "(" + unparse(*e.args[0]) + " " + it->second + " " + unparse(*e.args[1]) + ")";
  }
  if ((e.name == "!_" || e.name == "-_") && e.args.size() == 1 && !e.target) {
    // The operand is parenthesized so that `-(1)` stays a negation and not a literal.
    return "(" + e.name.substr(0, 1) + "(" + unparse(*e.args[0]) + "))";
  }
  if (e.name == "_?_:_" && e.args.size() == 3) {
    return "(" + unparse(*e.args[0]) + " ? " + unparse(*e.args[1]) + " : " + unparse(*e.args[2]) +
           ")";
  }
  if (e.name == "_[_]" && e.args.size() == 2) {
    return unparse(*e.args[0]) + "[" + unparse(*e.args[1]) + "]";
  }
  if (e.name == "_[?_]" && e.args.size() == 2) {
    return unparse(*e.args[0]) + "[?" + unparse(*e.args[1]) + "]";
  }
  if (e.name == "_?._" && e.args.size() == 2 && e.args[1]->type == Expr::Type::kLiteral) {
    return unparse(*e.args[0]) + ".?" + e.args[1]->literal.asString();
  }
  std::string prefix = e.target ? unparse(*e.target) + "." : "";
  return prefix + e.name + "(" + joined(e, 1, "") + ")";
}

}  // namespace berth::cel
