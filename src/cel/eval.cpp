// The evaluator. Errors are values that propagate through strict functions; `&&`, `||`, `?:`
// and the exists/all macros are the non-strict ones, with cel-spec's absorption rules. Running
// out of budget is sticky: it is never absorbed.
#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <set>

#include "cel/authz.h"
#include "cel/cel.h"
#include "cel/extensions.h"
#include "cel/format_library.h"
#include "cel/functions.h"
#include "cel/k8s_types.h"

namespace berth::cel {

namespace {

constexpr const char* kCostExceeded = "operation cancelled: actual cost limit exceeded";

class Evaluator {
 public:
  Evaluator(const Activation& activation, uint64_t limit, const AuthzCallback* authz)
      : act_(activation), limit_(limit), authz_(authz) {}

  Value eval(const Expr& e) {
    if (!charge(1)) return Value::error(kCostExceeded);
    switch (e.type) {
      case Expr::Type::kLiteral:
        return e.literal;
      case Expr::Type::kIdent:
        return lookup(e.name);
      case Expr::Type::kSelect:
        return select(e);
      case Expr::Type::kList: {
        ValueList items;
        for (size_t i = 0; i < e.args.size(); ++i) {
          Value v = eval(*e.args[i]);
          if (v.isError()) return v;
          if (e.isOptionalEntry(i)) {
            if (v.kind() != Kind::kOptional) return nonOptionalEntry(v);
            auto present = v.optionalValue();
            if (!present) continue;
            v = std::move(*present);
          }
          items.push_back(std::move(v));
        }
        return Value::list(std::move(items));
      }
      case Expr::Type::kMap:
        return mapLiteral(e);
      case Expr::Type::kCall:
        return call(e);
    }
    return Value::error("unknown expression");
  }

  bool exhausted() const { return exhausted_; }
  uint64_t cost() const { return cost_; }

 private:
  // Charges `units` against the budget; false (and sticky) once it is spent.
  bool charge(uint64_t units) {
    if (exhausted_) return false;
    cost_ += units;
    if (cost_ > limit_) exhausted_ = true;
    return !exhausted_;
  }

  Value lookup(const std::string& name) {
    for (auto it = locals_.rbegin(); it != locals_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    if (auto it = act_.find(name); it != act_.end()) return it->second;
    static const std::set<std::string> kTypeNames = {
        "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"};
    if (kTypeNames.count(name)) return Value::type(name);  // the checker allowed it
    return Value::error("no such attribute: " + name);
  }

  // cel-go's type names of runtime values, for type(x).
  static Value typeOf(const Value& v) {
    return Value::type(v.kind() == Kind::kOpaque ? v.typeName() : kindName(v.kind()));
  }

  // a.?f, m[?k], and selection or indexing on an optional (chaining): optional.of the field or
  // element when present, optional.none() when absent or when the operand is none.
  Value optionalAccess(const Value& operand, const Value& key, bool field) {
    Value target = operand;
    if (target.kind() == Kind::kOptional) {
      auto v = target.optionalValue();
      if (!v) return target;
      target = *v;
    }
    if (target.kind() == Kind::kMap) {
      if (key.kind() == Kind::kList || key.kind() == Kind::kMap)
        return noSuchOverload(field ? "_?._" : "_[?_]", {target, key});
      return Value::optional(target.get(key));
    }
    if (!field && target.kind() == Kind::kList &&
        (key.kind() == Kind::kInt || key.kind() == Kind::kUint)) {
      int64_t i = key.kind() == Kind::kInt ? key.asInt() : static_cast<int64_t>(key.asUint());
      if (i < 0 || static_cast<uint64_t>(i) >= target.size()) return Value::optional(std::nullopt);
      return Value::optional(target.at(static_cast<size_t>(i)));
    }
    return noSuchOverload(field ? "_?._" : "_[?_]", {target, key});
  }

  Value select(const Expr& e) {
    Value target = eval(*e.target);
    if (target.isError()) return target;
    if (target.kind() == Kind::kOptional && !e.testOnly)
      return optionalAccess(target, Value::string(e.name), true);
    if (target.kind() != Kind::kMap) {
      return Value::error("no such overload: field selection on " + target.typeName());
    }
    auto v = target.get(Value::string(e.name));
    if (e.testOnly) return Value::boolean(v.has_value());
    if (!v) return Value::error("no such key: " + e.name);
    return *v;
  }

  static Value nonOptionalEntry(const Value& v) {
    return Value::error("cannot initialize optional entry from non-optional value " +
                        v.debugString());
  }

  Value mapLiteral(const Expr& e) {
    ValueMap entries;
    for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
      Value k = eval(*e.args[i]);
      if (k.isError()) return k;
      Value v = eval(*e.args[i + 1]);
      if (v.isError()) return v;
      if (e.isOptionalEntry(i / 2)) {
        if (v.kind() != Kind::kOptional) return nonOptionalEntry(v);
        auto present = v.optionalValue();
        if (!present) continue;
        v = std::move(*present);
      }
      if (k.kind() != Kind::kString && k.kind() != Kind::kInt && k.kind() != Kind::kUint &&
          k.kind() != Kind::kBool)
        return Value::error("unsupported key type: " + k.typeName());
      for (const auto& [existing, _] : entries) {
        if (equals(existing, k)) return Value::error("Failed with repeated key");
      }
      entries.emplace_back(std::move(k), std::move(v));
    }
    return Value::map(std::move(entries));
  }

