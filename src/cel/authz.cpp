#include "cel/authz.h"

#include <map>

#include "cel/cel.h"
#include "cel/functions.h"

namespace berth::cel {

namespace {

using K = Type::K;

constexpr const char* kAuthorizer = "kubernetes.authorization.Authorizer";
constexpr const char* kPathCheck = "kubernetes.authorization.PathCheck";
constexpr const char* kGroupCheck = "kubernetes.authorization.GroupCheck";
constexpr const char* kResourceCheck = "kubernetes.authorization.ResourceCheck";
constexpr const char* kDecision = "kubernetes.authorization.Decision";

// Field-less object types: selecting a field of one is "undefined field".
Type opaque(const char* name) {
  static const auto kNoFields = std::make_shared<const std::map<std::string, Type>>();
  return Type{K::kObject, name, kNoFields};
}

struct Method {
  size_t stringArgs;
  const char* result;  // an object type name, or "bool"/"string"
};

// (receiver type, method) → signature.
const std::map<std::pair<std::string, std::string>, Method>& methods() {
  static const std::map<std::pair<std::string, std::string>, Method> m = {
      {{kAuthorizer, "group"}, {1, kGroupCheck}},
      {{kAuthorizer, "path"}, {1, kPathCheck}},
      {{kAuthorizer, "serviceAccount"}, {2, kAuthorizer}},
      {{kGroupCheck, "resource"}, {1, kResourceCheck}},
      {{kResourceCheck, "subresource"}, {1, kResourceCheck}},
      {{kResourceCheck, "namespace"}, {1, kResourceCheck}},
      {{kResourceCheck, "name"}, {1, kResourceCheck}},
      {{kResourceCheck, "fieldSelector"}, {1, kResourceCheck}},
      {{kResourceCheck, "labelSelector"}, {1, kResourceCheck}},
      {{kResourceCheck, "check"}, {1, kDecision}},
      {{kPathCheck, "check"}, {1, kDecision}},
      {{kDecision, "allowed"}, {0, "bool"}},
      {{kDecision, "errored"}, {0, "bool"}},
      {{kDecision, "reason"}, {0, "string"}},
      {{kDecision, "error"}, {0, "string"}},
  };
  return m;
}

bool isLibraryType(const std::string& name) {
  return name == kAuthorizer || name == kPathCheck || name == kGroupCheck ||
         name == kResourceCheck || name == kDecision;
}

bool isLibraryFunction(const std::string& fn) {
  for (const auto& [key, _] : methods()) {
    if (key.second == fn) return true;
  }
  return false;
}

Type resultType(const char* name) {
  if (std::string(name) == "bool") return Type::of(K::kBool);
  if (std::string(name) == "string") return Type::of(K::kString);
  if (std::string(name) == kAuthorizer) return authorizerType();
  return opaque(name);
}

// Runtime values: maps of string fields tagged with "@authz" = the type name.
using Fields = std::map<std::string, std::string>;

Value make(const std::string& type, const Fields& fields) {
  ValueMap entries;
  entries.emplace_back(Value::string("@authz"), Value::string(type));
  for (const auto& [k, v] : fields) entries.emplace_back(Value::string(k), Value::string(v));
  return Value::map(std::move(entries));
}

Fields fieldsOf(const Value& v) {
  Fields out;
  for (size_t i = 0; i < v.size(); ++i) {
    Value k = v.keyAt(i);
    auto val = v.get(k);
    if (val && val->kind() == Kind::kString) out[k.asString()] = val->asString();
  }
  return out;
}

Value decisionValue(const AuthzDecision& d) {
  ValueMap entries;
  entries.emplace_back(Value::string("@authz"), Value::string(kDecision));
  entries.emplace_back(Value::string("allowed"), Value::boolean(d.allowed));
  entries.emplace_back(Value::string("reason"), Value::string(d.reason));
  entries.emplace_back(Value::string("error"), Value::string(d.error));
  return Value::map(std::move(entries));
}

Value check(const Fields& f, const std::string& verb, const AuthzCallback* callback) {
  if (!callback || !*callback) return Value::error("authorizer not available");
  AuthzCheck c;
  auto field = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() ? std::string() : it->second;
  };
  c.saNamespace = field("saNamespace");
  c.saName = field("saName");
  c.resourceRequest = !f.count("path");
  c.group = field("group");
  c.resource = field("resource");
  c.subresource = field("subresource");
  c.ns = field("namespace");
  c.name = field("name");
  c.fieldSelector = field("fieldSelector");
  c.labelSelector = field("labelSelector");
  c.path = field("path");
  c.verb = verb;
  return decisionValue((*callback)(c));
}

}  // namespace

