// x-kubernetes-validations: compilation against the schema's CEL types, and evaluation over a
// custom object, after apiextensions-apiserver's schema/cel (compilation.go, validation.go).
#include "apiserver/crd/rules.h"

#include "apiserver/crd/rule_cost.h"

#include <map>
#include <set>

#include "core/kinds/internal.h"

namespace berth::apiserver::crd {

namespace json = boost::json;
using core::kinds::detail::addForbidden;
using core::kinds::detail::addInvalid;
using core::kinds::detail::addNotSupported;
using core::kinds::detail::addRequired;
using core::kinds::detail::goQuote;

namespace {

using K = cel::Type::K;

// Upstream's budgets, in our cost units: one evaluation, and all rules of one object.
constexpr uint64_t kPerCallLimit = cel::kDefaultCostLimit;
constexpr uint64_t kObjectBudget = 10 * cel::kDefaultCostLimit;
constexpr int kMaxDepth = 64;

struct CompiledRule {
  ValidationRule spec;
  std::shared_ptr<const cel::Program> program;
  std::shared_ptr<const cel::Program> message;  // messageExpression, may be null
  bool usesOldSelf = false;
  std::string fieldPath;  // normalized fieldPath relative to the node ("spec.replicas")
};

// The compiled rules of one schema node and of the nodes below it that have rules.
struct RuleNode {
  const Schema* schema = nullptr;
  bool resourceRoot = false;
  std::vector<CompiledRule> rules;
  std::map<std::string, RuleNode, std::less<>> properties;
  std::unique_ptr<RuleNode> items, additionalProperties;