  // `&&` and `||`: a deciding operand (false for &&, true for ||) wins over an error on the
  // other side, whichever side it is on.
  Value logical(const Expr& e, bool isAnd) {
    const bool decisive = !isAnd;
    Value a = eval(*e.args[0]);
    if (exhausted_) return Value::error(kCostExceeded);
    if (a.kind() == Kind::kBool && a.asBool() == decisive) return a;
    Value b = eval(*e.args[1]);
    if (exhausted_) return Value::error(kCostExceeded);
    if (b.kind() == Kind::kBool && b.asBool() == decisive) return b;
    if (a.isError()) return a;
    if (b.isError()) return b;
    if (a.kind() != Kind::kBool || b.kind() != Kind::kBool) {
      return noSuchOverload(e.name, {a, b});
    }
    return Value::boolean(!decisive);
  }

  Value conditional(const Expr& e) {
    Value c = eval(*e.args[0]);
    if (c.isError()) return c;
    if (c.kind() != Kind::kBool) return noSuchOverload(e.name, {c});
    return eval(*e.args[c.asBool() ? 1 : 2]);
  }

  Value call(const Expr& e) {
    const std::string& fn = e.name;
    if (fn == "_&&_" || fn == "_||_") return logical(e, fn == "_&&_");
    if (fn == "_?_:_") return conditional(e);
    if (e.target &&
        (fn == "exists" || fn == "all" || fn == "exists_one" || fn == "map" || fn == "filter"))
      return macro(e);
    if (e.target && (fn == "optMap" || fn == "optFlatMap") && e.args.size() == 2 &&
        e.args[0]->type == Expr::Type::kIdent)
      return optionalMacro(e);
    if (e.target && e.target->type == Expr::Type::kIdent && e.target->name == "optional" &&
        !isBound("optional"))
      return optionalConstructor(e);
    if (e.target && e.target->type == Expr::Type::kIdent && e.target->name == "ip" &&
        !isBound("ip") && fn == "isCanonical" && e.args.size() == 1) {
      Value s = eval(*e.args[0]);
      return s.isError() ? s : detail::ipIsCanonical(s);
    }
    bool formatNamespace = e.target && e.target->type == Expr::Type::kIdent &&
                           e.target->name == "format" && !isBound("format");
    std::vector<Value> args;
    if (e.target && !formatNamespace) args.push_back(eval(*e.target));
    for (const auto& a : e.args) args.push_back(eval(*a));
    for (const auto& a : args) {
      if (a.isError()) return a;
    }
    if (formatNamespace) return detail::callFormatNamespace(fn, args);
    if (e.target && isAuthzValue(args[0])) {
      if (fn == "check" && !charge(kAuthzCheckCost)) return Value::error(kCostExceeded);
      return callAuthz(fn, args, authz_);
    }
    // Strings and lists cost in proportion to their size.
    uint64_t bytes = 0;
    for (const auto& a : args) {
      bytes += a.kind() == Kind::kString || a.kind() == Kind::kBytes ? a.asString().size()
               : a.kind() == Kind::kList                             ? a.size()
                                                                     : 0;
    }
    if (!charge(bytes / 100)) return Value::error(kCostExceeded);
    if (e.target) {
      if (auto v = detail::callExtensionFunction(fn, args)) return *v;
    }
    if (fn == "_?._" || fn == "_[?_]") return optionalAccess(args[0], args[1], fn == "_?._");
    if (fn == "unwrapOpt" && e.target && args.size() == 1) return unwrapOptionals(args[0]);
    if ((fn == "first" || fn == "last") && e.target && args.size() == 1) {
      const Value& list = args[0];
      if (list.kind() != Kind::kList) return noSuchOverload(fn, args);
      if (list.size() == 0) return Value::optional(std::nullopt);
      return Value::optional(list.at(fn == "first" ? 0 : list.size() - 1));
    }
    if (fn == "_[_]" && args[0].kind() == Kind::kOptional)
      return optionalAccess(args[0], args[1], false);
    if (fn == "type" && !e.target && args.size() == 1) return typeOf(args[0]);
    if (e.target) {
      if (auto v = detail::callFormatMember(fn, args)) return *v;
    }
    if (auto v = detail::callLibraryFunction(fn, e.target != nullptr, args)) return *v;
    return callFunction(fn, args);
  }

  bool isBound(const std::string& name) const {
    for (const auto& l : locals_)
      if (l.first == name) return true;
    return act_.count(name) > 0;
  }

  // optional.unwrap(list) / list.unwrapOpt(): the values of the present optionals.
  static Value unwrapOptionals(const Value& list) {
    if (list.kind() != Kind::kList) return noSuchOverload("unwrap", {list});
    ValueList out;
    for (size_t i = 0; i < list.size(); ++i) {
      Value o = list.at(i);
      if (o.kind() != Kind::kOptional) return noSuchOverload("unwrap", {o});
      if (auto v = o.optionalValue()) out.push_back(std::move(*v));
    }
    return Value::list(std::move(out));
  }