Type authorizerType() {
  static const auto kFields = std::make_shared<const std::map<std::string, Type>>(
      std::map<std::string, Type>{{"requestResource", opaque(kResourceCheck)}});
  return Type{K::kObject, kAuthorizer, kFields};
}

namespace {

// An Authorizer value: its own fields (the service account) and requestResource, which checks
// as the same user.
Value authorizerWith(const Fields& user, const std::optional<Fields>& request) {
  ValueMap entries;
  entries.emplace_back(Value::string("@authz"), Value::string(kAuthorizer));
  for (const auto& [k, v] : user) entries.emplace_back(Value::string(k), Value::string(v));
  if (request) {
    Fields r = *request;
    for (const auto& [k, v] : user) r[k] = v;
    entries.emplace_back(Value::string("requestResource"), make(kResourceCheck, r));
  }
  return Value::map(std::move(entries));
}

}  // namespace

Value authorizerValue(const AuthzCheck* request) {
  if (!request) return authorizerWith({}, std::nullopt);
  return authorizerWith({}, Fields{{"group", request->group},
                                   {"resource", request->resource},
                                   {"subresource", request->subresource},
                                   {"namespace", request->ns},
                                   {"name", request->name}});
}

std::optional<Type> checkAuthzCall(const Type& target, const std::string& fn,
                                   const std::vector<Type>& args, std::string* error) {
  if (target.k != K::kObject || !isLibraryType(target.objectName)) return std::nullopt;
  auto it = methods().find({target.objectName, fn});
  bool fits = it != methods().end() && args.size() == it->second.stringArgs;
  for (size_t i = 0; fits && i < args.size(); ++i) {
    fits = args[i].k == K::kString || args[i].k == K::kDyn;
  }
  if (fits) return resultType(it->second.result);
  if (!isLibraryFunction(fn)) {
    *error = "undeclared reference to '" + fn + "' (in container '')";
    return Type::of(K::kDyn);
  }
  // cel-go names a member overload's receiver before the argument list.
  std::string list;
  for (size_t i = 0; i < args.size(); ++i) list += (i ? ", " : "") + args[i].name();
  *error = "found no matching overload for '" + fn + "' applied to '" + target.objectName + ".(" +
           list + ")'";
  return Type::of(K::kDyn);
}

bool isAuthzValue(const Value& v) {
  return v.kind() == Kind::kMap && v.size() > 0 && v.get(Value::string("@authz")).has_value();
}

Value callAuthz(const std::string& fn, const std::vector<Value>& args,
                const AuthzCallback* callback) {
  Fields f = fieldsOf(args[0]);
  const std::string type = f["@authz"];
  f.erase("@authz");
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].kind() != Kind::kString) return noSuchOverload(fn, args);
  }
  auto arg = [&](size_t i) { return args.size() > i ? args[i].asString() : std::string(); };
  auto it = methods().find({type, fn});
  if (it == methods().end() || args.size() != it->second.stringArgs + 1) {
    return noSuchOverload(fn, args);
  }
  if (type == kDecision) {
    auto v = args[0].get(Value::string(fn == "errored" ? "error" : fn));
    if (fn == "errored") return Value::boolean(v && !v->asString().empty());
    return v ? *v : Value::error("no such key: " + fn);
  }
  if (fn == "check") return check(f, arg(1), callback);
  if (fn == "serviceAccount") {
    Fields user{{"saNamespace", arg(1)}, {"saName", arg(2)}};
    std::optional<Fields> request;
    if (auto r = args[0].get(Value::string("requestResource"))) {
      request = fieldsOf(*r);
      request->erase("@authz");
    }
    return authorizerWith(user, request);
  }
  f[fn] = arg(1);  // group, resource, subresource, namespace, name, path, the selectors
  return make(it->second.result, f);
}

}  // namespace berth::cel