  bool empty() const {
    return rules.empty() && properties.empty() && !items && !additionalProperties;
  }
};

std::string childPath(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

bool usesIdent(const cel::Expr& e, std::string_view name) {
  if (e.type == cel::Expr::Type::kIdent && e.name == name) return true;
  if (e.target && usesIdent(*e.target, name)) return true;
  for (const auto& a : e.args)
    if (a && usesIdent(*a, name)) return true;
  return false;
}

// Go's %#v of the rule, as field.Invalid prints the apiextensions.ValidationRule value.
std::string formatRule(const ValidationRule& r) {
  std::string out = "apiextensions.ValidationRule{Rule:" + goQuote(r.rule) +
                    ", Message:" + goQuote(r.message) +
                    ", MessageExpression:" + goQuote(r.messageExpression) + ", Reason:";
  out += r.hasReason ? "(*apiextensions.FieldValueErrorReason)(0xc000000000)"
                     : "(*apiextensions.FieldValueErrorReason)(nil)";
  out += ", FieldPath:" + goQuote(r.fieldPath) + ", OptionalOldSelf:";
  out += r.optionalOldSelf ? "(*bool)(0xc000000000)" : "(*bool)(nil)";
  return out + "}";
}

bool hasNewlines(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n\v\f");
  return std::string(s.substr(b, e - b + 1));
}

// Parses a rule's fieldPath (".spec.foo", ".labels['a.b']") against the node's schema and returns
// it as a field path relative to the node ("spec.foo", "labels[a.b]"); nullopt when invalid.
std::optional<std::string> normalizeFieldPath(std::string_view path, const Schema& node) {
  const Schema* s = &node;
  std::string out;
  size_t i = 0;
  auto step = [&](const std::string& name) -> bool {
    if (!s->properties.empty()) {
      auto it = s->properties.find(name);
      if (it == s->properties.end()) return false;
      out = childPath(out, name);
      s = &it->second;
      return true;
    }
    if (s->additionalProperties) {
      out += "[" + name + "]";
      s = s->additionalProperties.get();
      return true;
    }
    return false;
  };
  if (path.empty()) return std::nullopt;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1 || !step(std::string(path.substr(i + 1, j - i - 1)))) return std::nullopt;
      i = j;
    } else if (path[i] == '[') {
      if (i + 1 >= path.size() || path[i + 1] != '\'') return std::nullopt;
      std::string name;
      size_t j = i + 2;
      for (; j < path.size() && path[j] != '\''; ++j) {
        if (path[j] == '\\' && j + 1 < path.size()) ++j;
        name += path[j];
      }
      if (j + 1 >= path.size() || path[j + 1] != ']' || !step(name)) return std::nullopt;
      i = j + 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

class Compiler {
 public:
  explicit Compiler(FieldErrors& errs) : errs_(errs) {}

  // `uncorrelatable`: the path of the nearest list above whose items cannot be matched with
  // their old values (upstream forbids oldSelf below it), or "".
  // `cardinality`: how many values of this node one object can hold (for cost estimation).
  std::unique_ptr<RuleNode> node(const Schema& s, const std::string& path, bool resourceRoot,
                                 const std::string& uncorrelatable, int depth,
                                 uint64_t cardinality) {
    auto n = std::make_unique<RuleNode>();
    n->schema = &s;
    n->resourceRoot = resourceRoot;
    if (depth > kMaxDepth) return n;
    if (!s.rules.empty()) compileNode(*n, s, path, uncorrelatable, cardinality);
    for (const auto& [name, child] : s.properties) {
      std::string p = childPath(path, "properties") + "[" + name + "]";
      auto c = node(child, p, child.embeddedResource, uncorrelatable, depth + 1, cardinality);
      if (!c->empty()) n->properties.emplace(name, std::move(*c));
    }
    uint64_t children = saturatingMul(cardinality, maxChildren(s));
    if (s.items) {
      std::string p = childPath(path, "items");
      std::string unc = uncorrelatable;
      if (unc.empty() && s.listType != "map") unc = path;
      auto c = node(*s.items, p, s.items->embeddedResource, unc, depth + 1, children);
      if (!c->empty()) n->items = std::move(c);
    }
    if (s.additionalProperties) {
      auto c = node(*s.additionalProperties, childPath(path, "additionalProperties"),
                    s.additionalProperties->embeddedResource, uncorrelatable, depth + 1, children);
      if (!c->empty()) n->additionalProperties = std::move(c);
    }
    return n;
  }

  // Cost errors are kept apart: a stored CRD's rules still run when the model's estimate
  // changes (upstream exempts pre-existing expressions likewise).
  FieldErrors& costErrors() { return costErrs_; }

  // Upstream's CRD-wide limit: the most expensive contributors, then the total at `path`.
  void checkTotal(const std::string& path) {
    if (total_ <= kStaticEstimatedCrdCostLimit) return;
    std::stable_sort(costs_.begin(), costs_.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < costs_.size() && i < 4; ++i) {
      addForbidden(costErrs_, costs_[i].first,
                   "contributed to estimated rule cost total exceeding cost limit for entire "
                   "OpenAPIv3 schema");
    }
    addForbidden(costErrs_, path,
                 costErrorMessage("x-kubernetes-validations estimated rule cost total for entire "
                                  "OpenAPIv3 schema",
                                  total_, kStaticEstimatedCrdCostLimit));
  }

 private:
  // Estimates one expression's cost over every value of the node (upstream's per-expression
  // limit), and adds it to the CRD's total.
  void observeCost(const cel::Program& program, const Schema& s, uint64_t cardinality,
                   const std::string& path, const char* what) {
    uint64_t cost = saturatingMul(estimateRuleCost(*program.root, s), cardinality);
    if (cost > kStaticEstimatedCostLimit)
      addForbidden(costErrs_, path, costErrorMessage(what, cost, kStaticEstimatedCostLimit));
    costs_.emplace_back(path, cost);
    total_ = total_ > UINT64_MAX - cost ? UINT64_MAX : total_ + cost;
  }

  void compileNode(RuleNode& n, const Schema& s, const std::string& path,
                   const std::string& uncorrelatable, uint64_t cardinality) {
    std::string base = childPath(path, "x-kubernetes-validations");
    auto type = celTypeOf(s, n.resourceRoot);
    bool specErrors = false;
    for (size_t i = 0; i < s.rules.size(); ++i) {
      const ValidationRule& r = s.rules[i];
      std::string p = base + "[" + std::to_string(i) + "]";
      size_t before = errs_.size();
      std::string rule = trim(r.rule), message = trim(r.message);
      if (rule.empty()) {
        addRequired(errs_, p + ".rule", "rule is not specified");
      } else if (!r.message.empty() && message.empty()) {
        addInvalid(errs_, p + ".message", goQuote(r.message),
                   "message must be non-empty if specified");
      } else if (hasNewlines(message)) {
        addInvalid(errs_, p + ".message", goQuote(r.message),
                   "message must not contain line breaks");
      } else if (hasNewlines(rule) && message.empty()) {
        addRequired(errs_, p + ".message",
                    "message must be specified if rule contains line breaks");
      }
      if (!r.messageExpression.empty() && trim(r.messageExpression).empty()) {
        addRequired(errs_, p + ".messageExpression",
                    "messageExpression must be non-empty if specified");
      }
      static const std::vector<std::string> kReasons = {
          "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"};
      if (r.hasReason && std::find(kReasons.begin(), kReasons.end(), r.reason) == kReasons.end()) {
        addNotSupported(errs_, p + ".reason", goQuote(r.reason), kReasons);
      }
      std::optional<std::string> fieldPath;
      if (!r.fieldPath.empty()) {
        if (trim(r.fieldPath).empty()) {
          addInvalid(errs_, p + ".fieldPath", goQuote(r.fieldPath),
                     "fieldPath must be non-empty if specified");
        } else if (hasNewlines(r.fieldPath)) {
          addInvalid(errs_, p + ".fieldPath", goQuote(r.fieldPath),
                     "fieldPath must not contain line breaks");
        } else if (!(fieldPath = normalizeFieldPath(r.fieldPath, s))) {
          addInvalid(errs_, p + ".fieldPath", goQuote(r.fieldPath),
                     "fieldPath must be a valid path");
        }
      }
      specErrors = specErrors || errs_.size() != before;
      n.rules.push_back({r, nullptr, nullptr, false, fieldPath.value_or("")});
    }
    // As upstream, expressions are compiled only when the rules are otherwise well-formed.
    if (specErrors) return;
    if (!type) {
      errs_.push_back({"InternalError",
                       "Internal error: rule declared on schema that does not support validation "
                       "rules type: '" +
                           s.type + "' x-kubernetes-preserve-unknown-fields: '" +
                           (s.preserveUnknownFields ? "true" : "false") + "'",
                       base});
      return;
    }
    cel::Env env;
    env.variables["self"] = *type;
    env.variables["oldSelf"] = *type;
    env.extensionLibraries = true;
    cel::Env optionalEnv = env;
    optionalEnv.variables["oldSelf"] = cel::Type::optionalOf(*type);
    for (size_t i = 0; i < n.rules.size(); ++i) {
      CompiledRule& cr = n.rules[i];
      std::string p = base + "[" + std::to_string(i) + "]";
      // With optionalOldSelf, oldSelf is optional_type(T): the rule also runs on create.
      auto compiled =
          cel::compile(cr.spec.rule, cr.spec.optionalOldSelf.value_or(false) ? optionalEnv : env);
      if (auto* err = std::get_if<cel::CompileError>(&compiled)) {
        addInvalid(errs_, p + ".rule", formatRule(cr.spec), "compilation failed: " + err->message);
      } else {
        cr.program = std::get<std::shared_ptr<const cel::Program>>(compiled);
        observeCost(*cr.program, s, cardinality, p + ".rule", "estimated rule cost");
        if (cr.program->outputType.k != K::kBool) {
          addInvalid(errs_, p + ".rule", formatRule(cr.spec),
                     "cel expression must evaluate to a bool");
        }
        cr.usesOldSelf = usesIdent(*cr.program->root, "oldSelf");
        if (cr.usesOldSelf && !uncorrelatable.empty()) {
          addInvalid(errs_, p + ".rule", goQuote(cr.spec.rule),
                     "oldSelf cannot be used on the uncorrelatable portion of the schema within " +
                         uncorrelatable);
        } else if (!cr.usesOldSelf && cr.spec.optionalOldSelf) {
          addInvalid(errs_, p + ".optionalOldSelf", *cr.spec.optionalOldSelf ? "true" : "false",
                     "may not be set if oldSelf is not used in rule");
        }
      }
      if (trim(cr.spec.messageExpression).empty()) continue;
      auto message = cel::compile(cr.spec.messageExpression, env);
      if (auto* err = std::get_if<cel::CompileError>(&message)) {
        addInvalid(errs_, p + ".messageExpression", formatRule(cr.spec),
                   "messageExpression compilation failed: " + err->message);
      } else if (std::get<std::shared_ptr<const cel::Program>>(message)->outputType.k !=
                 K::kString) {
        addInvalid(errs_, p + ".messageExpression", formatRule(cr.spec),
                   "messageExpression must evaluate to a string");
      } else {
        cr.message = std::get<std::shared_ptr<const cel::Program>>(message);
        observeCost(*cr.message, s, cardinality, p + ".messageExpression",
                    "estimated messageExpression cost");
      }
    }
  }

  FieldErrors& errs_;
  FieldErrors costErrs_;
  std::vector<std::pair<std::string, uint64_t>> costs_;  // each expression's estimate, by path
  uint64_t total_ = 0;
};

// ---- evaluation --------------------------------------------------------------------------------

class Evaluator {
 public:
  Evaluator(FieldErrors& errs, std::vector<std::string>* warnings)
      : errs_(errs), warnings_(warnings) {}

  // `unchanged`: the value equals its old value, or (where there is none to correlate) the
  // nearest correlated ancestor does; failures of non-transition rules are then ratcheted.
  void validate(const RuleNode& n, const std::string& path, const json::value& v,
                const json::value* old, bool unchanged, int depth) {
    if (v.is_null() || depth > kMaxDepth || budget_ == 0) return;
    if (!n.rules.empty()) evaluateRules(n, path, v, old, unchanged);
    if (v.is_array() && n.items) {
      const auto& arr = v.get_array();
      for (size_t i = 0; i < arr.size(); ++i) {
        const json::value* o = old ? correlatedItem(*n.schema, arr[i], *old) : nullptr;
        bool u = o ? *o == arr[i] : unchanged;
        validate(*n.items, path + "[" + std::to_string(i) + "]", arr[i], o, u, depth + 1);
      }
    }
    if (v.is_object()) {
      const json::object* oldObj = old ? old->if_object() : nullptr;
      for (const auto& [k, child] : v.get_object()) {
        const RuleNode* sub = nullptr;
        std::string p;
        if (auto it = n.properties.find(std::string_view(k)); it != n.properties.end()) {
          sub = &it->second;
          p = path.empty() ? std::string(k) : path + "." + std::string(k);
        } else if (n.additionalProperties) {
          sub = n.additionalProperties.get();
          p = path + "[" + std::string(k) + "]";
        }
        if (sub == nullptr) continue;
        const json::value* o = oldObj ? oldObj->if_contains(k) : nullptr;
        validate(*sub, p, child, o, o ? *o == child : unchanged, depth + 1);
      }
    }
  }

 private:
  // The old item of a list-type=map list with the same keys; nullptr for other lists.
  static const json::value* correlatedItem(const Schema& list, const json::value& item,
                                           const json::value& old) {
    if (list.listType != "map" || list.listMapKeys.empty() || !old.is_array() || !item.is_object())
      return nullptr;
    for (const auto& o : old.get_array()) {
      if (!o.is_object()) continue;
      bool same = true;
      for (const auto& k : list.listMapKeys) {
        const json::value* a = item.get_object().if_contains(k);
        const json::value* b = o.get_object().if_contains(k);
        if ((a == nullptr) != (b == nullptr) || (a && *a != *b)) {
          same = false;
          break;
        }
      }
      if (same) return &o;
    }
    return nullptr;
  }

  void fail(const std::string& path, const std::string& type, const std::string& detail) {
    errs_.push_back({"FieldValueInvalid", "Invalid value: " + goQuote(type) + ": " + detail,
                     path.empty() ? "<nil>" : path});
  }

  static std::string ruleText(const ValidationRule& r) {
    return trim(r.message).empty() ? trim(r.rule) : trim(r.message);
  }

  void evaluateRules(const RuleNode& n, const std::string& path, const json::value& v,
                     const json::value* old, bool unchanged) {
    const Schema& s = *n.schema;
    cel::Activation act;
    act["self"] = celValueOf(s, v, n.resourceRoot);
    bool hasOld = old != nullptr && !old->is_null();
    if (hasOld) act["oldSelf"] = celValueOf(s, *old, n.resourceRoot);
    cel::Activation optionalAct = act;
    optionalAct["oldSelf"] =
        cel::Value::optional(hasOld ? std::optional<cel::Value>(act["oldSelf"]) : std::nullopt);
    for (const auto& r : n.rules) {
      if (!r.program) continue;
      bool optionalOld = r.spec.optionalOldSelf.value_or(false);
      // Transition rules need an old value, unless oldSelf is optional.
      if (r.usesOldSelf && !hasOld && !optionalOld) continue;
      const cel::Activation& ruleAct = optionalOld ? optionalAct : act;
      if (budget_ == 0) {
        fail(path, s.type,
             "validation failed due to running out of cost budget, no further validation rules "
             "will be run");
        return;
      }
      uint64_t used = 0;
      cel::Value result =
          cel::evaluate(*r.program, ruleAct, std::min(kPerCallLimit, budget_), &used);
      budget_ -= std::min(budget_, used);
      if (result.isError()) {
        const std::string& err = result.asString();
        if (err.rfind("no matching overload", 0) == 0 || err.rfind("no such overload", 0) == 0) {
          fail(path, s.type,
               "'" + err +
                   "': call arguments did not match a supported operator, function or macro "
                   "signature for rule: " +
                   ruleText(r.spec));
        } else if (err.rfind("operation cancelled: actual cost limit exceeded", 0) == 0) {
          fail(path, s.type,
               "'" + err +
                   "': no further validation rules will be run due to call cost exceeds limit "
                   "for rule: " +
                   ruleText(r.spec));
          budget_ = 0;
          return;
        } else {
          fail(path, s.type, err + " evaluating rule: " + ruleText(r.spec));
        }
        continue;
      }
      if (result.kind() == cel::Kind::kBool && result.asBool()) continue;
      std::string target = r.fieldPath.empty()     ? path
                           : path.empty()          ? r.fieldPath
                           : r.fieldPath[0] == '[' ? path + r.fieldPath
                                                   : path + "." + r.fieldPath;
      std::string detail =
          trim(r.spec.message).empty() ? "failed rule: " + trim(r.spec.rule) : trim(r.spec.message);
      if (r.message) {
        uint64_t mused = 0;
        cel::Value m = cel::evaluate(*r.message, ruleAct, std::min(kPerCallLimit, budget_), &mused);
        budget_ -= std::min(budget_, mused);
        if (m.kind() == cel::Kind::kString) {
          std::string text = trim(m.asString());
          // Empty, multi-line or overlong messages fall back to the static one, as upstream.
          if (!text.empty() && !hasNewlines(text) && text.size() <= 5 * 1024) detail = text;
        }
      }
      addFailure(target, s.type, detail, r.spec);
      if (!r.usesOldSelf && unchanged) {
        // Ratcheting: the value did not change, so the failure only warns (upstream's
        // warning.AddWarning with the field error's text).
        if (warnings_) warnings_->push_back(errs_.back().field + ": " + errs_.back().message);
        errs_.pop_back();
      }
    }
  }

  void addFailure(const std::string& path, const std::string& type, const std::string& detail,
                  const ValidationRule& r) {
    std::string field = path.empty() ? "<nil>" : path;
    if (r.reason == "FieldValueForbidden") {
      errs_.push_back({"FieldValueForbidden", "Forbidden: " + detail, field});
    } else if (r.reason == "FieldValueRequired") {
      errs_.push_back({"FieldValueRequired", "Required value: " + detail, field});
    } else if (r.reason == "FieldValueDuplicate") {
      errs_.push_back({"FieldValueDuplicate", "Duplicate value: " + goQuote(type), field});
    } else {
      fail(path, type, detail);
    }
  }

  FieldErrors& errs_;
  std::vector<std::string>* warnings_;
  uint64_t budget_ = kObjectBudget;
};

}  // namespace

class RuleValidator {
 public:
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<RuleNode> root;
};

std::shared_ptr<const RuleValidator> compileRules(std::shared_ptr<const Schema> root,
                                                  const std::string& path, FieldErrors& errs) {
  if (!root) return nullptr;
  size_t before = errs.size();
  Compiler compiler(errs);
  auto node = compiler.node(*root, path, true, "", 0, 1);
  bool compiled = errs.size() == before;
  compiler.checkTotal(path);
  for (auto& e : compiler.costErrors()) errs.push_back(std::move(e));
  if (!compiled || node->empty()) return nullptr;
  auto v = std::make_shared<RuleValidator>();
  v->schema = std::move(root);
  v->root = std::move(node);
  return v;
}

FieldErrors validateRules(const RuleValidator& validator, const json::value& obj,
                          const json::value* old, std::vector<std::string>* warnings) {
  FieldErrors errs;
  Evaluator ev(errs, warnings);
  ev.validate(*validator.root, "", obj, old, old != nullptr && *old == obj, 0);
  return errs;
}

}  // namespace berth::apiserver::crd