  Value optionalConstructor(const Expr& e) {
    if (e.name == "none" && e.args.empty()) return Value::optional(std::nullopt);
    if (e.args.size() != 1) return Value::error("no such overload: optional." + e.name);
    Value v = eval(*e.args[0]);
    if (v.isError()) return v;
    if (e.name == "of") return Value::optional(v);
    if (e.name == "unwrap") return unwrapOptionals(v);
    if (e.name == "ofNonZeroValue") {
      bool zero =
          v.kind() == Kind::kNull || (v.kind() == Kind::kBool && !v.asBool()) ||
          (v.kind() == Kind::kInt && v.asInt() == 0) ||
          (v.kind() == Kind::kUint && v.asUint() == 0) ||
          (v.kind() == Kind::kDouble && v.asDouble() == 0) ||
          ((v.kind() == Kind::kString || v.kind() == Kind::kBytes) && v.asString().empty()) ||
          ((v.kind() == Kind::kList || v.kind() == Kind::kMap) && v.size() == 0);
      return Value::optional(zero ? std::nullopt : std::optional<Value>(v));
    }
    return Value::error("no such overload: optional." + e.name);
  }

  // opt.optMap(x, body): optional.of(body) with x bound to the value, or none when opt is none;
  // optFlatMap's body is an optional and is the result itself.
  Value optionalMacro(const Expr& e) {
    Value opt = eval(*e.target);
    if (opt.isError()) return opt;
    if (opt.kind() != Kind::kOptional) return noSuchOverload(e.name, {opt});
    auto present = opt.optionalValue();
    if (!present) return opt;
    locals_.emplace_back(e.args[0]->name, *present);
    Value body = eval(*e.args[1]);
    locals_.pop_back();
    if (exhausted_) return Value::error(kCostExceeded);
    if (body.isError()) return body;
    if (e.name == "optMap") return Value::optional(body);
    if (body.kind() != Kind::kOptional) return noSuchOverload(e.name, {body});
    return body;
  }

  Value macro(const Expr& e) {
    Value range = eval(*e.target);
    if (range.isError()) return range;
    if (range.kind() != Kind::kList && range.kind() != Kind::kMap) {
      return noSuchOverload(e.name, {range});
    }
    const std::string& fn = e.name;
    const std::string& var = e.args[0]->name;
    bool isMap = range.kind() == Kind::kMap;
    std::optional<Value> firstError;
    size_t matches = 0;
    ValueList out;
    for (size_t i = 0; i < range.size(); ++i) {
      if (!charge(1)) return Value::error(kCostExceeded);
      locals_.emplace_back(var, isMap ? range.keyAt(i) : range.at(i));
      Value p = eval(*e.args[1]);
      Value mapped;
      bool transform = fn == "map";
      if (transform && e.args.size() == 3) {  // map(x, predicate, transform)
        if (p.kind() == Kind::kBool && p.asBool()) mapped = eval(*e.args[2]);
        transform = p.kind() == Kind::kBool && p.asBool();
      }
      Value element = locals_.back().second;
      locals_.pop_back();
      if (exhausted_) return Value::error(kCostExceeded);
      if (fn == "map") {
        Value result = e.args.size() == 3 ? mapped : p;
        if (e.args.size() == 3 && !p.isError() && p.kind() != Kind::kBool)
          return noSuchOverload(fn, {p});
        if (p.isError()) return p;
        if (result.isError()) return result;
        if (transform) out.push_back(std::move(result));
        continue;
      }
      if (p.kind() != Kind::kBool && !p.isError()) p = noSuchOverload(fn, {p});
      if (fn == "exists" || fn == "all") {
        bool decisive = fn == "exists";
        if (p.isError()) {
          if (!firstError) firstError = p;
        } else if (p.asBool() == decisive) {
          return Value::boolean(decisive);
        }
        continue;
      }
      if (p.isError()) return p;  // exists_one and filter are strict
      if (p.asBool()) {
        ++matches;
        if (fn == "filter") out.push_back(std::move(element));
      }
    }
    if (fn == "exists" || fn == "all") {
      if (firstError) return *firstError;
      return Value::boolean(fn == "all");
    }
    if (fn == "exists_one") return Value::boolean(matches == 1);
    return Value::list(std::move(out));
  }

  const Activation& act_;
  uint64_t limit_;
  const AuthzCallback* authz_;
  uint64_t cost_ = 0;
  bool exhausted_ = false;
  std::vector<std::pair<std::string, Value>> locals_;  // comprehension variables
};

}  // namespace

Value evaluate(const Program& program, const Activation& activation, uint64_t costLimit,
               uint64_t* costUsed, const AuthzCallback* authz) {
  Evaluator ev(activation, costLimit, authz);
  Value v = ev.eval(*program.root);
  if (costUsed) *costUsed = ev.cost();
  if (ev.exhausted()) return Value::error(kCostExceeded);
  return v;
}

}  // namespace berth::cel
