// Type checking, after cel-go's checker: every name is declared, every operator and function
// has an overload for the operand types that are known statically (dyn matches anything).
#include <re2/re2.h>

#include <algorithm>
#include <set>
#include <vector>

#include "cel/authz.h"
#include "cel/cel.h"
#include "cel/extensions.h"
#include "cel/format_library.h"
#include "cel/k8s_types.h"

namespace berth::cel {

std::string Type::name() const {
  switch (k) {
    case K::kDyn:
      return "dyn";
    case K::kNull:
      return "null_type";
    case K::kBool:
      return "bool";
    case K::kInt:
      return "int";
    case K::kUint:
      return "uint";
    case K::kDouble:
      return "double";
    case K::kString:
      return "string";
    case K::kBytes:
      return "bytes";
    case K::kList:
      return "list(" + elemType().name() + ")";
    case K::kMap:
      return elem ? "map(string, " + elem->name() + ")" : "map(dyn, dyn)";
    case K::kObject:
      return objectName;
    case K::kOptional:
      return "optional_type(" + elemType().name() + ")";
    case K::kType:
      return "type";
    case K::kTimestamp:
      return "google.protobuf.Timestamp";
    case K::kDuration:
      return "google.protobuf.Duration";
    case K::kOpaque:
      return objectName;
  }
  return "dyn";
}

Type Type::listOf(Type elem) {
  Type t = of(K::kList);
  t.elem = std::make_shared<const Type>(std::move(elem));
  return t;
}

Type Type::optionalOf(Type value) {
  Type t = of(K::kOptional);
  t.elem = std::make_shared<const Type>(std::move(value));
  return t;
}

Type Type::mapOf(Type value) {
  Type t = of(K::kMap);
  t.elem = std::make_shared<const Type>(std::move(value));
  return t;
}

namespace {

using K = Type::K;
using detail::CheckError;
using detail::checkExtensionCall;
using detail::checkLibraryCall;

// The type names usable as values (type(x) == string).
const std::set<std::string>& typeNames() {
  static const std::set<std::string> kNames = {"int",   "uint", "double", "bool",      "string",
                                               "bytes", "list", "map",    "null_type", "type"};
  return kNames;
}

bool isNumeric(K k) { return k == K::kInt || k == K::kUint || k == K::kDouble; }

// The issues of cel-go's aggregate literal validator, thrown once the check is done.
struct LiteralIssues {
  std::vector<CheckError> issues;
};

class Checker {
 public:
  explicit Checker(const Env& env) : env_(env) {}

  // Checks a whole expression; then, as cel-go's validators run on a checked AST, the
  // aggregate literal issues, sorted by position.
  Type checkRoot(const Expr& root) {
    markFormatArguments(root, false);
    Type t = check(root);
    if (!literalIssues_.empty()) {
      std::stable_sort(
          literalIssues_.begin(), literalIssues_.end(),
          [](const CheckError& a, const CheckError& b) { return a.offset < b.offset; });
      throw LiteralIssues{std::move(literalIssues_)};
    }
    return t;
  }

  Type check(const Expr& e) {
    switch (e.type) {
      case Expr::Type::kLiteral:
        return literalType(e.literal);
      case Expr::Type::kIdent:
        return ident(e);
      case Expr::Type::kSelect:
        return select(e);
      case Expr::Type::kList:
      case Expr::Type::kMap:
        return aggregate(e);
      case Expr::Type::kCall:
        return call(e);
    }
    return Type::of(K::kDyn);
  }

 private:
  static Type literalType(const Value& v) {
    switch (v.kind()) {
      case Kind::kNull:
        return Type::of(K::kNull);
      case Kind::kBool:
        return Type::of(K::kBool);
      case Kind::kInt:
        return Type::of(K::kInt);
      case Kind::kUint:
        return Type::of(K::kUint);
      case Kind::kDouble:
        return Type::of(K::kDouble);
      case Kind::kString:
        return Type::of(K::kString);
      case Kind::kBytes:
        return Type::of(K::kBytes);
      default:
        return Type::of(K::kDyn);
    }
  }

