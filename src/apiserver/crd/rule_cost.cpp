// The cost model of crd/rule_cost.h: an abstract evaluation of the rule's AST over the sizes its
// values can have.
#include "apiserver/crd/rule_cost.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <vector>

#include "apiserver/crd/rules.h"

namespace berth::apiserver::crd {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kMaxRequestBytes = 3 * 1024 * 1024;

uint64_t add(uint64_t a, uint64_t b) { return a > kMax - b ? kMax : a + b; }

// The smallest JSON text of a value of the schema (upstream's estimateMinSizeJSON).
uint64_t minJsonSize(const Schema& s) {
  if (s.type == "string") return 2;             // ""
  if (s.type == "boolean") return 4;            // true
  if (s.type == "object" || s.type == "array")  // {} []
    return 2;
  return 1;  // a number, or int-or-string
}

// The static shape of a value: its schema when it comes from the object, and its size (a
// string's length, a list's or map's entry count).
struct Shape {
  const Schema* schema = nullptr;
  uint64_t size = 1;
  std::shared_ptr<Shape> elem;  // of computed lists (map(), filter(), split())
};

uint64_t stringLength(const Schema& s) {
  if (s.maxLength) return static_cast<uint64_t>(std::max<int64_t>(*s.maxLength, 0));
  if (s.format == "date-time" || s.format == "date" || s.format == "duration") return 64;
  return kMaxRequestBytes - 2;
}

Shape shapeOf(const Schema* s) {
  Shape out;
  out.schema = s;
  if (!s) return out;
  if (s->type == "string" || s->intOrString) {
    out.size = stringLength(*s);
  } else if (s->type == "array" || (s->type == "object" && s->additionalProperties)) {
    out.size = maxChildren(*s);
  } else if (s->type == "object") {
    out.size = std::max<uint64_t>(s->properties.size(), 1);
  }
  return out;
}

Shape elemOf(const Shape& s) {
  if (s.elem) return *s.elem;
  if (!s.schema) return Shape{};
  if (s.schema->items) return shapeOf(s.schema->items.get());
  if (s.schema->additionalProperties) return shapeOf(s.schema->additionalProperties.get());
  return Shape{};
}

// Roughly the bytes a value can span, for whole-value work (equality, string()).
uint64_t bytesOf(const Shape& s, int depth = 0) {
  if (depth > 32 || !s.schema) return s.size;
  const Schema& sc = *s.schema;
  if (sc.type == "array" || (sc.type == "object" && sc.additionalProperties))
    return saturatingMul(s.size, std::max<uint64_t>(bytesOf(elemOf(s), depth + 1), 1));
  if (sc.type == "object") {
    uint64_t total = 2;
    for (const auto& [_, p] : sc.properties) total = add(total, bytesOf(shapeOf(&p), depth + 1));
    return total;
  }
  return s.size;
}

// String work: cel-go charges a tenth of a unit per byte traversed.
uint64_t traversal(uint64_t bytes) { return 1 + bytes / 10; }

class Estimator {
 public:
  explicit Estimator(const Schema& node) : node_(node) {}

  struct Result {
    uint64_t cost = 0;
    Shape shape;
  };

  Result estimate(const cel::Expr& e) {
    using T = cel::Expr::Type;
    switch (e.type) {
      case T::kLiteral: {
        Shape s;
        if (e.literal.kind() == cel::Kind::kString || e.literal.kind() == cel::Kind::kBytes)
          s.size = e.literal.asString().size();
        return {0, s};
      }
      case T::kIdent:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == e.name) return {1, it->second};
        if (e.name == "self" || e.name == "oldSelf") return {1, shapeOf(&node_)};
        return {1, Shape{}};
      case T::kSelect: {
        Result t = estimate(*e.target);
        return {add(t.cost, 1), field(t.shape, e.name)};
      }
      case T::kList:
      case T::kMap: {
        Result r{1, Shape{}};
        for (const auto& a : e.args) r.cost = add(r.cost, estimate(*a).cost);
        r.shape.size = e.args.size();
        return r;
      }
      case T::kCall:
        return call(e);
    }
    return {1, Shape{}};
  }

 private:
  Shape field(const Shape& s, const std::string& name) {
    if (!s.schema) return Shape{};
    if (s.schema->additionalProperties) return shapeOf(s.schema->additionalProperties.get());
    for (const auto& [k, p] : s.schema->properties)
      if (escapeCelName(k) == name) return shapeOf(&p);
    return Shape{};
  }

