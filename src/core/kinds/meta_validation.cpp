// ObjectMeta validation on create and update, and the shared field validators (labels,
// annotations, selectors, int-or-percent, immutability), after upstream apimachinery
// pkg/api/validation/objectmeta.go and pkg/apis/meta/v1/validation.
#include <set>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

constexpr int64_t kTotalAnnotationSizeLimit = 256 * 1024;

void validateOwnerReferences(const json::array* refs, const std::string& path,
                             FieldErrors& errs) {
  if (refs == nullptr) return;
  int controllers = 0;
  for (const auto& rv : *refs) {
    const json::object* r = rv.if_object();
    if (r == nullptr) {
      addInvalid(errs, path, formatValue(rv), "must be an object");
      continue;
    }
    std::string_view apiVersion = getStr(*r, "apiVersion");
    std::string_view version = apiVersion.substr(apiVersion.find('/') == std::string_view::npos
                                                     ? 0
                                                     : apiVersion.find('/') + 1);
    if (version.empty()) {
      addInvalidStr(errs, child(path, "apiVersion"), apiVersion, "version must not be empty");
    }
    if (getStr(*r, "kind").empty()) {
      addInvalidStr(errs, child(path, "kind"), getStr(*r, "kind"), "must not be empty");
    }
    if (getStr(*r, "name").empty()) {
      addInvalidStr(errs, child(path, "name"), getStr(*r, "name"), "must not be empty");
    }
    if (getStr(*r, "uid").empty()) {
      addInvalidStr(errs, child(path, "uid"), getStr(*r, "uid"), "must not be empty");
    }
    if (getBool(*r, "controller").value_or(false)) ++controllers;
  }
  if (controllers > 1) {
    addInvalid(errs, path, json::serialize(*refs),
               "Only one reference can have Controller set to true. Found \"true\" in references "
               "for more than one owner");
  }
}

void validateFinalizers(const json::array* finalizers, const std::string& path,
                        FieldErrors& errs) {
  if (finalizers == nullptr) return;
  for (const auto& f : *finalizers) {
    if (!f.is_string()) continue;
    for (const auto& m : isQualifiedName(f.get_string())) {
      addInvalidStr(errs, path, f.get_string(), m);
    }
  }
}

}  // namespace

void validateLabels(const json::object* labels, const std::string& path, FieldErrors& errs) {
  if (labels == nullptr) return;
  for (const auto& [k, v] : *labels) {
    for (const auto& m : isQualifiedName(k)) addInvalidStr(errs, path, k, m);
    if (!v.is_string()) {
      addInvalid(errs, path, formatValue(v), "label values must be strings");
      continue;
    }
    for (const auto& m : isValidLabelValue(v.get_string())) {
      addInvalidStr(errs, path, v.get_string(), m);
    }
  }
}

void validateAnnotations(const json::object* annotations, const std::string& path,
                         FieldErrors& errs) {
  if (annotations == nullptr) return;
  int64_t total = 0;
  for (const auto& [k, v] : *annotations) {
    std::string lower(k);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& m : isQualifiedName(lower)) addInvalidStr(errs, path, k, m);
    total += static_cast<int64_t>(k.size());
    if (v.is_string()) total += static_cast<int64_t>(v.get_string().size());
  }
  if (total > kTotalAnnotationSizeLimit) addTooLong(errs, path, kTotalAnnotationSizeLimit);
}

void validateObjectMeta(const json::object& obj, bool namespaced, const NameFn& nameFn,
                        FieldErrors& errs, std::string_view pathView) {
  std::string path(pathView);
  static const json::object kEmpty;
  const json::object* mp = getObj(obj, "metadata");
  const json::object& meta = mp != nullptr ? *mp : kEmpty;
  std::string_view name = getStr(meta, "name");
  std::string_view generateName = getStr(meta, "generateName");
  if (!generateName.empty()) {
    for (const auto& m : nameFn(generateName, true)) {
      addInvalidStr(errs, child(path, "generateName"), generateName, m);
    }
  }
  if (name.empty()) {
    // The API server generates the name from generateName before validation upstream.
    if (generateName.empty()) {
      addRequired(errs, child(path, "name"), "name or generateName is required");
    }
  } else {
    for (const auto& m : nameFn(name, false)) addInvalidStr(errs, child(path, "name"), name, m);
  }
  std::string_view ns = getStr(meta, "namespace");
  if (namespaced) {
    if (ns.empty()) {
      addRequired(errs, child(path, "namespace"));
    } else {
      for (const auto& m : nameIsDnsLabel(ns, false)) {
        addInvalidStr(errs, child(path, "namespace"), ns, m);
      }
    }
  } else if (!ns.empty()) {
    addForbidden(errs, child(path, "namespace"), "not allowed on this type");
  }
  if (auto g = getInt(meta, "generation"); g && *g < 0) {
    addInvalidInt(errs, child(path, "generation"), *g, "must be greater than or equal to 0");
  }
  validateLabels(getObj(meta, "labels"), child(path, "labels"), errs);
  validateAnnotations(getObj(meta, "annotations"), child(path, "annotations"), errs);
  validateOwnerReferences(getArr(meta, "ownerReferences"), child(path, "ownerReferences"), errs);
  validateFinalizers(getArr(meta, "finalizers"), child(path, "finalizers"), errs);
}