  // A list or map literal; its optional entries (`[?a]`, `{?k: v}`) must be optionals. Its type
  // is list(T) / map(string, T) when the entries agree, list(dyn) / map(dyn, dyn) when not (the
  // checker's join, cel-go's dynamic aggregate literals).
  Type aggregate(const Expr& e) {
    if (!e.optionalIndices.empty() && !env_.extensionLibraries) fail(e, "unsupported syntax '?'");
    size_t step = e.type == Expr::Type::kMap ? 2 : 1;
    std::vector<Type> keys, values;
    for (size_t i = 0; i < e.args.size(); ++i) {
      Type t = check(*e.args[i]);
      bool valuePart = step == 1 || i % 2 == 1;
      if (valuePart && e.isOptionalEntry(i / step)) {
        if (!fits(t, {K::kOptional}))
          fail(*e.args[i], "expected type 'optional_type' but found '" + t.name() + "'");
        if (t.k == K::kOptional) t = t.elemType();
      }
      (valuePart ? values : keys).push_back(std::move(t));
    }
    bool keysAgree = homogeneous(e, keys, 0, step);
    bool valuesAgree = homogeneous(e, values, step - 1, step);
    if (e.type == Expr::Type::kList) {
      if (values.empty()) return Type::of(K::kList);
      return Type::listOf(valuesAgree ? values[0] : Type::of(K::kDyn));
    }
    bool stringKeys = !keys.empty() && keysAgree && keys[0].k == K::kString;
    return stringKeys && valuesAgree ? Type::mapOf(values[0]) : Type::of(K::kMap);
  }

  // Whether the entries of one part of a literal (`types`, from args[first], args[first + step],
  // ...) have equivalent types. When not, and the literal is not an argument of a string
  // format() call, cel-go's homogeneous aggregate literal validator (on in every Kubernetes CEL
  // environment) reports the first mismatch of a list and every mismatch of a map.
  bool homogeneous(const Expr& e, const std::vector<Type>& types, size_t first, size_t step) {
    bool agree = true;
    for (size_t i = 1; i < types.size(); ++i) {
      if (equivalent(types[0], types[i])) continue;
      agree = false;
      if (!formatArguments_.count(&e)) {
        literalIssues_.push_back(
            {e.args[first + i * step]->offset,
             "expected type '" + types[0].name() + "' but found '" + types[i].name() + "'"});
      }
      if (e.type == Expr::Type::kList) break;
    }
    return agree;
  }

  // cel-go's Type.IsEquivalentType, where dyn matches any type: our checker says dyn where
  // cel-go knows more (optional.none()'s and an empty literal's free type variable, optMap's
  // result), so a dyn entry is taken for one that agrees.
  static bool equivalent(const Type& a, const Type& b) {
    if (a.k == K::kDyn || b.k == K::kDyn) return true;
    if (a.k != b.k) return false;
    if (a.k == K::kObject || a.k == K::kOpaque) return a.objectName == b.objectName;
    if (a.k != K::kList && a.k != K::kMap && a.k != K::kOptional) return true;
    return !a.elem || !b.elem || equivalent(*a.elem, *b.elem);
  }

  // The list and map literals that are arguments of a format() call, or nested in such a
  // literal: the homogeneity check skips them (string.format takes mixed lists).
  void markFormatArguments(const Expr& e, bool underFormat) {
    bool aggregateNode = e.type == Expr::Type::kList || e.type == Expr::Type::kMap;
    if (aggregateNode && underFormat) formatArguments_.insert(&e);
    bool formatCall = e.type == Expr::Type::kCall && e.name == "format";
    auto visit = [&](const Expr& child) {
      bool childAggregate = child.type == Expr::Type::kList || child.type == Expr::Type::kMap;
      markFormatArguments(child, childAggregate && (formatCall || (aggregateNode && underFormat)));
    };
    if (e.target) visit(*e.target);
    for (const auto& a : e.args) visit(*a);
  }

  [[noreturn]] static void fail(const Expr& e, std::string message) {
    throw CheckError{e.offset, std::move(message)};
  }