  Result call(const cel::Expr& e) {
    const std::string& fn = e.name;
    static const std::set<std::string> kMacros = {"all", "exists", "exists_one", "map", "filter"};
    if (e.target && kMacros.count(fn) && !e.args.empty() &&
        e.args[0]->type == cel::Expr::Type::kIdent) {
      Result range = estimate(*e.target);
      bool isMap = range.shape.schema && range.shape.schema->type == "object";
      Shape var = isMap ? Shape{} : elemOf(range.shape);
      if (isMap) var.size = 64;  // a key
      vars_.emplace_back(e.args[0]->name, var);
      uint64_t body = 0;
      Shape last;
      for (size_t i = 1; i < e.args.size(); ++i) {
        Result b = estimate(*e.args[i]);
        body = add(body, b.cost);
        last = b.shape;
      }
      vars_.pop_back();
      Result r{add(range.cost, saturatingMul(range.shape.size, add(body, 1))), Shape{}};
      if (fn == "map" || fn == "filter") {
        r.shape.size = range.shape.size;
        r.shape.elem = std::make_shared<Shape>(fn == "map" ? last : var);
      }
      return r;
    }
    std::vector<Result> args;
    uint64_t cost = 1;
    if (e.target) args.push_back(estimate(*e.target));
    for (const auto& a : e.args) args.push_back(estimate(*a));
    for (const auto& a : args) cost = add(cost, a.cost);
    Shape out;
    auto sizeOf = [&](size_t i) { return i < args.size() ? args[i].shape.size : 1; };
    static const std::set<std::string> kStringWork = {
        "contains",    "startsWith", "endsWith",   "matches",   "find",     "findAll",    "indexOf",
        "lastIndexOf", "lowerAscii", "upperAscii", "replace",   "split",    "substring",  "trim",
        "reverse",     "charAt",     "url",        "isURL",     "quantity", "isQuantity", "ip",
        "isIP",        "cidr",       "isCIDR",     "timestamp", "duration", "validate",   "format"};
    if (fn == "_==_" || fn == "_!=_") {
      cost = add(cost, traversal(std::min(bytesOf(args[0].shape), bytesOf(args[1].shape))));
    } else if (kStringWork.count(fn)) {
      uint64_t bytes = 0;
      for (const auto& a : args) bytes = add(bytes, a.shape.size);
      // startsWith/endsWith traverse only the affix (cel-go sizes them by the argument).
      if (fn == "startsWith" || fn == "endsWith") bytes = sizeOf(1);
      cost = add(cost, fn == "matches" || fn == "find" || fn == "findAll"
                           ? saturatingMul(traversal(sizeOf(0)), traversal(sizeOf(1)))
                           : traversal(bytes));
      out.size = sizeOf(0);
      // A formatted string holds the pattern and every argument's text.
      if (fn == "format" && args.size() == 2) out.size = add(sizeOf(0), bytesOf(args[1].shape));
      if (fn == "split" || fn == "findAll") {
        out.elem = std::make_shared<Shape>(Shape{nullptr, sizeOf(0), nullptr});
      }
    } else if (fn == "_+_") {
      out.size = add(sizeOf(0), sizeOf(1));
      cost = add(cost, traversal(out.size));
    } else if (fn == "@in" || fn == "sum" || fn == "min" || fn == "max" || fn == "isSorted" ||
               fn == "join") {
      size_t list = fn == "@in" ? 1 : 0;
      bool map = list < args.size() && args[list].shape.schema &&
                 args[list].shape.schema->type == "object";
      if (!map) cost = add(cost, sizeOf(list));
      if (fn == "join") out.size = bytesOf(args[0].shape);
    } else if (fn == "string") {
      out.size = std::max<uint64_t>(bytesOf(args[0].shape), 20);
      cost = add(cost, traversal(out.size));
    } else if (fn == "_[_]" || fn == "_[?_]" || fn == "_?._" || fn == "value" || fn == "orValue") {
      out = fn == "_?._" ? field(args[0].shape, e.args[1]->literal.kind() == cel::Kind::kString
                                                    ? e.args[1]->literal.asString()
                                                    : "")
            : fn == "value" || fn == "orValue" ? args[0].shape
                                               : elemOf(args[0].shape);
    } else if (fn == "_?_:_") {
      out = args[1].shape.size >= args[2].shape.size ? args[1].shape : args[2].shape;
    } else if (fn == "dyn") {
      out = args[0].shape;
    }
    return {cost, out};
  }

  const Schema& node_;
  std::vector<std::pair<std::string, Shape>> vars_;
};

}  // namespace

uint64_t saturatingMul(uint64_t a, uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kMax / b ? kMax : a * b;
}

uint64_t maxChildren(const Schema& parent) {
  if (parent.type == "array") {
    if (parent.maxItems) return static_cast<uint64_t>(std::max<int64_t>(*parent.maxItems, 0));
    uint64_t min = parent.items ? minJsonSize(*parent.items) : 1;
    return (kMaxRequestBytes - 2) / (min + 1);  // elements and their commas
  }
  if (parent.maxProperties)
    return static_cast<uint64_t>(std::max<int64_t>(*parent.maxProperties, 0));
  uint64_t min = parent.additionalProperties ? minJsonSize(*parent.additionalProperties) : 1;
  return (kMaxRequestBytes - 2) / (min + 4);  // "":value,
}

uint64_t estimateRuleCost(const cel::Expr& rule, const Schema& node) {
  Estimator e(node);
  return e.estimate(rule).cost;
}

std::string costErrorMessage(const std::string& what, uint64_t cost, uint64_t limit) {
  double factor = static_cast<double>(cost) / static_cast<double>(limit);
  char buf[64];
  if (factor > 100.0) {
    std::snprintf(buf, sizeof buf, "more than 100x");
  } else if (factor < 1.5) {
    std::snprintf(buf, sizeof buf, "%fx", factor);  // Go's %f: six decimals
  } else {
    std::snprintf(buf, sizeof buf, "%.1fx", factor);
  }
  return what + " exceeds budget by factor of " + buf +
         " (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where "
         "arrays, maps, and strings are declared)";
}

}  // namespace berth::apiserver::crd