void validateObjectMetaUpdate(const json::object& obj, const json::object& old,
                              FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* mp = getObj(obj, "metadata");
  const json::object* op = getObj(old, "metadata");
  const json::object& meta = mp != nullptr ? *mp : kEmpty;
  const json::object& oldMeta = op != nullptr ? *op : kEmpty;
  for (const char* f : {"name", "namespace"}) {
    if (getStr(meta, f) != getStr(oldMeta, f)) {
      addInvalidStr(errs, child("metadata", f), getStr(meta, f), "field is immutable");
    }
  }
  // uid and creationTimestamp are filled from the stored object when a client omits them.
  for (const char* f : {"uid", "creationTimestamp"}) {
    if (hasStr(meta, f) && hasStr(oldMeta, f) && getStr(meta, f) != getStr(oldMeta, f)) {
      addInvalidStr(errs, child("metadata", f), getStr(meta, f), "field is immutable");
    }
  }
  if (auto g = getInt(meta, "generation"); g && *g < 0) {
    addInvalidInt(errs, "metadata.generation", *g, "must be greater than or equal to 0");
  }
  validateLabels(getObj(meta, "labels"), "metadata.labels", errs);
  validateAnnotations(getObj(meta, "annotations"), "metadata.annotations", errs);
  validateOwnerReferences(getArr(meta, "ownerReferences"), "metadata.ownerReferences", errs);
  validateFinalizers(getArr(meta, "finalizers"), "metadata.finalizers", errs);
}

void validateLabelSelector(const json::object& selector, const std::string& path,
                           FieldErrors& errs) {
  validateLabels(getObj(selector, "matchLabels"), child(path, "matchLabels"), errs);
  const json::array* exprs = getArr(selector, "matchExpressions");
  if (exprs == nullptr) return;
  for (size_t i = 0; i < exprs->size(); ++i) {
    std::string p = index(child(path, "matchExpressions"), i);
    const json::object* e = (*exprs)[i].if_object();
    if (e == nullptr) {
      addInvalid(errs, p, formatValue((*exprs)[i]), "must be an object");
      continue;
    }
    std::string_view op = getStr(*e, "operator");
    const json::array* values = getArr(*e, "values");
    size_t nValues = values != nullptr ? values->size() : 0;
    if (op == "In" || op == "NotIn") {
      if (nValues == 0) {
        addRequired(errs, child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (nValues > 0) {
        addForbidden(errs, child(p, "values"),
                     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
    } else {
      addInvalidStr(errs, child(p, "operator"), op, "not a valid selector operator");
    }
    std::string_view k = getStr(*e, "key");
    for (const auto& m : isQualifiedName(k)) addInvalidStr(errs, child(p, "key"), k, m);
    for (size_t j = 0; j < nValues; ++j) {
      const json::value& v = (*values)[j];
      if (!v.is_string()) continue;
      for (const auto& m : isValidLabelValue(v.get_string())) {
        addInvalidStr(errs, index(child(p, "values"), j), v.get_string(), m);
      }
    }
  }
}

void validateNonnegative(const json::object& o, std::string_view k, const std::string& path,
                         FieldErrors& errs) {
  if (auto v = getInt(o, k); v && *v < 0) {
    addInvalidInt(errs, path, *v, "must be greater than or equal to 0");
  }
}

void validatePositiveIntOrPercent(const json::value& v, const std::string& path,
                                  FieldErrors& errs) {
  if (v.is_string()) {
    for (const auto& m : isValidPercent(v.get_string())) {
      addInvalid(errs, path, formatIntOrString(v), m);
    }
  } else if (v.is_int64() && v.get_int64() < 0) {
    addInvalidInt(errs, path, v.get_int64(), "must be greater than or equal to 0");
  } else if (!v.is_number() && !v.is_null()) {
    addInvalid(errs, path, formatValue(v), "must be an integer or percentage");
  }
}

void validateNotMoreThan100Percent(const json::value& v, const std::string& path,
                                   FieldErrors& errs) {
  if (!v.is_string() || !isValidPercent(v.get_string()).empty()) return;
  std::string_view s = v.get_string();
  std::string digits(s.substr(0, s.size() - 1));
  if (digits.size() > 4 || std::stoi(digits) > 100) {
    addInvalid(errs, path, formatIntOrString(v), "must not be greater than 100%");
  }
}

void validateImmutable(const json::value* now, const json::value* before, const std::string& path,
                       FieldErrors& errs) {
  if (sameJson(now, before)) return;
  addInvalid(errs, path, now != nullptr ? formatValue(*now) : "null", "field is immutable");
}

void validateResourceList(const json::object* list, const std::string& path, FieldErrors& errs) {
  if (list == nullptr) return;
  for (const auto& [k, v] : *list) {
    std::string p = key(path, k);
    for (const auto& m : isQualifiedName(k)) addInvalidStr(errs, p, k, m);
    std::string text = v.is_string() ? std::string(v.get_string())
                       : v.is_number() ? json::serialize(v)
                                       : "";
    auto q = parseQuantity(text);
    if (!q) {
      addInvalid(errs, p, formatValue(v), kQuantityFormatError);
    } else if (*q < 0) {
      addInvalidStr(errs, p, text, "must be greater than or equal to 0");
    }
  }
}

}  // namespace berth::core::kinds::detail