  [[noreturn]] static void noOverload(const Expr& e, const std::string& fn,
                                      const std::vector<Type>& types) {
    std::string list;
    for (size_t i = 0; i < types.size(); ++i) list += (i ? ", " : "") + types[i].name();
    fail(e, "found no matching overload for '" + fn + "' applied to '(" + list + ")'");
  }

  Type ident(const Expr& e) {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->first == e.name) return it->second;
    }
    if (auto u = env_.unsupported.find(e.name); u != env_.unsupported.end()) fail(e, u->second);
    if (auto v = env_.variables.find(e.name); v != env_.variables.end()) return v->second;
    if (env_.extensionLibraries && typeNames().count(e.name)) return Type::of(K::kType);
    fail(e, "undeclared reference to '" + e.name + "' (in container '')");
  }

  Type select(const Expr& e) {
    Type t = check(*e.target);
    // Selection on an optional is optional too (cel-go's optional chaining: a.?b.c).
    if (t.k == K::kOptional && env_.extensionLibraries && !e.testOnly)
      return Type::optionalOf(fieldType(e, t.elemType(), e.name));
    Type field = fieldType(e, t, e.name);
    return e.testOnly ? Type::of(K::kBool) : field;
  }

  Type fieldType(const Expr& e, const Type& t, const std::string& name) {
    Type result = Type::of(K::kDyn);
    if (t.k == K::kObject) {
      auto f = t.fields->find(name);
      if (f == t.fields->end()) fail(e, "undefined field '" + name + "'");
      result = f->second;
    } else if (t.k == K::kMap) {
      result = t.elemType();
    } else if (t.k != K::kDyn) {
      fail(e, "type '" + t.name() + "' does not support field selection");
    }
    return result;
  }

  // `a.?f` and `a[?k]`: an optional of the field or element (none when absent).
  Type optionalAccess(const Expr& e) {
    Type t = check(*e.args[0]);
    if (t.k == K::kOptional) t = t.elemType();
    if (e.name == "_?._") return Type::optionalOf(fieldType(e, t, e.args[1]->literal.asString()));
    Type index = check(*e.args[1]);
    if (!fits(t, {K::kList, K::kMap})) noOverload(e, e.name, {t, index});
    if (t.k == K::kList && !fits(index, {K::kInt, K::kUint})) noOverload(e, e.name, {t, index});
    return Type::optionalOf(t.elemType());
  }

  // Operand types that are either dyn or one of `allowed`.
  static bool fits(const Type& t, const std::vector<K>& allowed) {
    if (t.k == K::kDyn) return true;
    for (K k : allowed) {
      if (t.k == k) return true;
    }
    return false;
  }

