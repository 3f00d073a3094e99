// rbac.authorization.k8s.io/v1 kinds: Role, ClusterRole, RoleBinding, ClusterRoleBinding, after
// upstream pkg/apis/rbac/v1/defaults.go and pkg/apis/rbac/validation/validation.go.
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

size_t arraySize(const json::object& o, std::string_view k) {
  const json::array* a = getArr(o, k);
  return a != nullptr ? a->size() : 0;
}

void validateRules(const json::object& obj, bool namespaced, FieldErrors& errs) {
  const json::array* rules = getArr(obj, "rules");
  for (size_t i = 0; rules && i < rules->size(); ++i) {
    const json::object* r = (*rules)[i].if_object();
    if (r == nullptr) continue;
    std::string p = index("rules", i);
    if (arraySize(*r, "verbs") == 0) {
      addRequired(errs, child(p, "verbs"), "verbs must contain at least one value");
    }
    if (arraySize(*r, "nonResourceURLs") > 0) {
      std::string urls = formatValue(*getVal(*r, "nonResourceURLs"));
      if (namespaced) {
        addInvalid(errs, child(p, "nonResourceURLs"), urls,
                   "namespaced rules cannot apply to non-resource URLs");
      }
      if (arraySize(*r, "apiGroups") + arraySize(*r, "resources") +
              arraySize(*r, "resourceNames") > 0) {
        addInvalid(errs, child(p, "nonResourceURLs"), urls,
                   "rules cannot apply to both regular resources and non-resource URLs");
      }
      continue;
    }
    if (arraySize(*r, "apiGroups") == 0) {
      addRequired(errs, child(p, "apiGroups"), "resource rules must supply at least one api group");
    }
    if (arraySize(*r, "resources") == 0) {
      addRequired(errs, child(p, "resources"), "resource rules must supply at least one resource");
    }
  }
}

void roleValidate(const json::object& obj, FieldErrors& errs) { validateRules(obj, true, errs); }

void clusterRoleValidate(const json::object& obj, FieldErrors& errs) {
  validateRules(obj, false, errs);
  if (const json::object* agg = getObj(obj, "aggregationRule")) {
    const json::array* sels = getArr(*agg, "clusterRoleSelectors");
    if (sels == nullptr || sels->empty()) {
      addRequired(errs, "aggregationRule.clusterRoleSelectors",
                  "at least one clusterRoleSelector required if aggregationRule is non-nil");
    }
    for (size_t i = 0; sels && i < sels->size(); ++i) {
      if (const json::object* s = (*sels)[i].if_object()) {
        validateLabelSelector(*s, index("aggregationRule.clusterRoleSelectors", i), errs);
      }
    }
  }
}

void bindingDefaults(json::object& obj) {
  json::object& ref = ensureObj(obj, "roleRef");
  if (getStr(ref, "apiGroup").empty()) ref["apiGroup"] = kRbacGroup;
  json::array* subjects = getArrMut(obj, "subjects");
  if (subjects == nullptr) return;
  for (auto& sv : *subjects) {
    json::object* s = sv.if_object();
    if (s == nullptr || !getStr(*s, "apiGroup").empty()) continue;
    std::string_view kind = getStr(*s, "kind");
    if (kind == "User" || kind == "Group") {
      (*s)["apiGroup"] = kRbacGroup;
    } else if (kind == "ServiceAccount") {
      (*s)["apiGroup"] = "";
    }
  }
}

void validateBinding(const json::object& obj, bool namespaced, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* rp = getObj(obj, "roleRef");
  const json::object& ref = rp != nullptr ? *rp : kEmpty;
  std::string_view group = getStr(ref, "apiGroup");
  if (group != kRbacGroup) addNotSupported(errs, "roleRef.apiGroup", goQuote(group), {kRbacGroup});
  std::string_view kind = getStr(ref, "kind");
  if (namespaced) {
    if (kind != "Role" && kind != "ClusterRole") {
      addNotSupported(errs, "roleRef.kind", goQuote(kind), {"Role", "ClusterRole"});
    }
  } else if (kind != "ClusterRole") {
    addNotSupported(errs, "roleRef.kind", goQuote(kind), {"ClusterRole"});
  }
  std::string_view name = getStr(ref, "name");
  if (name.empty()) {
    addRequired(errs, "roleRef.name");
  } else {
    for (const auto& m : validatePathSegmentName(name, false)) {
      addInvalidStr(errs, "roleRef.name", name, m);
    }
  }
  const json::array* subjects = getArr(obj, "subjects");
  for (size_t i = 0; subjects && i < subjects->size(); ++i) {
    const json::object* s = (*subjects)[i].if_object();
    if (s == nullptr) continue;
    std::string p = index("subjects", i);
    std::string_view sname = getStr(*s, "name");
    if (sname.empty()) addRequired(errs, child(p, "name"));
    std::string_view skind = getStr(*s, "kind");
    std::string_view sgroup = getStr(*s, "apiGroup");
    if (skind == "ServiceAccount") {
      if (!sname.empty()) {
        for (const auto& m : isDns1123Subdomain(sname)) addInvalidStr(errs, child(p, "name"), sname, m);
      }
      if (!sgroup.empty()) addNotSupported(errs, child(p, "apiGroup"), goQuote(sgroup), {""});
      if (!namespaced && getStr(*s, "namespace").empty()) addRequired(errs, child(p, "namespace"));
    } else if (skind == "User" || skind == "Group") {
      if (sgroup != kRbacGroup) {
        addNotSupported(errs, child(p, "apiGroup"), goQuote(sgroup), {kRbacGroup});
      }
    } else {
      addNotSupported(errs, child(p, "kind"), goQuote(skind), {"ServiceAccount", "User", "Group"});
    }
  }
}

void roleBindingValidate(const json::object& obj, FieldErrors& errs) {
  validateBinding(obj, true, errs);
}
void clusterRoleBindingValidate(const json::object& obj, FieldErrors& errs) {
  validateBinding(obj, false, errs);
}

void bindingValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  if (sameJson(getVal(obj, "roleRef"), getVal(old, "roleRef"))) return;
  static const json::object kEmpty;
  const json::object* rp = getObj(obj, "roleRef");
  const json::object& ref = rp != nullptr ? *rp : kEmpty;
  addInvalid(errs, "roleRef",
             "rbac.RoleRef{APIGroup:" + goQuote(getStr(ref, "apiGroup")) +
                 ", Kind:" + goQuote(getStr(ref, "kind")) + ", Name:" + goQuote(getStr(ref, "name")) +
                 "}",
             "cannot change roleRef");
}

}  // namespace

const KindOps* rbacOps(std::string_view kind) {
  auto make = [](auto validate, bool binding) {
    KindOps o;
    o.nameFn = validatePathSegmentName;
    o.validate = validate;
    if (binding) {
      o.defaults = bindingDefaults;
      o.validateUpdate = bindingValidateUpdate;
    }
    return o;
  };
  static const KindOps role = make(roleValidate, false);
  static const KindOps clusterRole = make(clusterRoleValidate, false);
  static const KindOps roleBinding = make(roleBindingValidate, true);
  static const KindOps clusterRoleBinding = make(clusterRoleBindingValidate, true);
  if (kind == "Role") return &role;
  if (kind == "ClusterRole") return &clusterRole;
  if (kind == "RoleBinding") return &roleBinding;
  if (kind == "ClusterRoleBinding") return &clusterRoleBinding;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