  Type call(const Expr& e) {
    const std::string& fn = e.name;
    if (e.target && isMacro(fn)) return macro(e);
    if (e.target && env_.extensionLibraries && (fn == "optMap" || fn == "optFlatMap"))
      return optionalMacro(e);
    if (env_.extensionLibraries && (fn == "_?._" || fn == "_[?_]")) return optionalAccess(e);
    if (env_.extensionLibraries && isCallOn(e, "ip") && fn == "isCanonical") {
      if (e.args.size() != 1 || !fits(check(*e.args[0]), {K::kString}))
        fail(e, "found no matching overload for 'ip.isCanonical'");
      return Type::of(K::kBool);
    }
    if (env_.extensionLibraries && isCallOn(e, "format")) {
      std::vector<Type> args;
      for (const auto& a : e.args) args.push_back(check(*a));
      return detail::checkFormatNamespaceCall(e, args);
    }
    if (env_.extensionLibraries && isOptionalConstructor(e)) {
      std::vector<Type> args;
      for (const auto& a : e.args) args.push_back(check(*a));
      if (fn == "none" && args.empty()) return Type::optionalOf(Type::of(K::kDyn));
      if ((fn == "of" || fn == "ofNonZeroValue") && args.size() == 1)
        return Type::optionalOf(args[0]);
      if (fn == "unwrap" && args.size() == 1) return unwrapType(e, args[0]);
      fail(e, "undeclared reference to '" + fn + "' (in container 'optional')");
    }
    std::vector<Type> types;
    if (e.target) types.push_back(check(*e.target));
    for (const auto& a : e.args) types.push_back(check(*a));
    if (env_.extensionLibraries) {
      if (auto t = optionalMember(e, types)) return *t;
      if (fn == "unwrapOpt" && e.target && types.size() == 1) return unwrapType(e, types[0]);
      // list.first() / list.last() (the optional library's version 2, with unwrap).
      if ((fn == "first" || fn == "last") && e.target && types.size() == 1) {
        if (!fits(types[0], {K::kList})) noOverload(e, fn, types);
        return Type::optionalOf(types[0].elemType());
      }
      if (auto t = checkExtensionCall(e, types)) return *t;
      if (auto t = checkLibraryCall(e, types)) return *t;
      if (auto t = detail::checkFormatMember(e, types)) return *t;
      if (fn == "type" && !e.target && types.size() == 1) return Type::of(K::kType);
      if (fn == "_[_]" && types[0].k == K::kOptional) {  // optional chaining: a.?b[0]
        Type elem = types[0].elemType();
        return Type::optionalOf(elem.k == K::kList || elem.k == K::kMap ? elem.elemType()
                                                                        : Type::of(K::kDyn));
      }
    }
    if (e.target) {
      std::string misuse;
      std::vector<Type> args(types.begin() + 1, types.end());
      if (auto t = checkAuthzCall(types[0], fn, args, &misuse)) {
        if (!misuse.empty()) fail(e, misuse);
        return *t;
      }
    }
    auto known = [&](size_t i) { return types[i].k != K::kDyn; };
    auto arity = [&](size_t n) {
      if (types.size() != n) noOverload(e, fn, types);
    };
    if (fn == "_&&_" || fn == "_||_" || fn == "!_") {
      for (const auto& t : types)
        if (!fits(t, {K::kBool})) noOverload(e, fn, types);
      return Type::of(K::kBool);
    }
    if (fn == "_==_" || fn == "_!=_") {
      if (known(0) && known(1) && types[0].k != types[1].k &&
          !(isNumeric(types[0].k) && isNumeric(types[1].k)) && types[0].k != K::kNull &&
          types[1].k != K::kNull)
        noOverload(e, fn, types);
      return Type::of(K::kBool);
    }
    if (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_") {
      for (const auto& t : types) {
        if (!fits(t, {K::kInt, K::kUint, K::kDouble, K::kString, K::kBytes, K::kBool}))
          noOverload(e, fn, types);
      }
      if (known(0) && known(1) && types[0].k != types[1].k &&
          !(isNumeric(types[0].k) && isNumeric(types[1].k)))
        noOverload(e, fn, types);
      return Type::of(K::kBool);
    }
    if (fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_") {
      std::vector<K> ok = {K::kInt, K::kUint, K::kDouble};
      if (fn == "_+_") ok = {K::kInt, K::kUint, K::kDouble, K::kString, K::kBytes, K::kList};
      if (fn == "_%_") ok = {K::kInt, K::kUint};
      for (const auto& t : types)
        if (!fits(t, ok)) noOverload(e, fn, types);
      if (known(0) && known(1) && types[0].k != types[1].k) noOverload(e, fn, types);
      if (fn == "_+_" && types[0].k == K::kList && types[1].k == K::kList) {
        return types[0].elemType().name() == types[1].elemType().name() ? types[0]
                                                                        : Type::of(K::kList);
      }
      return known(0) ? types[0] : types[1];
    }
    if (fn == "-_") {
      if (!fits(types[0], {K::kInt, K::kDouble})) noOverload(e, fn, types);
      return types[0];
    }
    if (fn == "_?_:_") {
      if (!fits(types[0], {K::kBool})) noOverload(e, fn, types);
      return types[1].name() == types[2].name() ? types[1] : Type::of(K::kDyn);
    }
    if (fn == "_[_]") {
      if (!fits(types[0], {K::kList, K::kMap})) noOverload(e, fn, types);
      if (types[0].k == K::kList && !fits(types[1], {K::kInt, K::kUint, K::kDouble}))
        noOverload(e, fn, types);
      if (types[0].k == K::kMap && types[0].elem && !fits(types[1], {K::kString}))
        noOverload(e, fn, types);
      return types[0].elemType();
    }
    if (fn == "@in") {
      if (!fits(types[1], {K::kList, K::kMap})) noOverload(e, fn, types);
      return Type::of(K::kBool);
    }
    if (fn == "size") {
      arity(1);
      if (!fits(types[0], {K::kString, K::kBytes, K::kList, K::kMap})) noOverload(e, fn, types);
      return Type::of(K::kInt);
    }
    if (fn == "startsWith" || fn == "endsWith" || fn == "contains" || fn == "matches") {
      arity(2);
      if (!fits(types[0], {K::kString}) || !fits(types[1], {K::kString})) noOverload(e, fn, types);
      if (fn == "matches") checkPattern(e);
      return Type::of(K::kBool);
    }
    static const std::map<std::string, std::pair<K, std::vector<K>>> kConversions = {
        {"int", {K::kInt, {K::kInt, K::kUint, K::kDouble, K::kString}}},
        {"uint", {K::kUint, {K::kInt, K::kUint, K::kDouble, K::kString}}},
        {"double", {K::kDouble, {K::kInt, K::kUint, K::kDouble, K::kString}}},
        {"string", {K::kString, {K::kInt, K::kUint, K::kDouble, K::kString, K::kBytes, K::kBool}}},
        {"bool", {K::kBool, {K::kBool, K::kString}}},
        {"dyn", {K::kDyn, {}}}};
    if (auto c = kConversions.find(fn); c != kConversions.end() && !e.target) {
      arity(1);
      const auto& allowed = c->second.second;
      if (known(0) && !allowed.empty() &&
          std::find(allowed.begin(), allowed.end(), types[0].k) == allowed.end())
        noOverload(e, fn, types);
      return Type::of(c->second.first);
    }
    if (!e.target && fn != "size") {
      fail(e, "undeclared reference to '" + fn + "' (in container '')");
    }
    noOverload(e, fn, types);
  }

  // A literal pattern is compiled now, as Kubernetes' CEL library validates regex literals.
  void checkPattern(const Expr& e) {
    const Expr& pattern = *e.args.back();
    if (pattern.type != Expr::Type::kLiteral || pattern.literal.kind() != Kind::kString) return;
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re(pattern.literal.asString(), opts);
    if (!re.ok()) fail(pattern, "invalid regular expression: " + re.error());
  }

  // optional.of(x), optional.none(): a call on the name `optional`, unless a variable has it.
  bool isOptionalConstructor(const Expr& e) const { return isCallOn(e, "optional"); }

  // A call on a namespace name (`optional.of`, `ip.isCanonical`) that no variable shadows.
  bool isCallOn(const Expr& e, const std::string& ns) const {
    if (!e.target || e.target->type != Expr::Type::kIdent || e.target->name != ns) return false;
    for (const auto& s : scopes_)
      if (s.first == ns) return false;
    return env_.variables.count(ns) == 0;
  }

  // optional.unwrap(list) and list.unwrapOpt() (cel-go's optional library, version 2): the
  // values of a list of optionals.
  Type unwrapType(const Expr& e, const Type& list) {
    if (!fits(list, {K::kList})) noOverload(e, e.name, {list});
    Type elem = list.elemType();
    if (!fits(elem, {K::kOptional})) noOverload(e, e.name, {list});
    return Type::listOf(elem.elemType());
  }

  // hasValue(), value(), orValue(x), or(o) on an optional.
  std::optional<Type> optionalMember(const Expr& e, const std::vector<Type>& types) {
    const std::string& fn = e.name;
    if (!e.target || (fn != "hasValue" && fn != "value" && fn != "orValue" && fn != "or"))
      return std::nullopt;
    if (types[0].k != K::kOptional && types[0].k != K::kDyn) noOverload(e, fn, types);
    Type elem = types[0].k == K::kOptional ? types[0].elemType() : Type::of(K::kDyn);
    if ((fn == "hasValue" || fn == "value") && types.size() != 1) noOverload(e, fn, types);
    if ((fn == "orValue" || fn == "or") && types.size() != 2) noOverload(e, fn, types);
    if (fn == "hasValue") return Type::of(K::kBool);
    if (fn == "value") return elem;
    if (fn == "orValue") return elem.name() == types[1].name() ? elem : Type::of(K::kDyn);
    if (!fits(types[1], {K::kOptional})) noOverload(e, fn, types);
    return types[0];
  }

  // opt.optMap(x, expr) and opt.optFlatMap(x, expr) (cel-go's optional library): x is the
  // optional's value inside expr; optFlatMap's expr is itself an optional.
  Type optionalMacro(const Expr& e) {
    if (e.args.size() != 2) fail(e, "no matching overload for macro '" + e.name + "'");
    if (e.args[0]->type != Expr::Type::kIdent)
      fail(*e.args[0], e.name + "() variable name must be a simple identifier");
    Type target = check(*e.target);
    if (!fits(target, {K::kOptional})) noOverload(e, e.name, {target});
    scopes_.emplace_back(e.args[0]->name, target.elemType());
    Type body = check(*e.args[1]);
    scopes_.pop_back();
    if (e.name == "optMap") return Type::optionalOf(body);
    if (!fits(body, {K::kOptional}))
      fail(*e.args[1], "expected type 'optional_type' but found '" + body.name() + "'");
    return body.k == K::kOptional ? body : Type::optionalOf(Type::of(K::kDyn));
  }

  static bool isMacro(const std::string& fn) {
    return fn == "exists" || fn == "all" || fn == "exists_one" || fn == "map" || fn == "filter";
  }

  Type macro(const Expr& e) {
    const std::string& fn = e.name;
    size_t want = fn == "map" ? 0 : 2;
    if ((want && e.args.size() != want) || (!want && e.args.size() != 2 && e.args.size() != 3)) {
      fail(e, "no matching overload for macro '" + fn + "'");
    }
    if (e.args[0]->type != Expr::Type::kIdent) fail(*e.args[0], "argument must be a simple name");
    Type range = check(*e.target);
    if (!fits(range, {K::kList, K::kMap})) noOverload(e, fn, {range});
    // The variable ranges over a list's elements or a map's keys (strings in a typed map).
    Type var = range.k == K::kList                ? range.elemType()
               : range.k == K::kMap && range.elem ? Type::of(K::kString)
                                                  : Type::of(K::kDyn);
    scopes_.emplace_back(e.args[0]->name, var);
    std::vector<Type> bodies;
    for (size_t i = 1; i < e.args.size(); ++i) bodies.push_back(check(*e.args[i]));
    scopes_.pop_back();
    bool hasPredicate = fn != "map" || e.args.size() == 3;
    if (hasPredicate && !fits(bodies[0], {K::kBool})) {
      fail(*e.args[1], "expected type 'bool' but found '" + bodies[0].name() + "'");
    }
    if (fn == "filter") return Type::listOf(var);
    if (fn == "map") return Type::listOf(bodies.back());
    return Type::of(K::kBool);
  }

  const Env& env_;
  std::vector<std::pair<std::string, Type>> scopes_;  // comprehension variables, innermost last
  std::set<const Expr*> formatArguments_;             // literals exempt from the homogeneity check
  std::vector<CheckError> literalIssues_;             // mixed literals, reported after the check
};

}  // namespace

std::variant<std::shared_ptr<const Program>, CompileError> compile(std::string_view source,
                                                                   const Env& env) {
  auto parsed = parse(source);
  if (auto* err = std::get_if<CompileError>(&parsed)) return *err;
  auto program = std::make_shared<Program>();
  program->source = std::string(source);
  program->root = std::move(std::get<ExprPtr>(parsed));
  try {
    Checker checker(env);
    program->outputType = checker.checkRoot(*program->root);
  } catch (const CheckError& e) {
    return CompileError{formatIssue(source, e.offset, e.message)};
  } catch (const LiteralIssues& literal) {
    std::string text;
    for (const auto& e : literal.issues)
      text += (text.empty() ? "" : "\n") + formatIssue(source, e.offset, e.message);
    return CompileError{text};
  }
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace berth::cel
