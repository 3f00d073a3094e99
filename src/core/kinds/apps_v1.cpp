// apps/v1 kinds: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision. Defaults
// from pkg/apis/apps/v1/defaults.go, validation from pkg/apis/apps/validation, selector
// immutability from pkg/registry/apps/*/strategy.go.
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const json::object kEmpty;

const json::object& specOf(const json::object& obj) {
  const json::object* s = getObj(obj, "spec");
  return s != nullptr ? *s : kEmpty;
}

int64_t intOrPercentValue(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_string() && isValidPercent(v->get_string()).empty()) {
    std::string_view s = v->get_string();
    std::string digits(s.substr(0, std::min<size_t>(s.size() - 1, 9)));
    return std::stoll(digits);
  }
  return 0;
}

void defaultTemplate(json::object& spec) { defaultPodTemplate(ensureObj(spec, "template")); }

// ---- Deployment -------------------------------------------------------------------------------

void deploymentDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "replicas", 1);
  json::object& strategy = ensureObj(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (getStr(strategy, "type") == "RollingUpdate") {
    json::object& ru = ensureObj(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", "25%");
    setDefault(ru, "maxSurge", "25%");
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  defaultTemplate(spec);
}

void validateRollingUpdate(const json::object& ru, const std::string& path, FieldErrors& errs) {
  const json::value* mu = getVal(ru, "maxUnavailable");
  const json::value* ms = getVal(ru, "maxSurge");
  if (mu) validatePositiveIntOrPercent(*mu, child(path, "maxUnavailable"), errs);
  if (ms) validatePositiveIntOrPercent(*ms, child(path, "maxSurge"), errs);
  if (intOrPercentValue(mu) == 0 && intOrPercentValue(ms) == 0) {
    addInvalid(errs, child(path, "maxUnavailable"), mu ? formatIntOrString(*mu) : "null",
               "may not be 0 when `maxSurge` is 0");
  }
  if (mu) validateNotMoreThan100Percent(*mu, child(path, "maxUnavailable"), errs);
}

void deploymentValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  validateWorkloadSelector(spec, "spec", "deployment", errs, true);
  validateAlwaysRestartTemplate(spec, "spec", "Deployment", errs);
  const json::object* strategy = getObj(spec, "strategy");
  std::string_view type = strategy ? getStr(*strategy, "type") : "";
  if (type == "Recreate") {
    if (has(*strategy, "rollingUpdate")) {
      addForbidden(errs, "spec.strategy.rollingUpdate",
                   "may not be specified when strategy `type` is 'Recreate'");
    }
  } else if (type == "RollingUpdate") {
    if (const json::object* ru = getObj(*strategy, "rollingUpdate")) {
      validateRollingUpdate(*ru, "spec.strategy.rollingUpdate", errs);
    } else {
      addRequired(errs, "spec.strategy.rollingUpdate",
                  "this should be defaulted and never be nil");
    }
  } else {
    addNotSupported(errs, "spec.strategy", strategy ? formatValue(*getVal(spec, "strategy")) : "null",
                    {"Recreate", "RollingUpdate"});
  }
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateNonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
  if (auto pds = getInt(spec, "progressDeadlineSeconds")) {
    validateNonnegative(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds", errs);
    if (*pds <= getInt(spec, "minReadySeconds").value_or(0)) {
      addInvalidInt(errs, "spec.progressDeadlineSeconds", *pds,
                    "must be greater than minReadySeconds");
    }
  }
}

void selectorImmutable(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object& oldSpec = specOf(old);
  if (!sameJson(getVal(spec, "selector"), getVal(oldSpec, "selector"))) {
    addInvalid(errs, "spec.selector", formatSelector(getObj(spec, "selector")),
               "field is immutable");
  }
}

// ---- ReplicaSet -------------------------------------------------------------------------------

void replicaSetDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "replicas", 1);
  defaultTemplate(spec);
}

void replicaSetValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateWorkloadSelector(spec, "spec", "deployment", errs, true);
  validateAlwaysRestartTemplate(spec, "spec", "ReplicaSet", errs);
}

// ---- DaemonSet --------------------------------------------------------------------------------

void daemonSetDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  json::object& strategy = ensureObj(spec, "updateStrategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (getStr(strategy, "type") == "RollingUpdate") {
    json::object& ru = ensureObj(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", 1);
    setDefault(ru, "maxSurge", 0);
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  defaultTemplate(spec);
}

void daemonSetValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  validateWorkloadSelector(spec, "spec", "daemonset", errs, true);
  validateAlwaysRestartTemplate(spec, "spec", "DaemonSet", errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateNonnegative(spec, "templateGeneration", "spec.templateGeneration", errs);
  const json::object* strategy = getObj(spec, "updateStrategy");
  std::string_view type = strategy ? getStr(*strategy, "type") : "";
  if (type == "RollingUpdate") {
    if (const json::object* ru = getObj(*strategy, "rollingUpdate")) {
      validateRollingUpdate(*ru, "spec.updateStrategy.rollingUpdate", errs);
    } else {
      addRequired(errs, "spec.updateStrategy.rollingUpdate");
    }
  } else if (type != "OnDelete") {
    addNotSupported(errs, "spec.updateStrategy",
                    strategy ? formatValue(*getVal(spec, "updateStrategy")) : "null",
                    {"OnDelete", "RollingUpdate"});
  }
  validateNonnegative(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
}

// ---- StatefulSet ------------------------------------------------------------------------------

void statefulSetDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  json::object& strategy = ensureObj(spec, "updateStrategy");
  if (getStr(strategy, "type").empty()) {
    strategy["type"] = "RollingUpdate";
    setDefault(strategy, "rollingUpdate", json::object());
  }
  if (getStr(strategy, "type") == "RollingUpdate") {
    if (json::object* ru = getObjMut(strategy, "rollingUpdate")) setDefault(*ru, "partition", 0);
  }
  json::object& retention = ensureObj(spec, "persistentVolumeClaimRetentionPolicy");
  setDefault(retention, "whenDeleted", "Retain");
  setDefault(retention, "whenScaled", "Retain");
  setDefault(spec, "replicas", 1);
  setDefault(spec, "revisionHistoryLimit", 10);
  defaultTemplate(spec);
}

void statefulSetValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  std::string_view pmp = getStr(spec, "podManagementPolicy");
  if (pmp.empty()) {
    addRequired(errs, "spec.podManagementPolicy");
  } else if (pmp != "OrderedReady" && pmp != "Parallel") {
    addInvalidStr(errs, "spec.podManagementPolicy", pmp,
                  "must be 'OrderedReady' or 'Parallel'");
  }
  const json::object* strategy = getObj(spec, "updateStrategy");
  std::string_view type = strategy ? getStr(*strategy, "type") : "";
  if (type.empty()) {
    addRequired(errs, "spec.updateStrategy");
  } else if (type == "OnDelete") {
    if (has(*strategy, "rollingUpdate")) {
      addInvalid(errs, "spec.updateStrategy.rollingUpdate",
                 formatValue(*getVal(*strategy, "rollingUpdate")),
                 "only allowed for updateStrategy 'RollingUpdate'");
    }
  } else if (type == "RollingUpdate") {
    if (const json::object* ru = getObj(*strategy, "rollingUpdate")) {
      validateNonnegative(*ru, "partition", "spec.updateStrategy.rollingUpdate.partition", errs);
    }
  } else {
    addInvalidStr(errs, "spec.updateStrategy", type,
                  "must be 'RollingUpdate' or 'OnDelete'");
  }
  if (const json::object* r = getObj(spec, "persistentVolumeClaimRetentionPolicy")) {
    for (const char* f : {"whenDeleted", "whenScaled"}) {
      std::string_view v = getStr(*r, f);
      if (v != "Retain" && v != "Delete") {
        addNotSupported(errs, child("spec.persistentVolumeClaimRetentionPolicy", f), goQuote(v),
                        {"Delete", "Retain"});
      }
    }
  }
  validateNonnegative(spec, "replicas", "spec.replicas", errs);
  validateNonnegative(spec, "minReadySeconds", "spec.minReadySeconds", errs);
  validateWorkloadSelector(spec, "spec", "statefulset", errs, true);
  // Containers mount volumeClaimTemplates by name: each pod gets a volume of that name (the
  // StatefulSet controller adds it), so validate the template as the pods will have it.
  json::object withClaims = spec;
  if (const json::value* claims = getVal(spec, "volumeClaimTemplates");
      claims && claims->is_array()) {
    json::object& tmpl = ensureObj(withClaims, "template");
    json::object& podSpec = ensureObj(tmpl, "spec");
    json::value& volumes = podSpec["volumes"];
    if (!volumes.is_array()) volumes = json::array();
    for (const json::value& c : claims->get_array()) {
      const json::object* meta = c.is_object() ? getObj(c.get_object(), "metadata") : nullptr;
      std::string_view name = meta ? getStr(*meta, "name") : "";
      if (name.empty()) continue;
      bool present = false;
      for (const json::value& v : volumes.as_array()) {
        present |= v.is_object() && getStr(v.get_object(), "name") == name;
      }
      if (!present) {
        volumes.as_array().push_back(
            json::object{{"name", name}, {"persistentVolumeClaim", {{"claimName", name}}}});
      }
    }
  }
  validateAlwaysRestartTemplate(withClaims, "spec", "StatefulSet", errs);
}

void statefulSetValidateUpdate(const json::object& obj, const json::object& old,
                               FieldErrors& errs) {
  json::object clone = specOf(obj);
  const json::object& oldSpec = specOf(old);
  for (const char* f : {"replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                        "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy"}) {
    if (const json::value* v = oldSpec.if_contains(f)) {
      clone[f] = *v;
    } else {
      clone.erase(f);
    }
  }
  json::value a(clone);
  json::value b(oldSpec);
  if (!sameJson(&a, &b)) {
    addForbidden(errs, "spec",
                 "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                 "'template', 'updateStrategy', 'revisionHistoryLimit', "
                 "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  }
}

// ---- ControllerRevision -----------------------------------------------------------------------

void controllerRevisionValidate(const json::object& obj, FieldErrors& errs) {
  validateNonnegative(obj, "revision", "revision", errs);
}

void controllerRevisionValidateUpdate(const json::object& obj, const json::object& old,
                                      FieldErrors& errs) {
  validateImmutable(getVal(obj, "data"), getVal(old, "data"), "data", errs);
}

}  // namespace

const json::object* templateLabels(const json::object& spec) {
  const json::object* tmpl = getObj(spec, "template");
  const json::object* meta = tmpl ? getObj(*tmpl, "metadata") : nullptr;
  return meta ? getObj(*meta, "labels") : nullptr;
}

void validateWorkloadSelector(const json::object& spec, const std::string& specPath,
                              std::string_view what, FieldErrors& errs, bool requireNonEmpty) {
  std::string path = child(specPath, "selector");
  const json::object* selector = getObj(spec, "selector");
  const json::object* labels = templateLabels(spec);
  std::string mismatchPath = child(specPath, "template.metadata.labels");
  const char* mismatch = "`selector` does not match template `labels`";
  if (selector == nullptr) {
    addRequired(errs, path);
    // A nil selector matches nothing upstream, so the template check fails too.
    addInvalid(errs, mismatchPath, formatStringMap(labels), mismatch);
    return;
  }
  validateLabelSelector(*selector, path, errs);
  if (selectorEmpty(*selector)) {
    if (requireNonEmpty) {
      addInvalid(errs, path, formatSelector(selector),
                 "empty selector is invalid for " + std::string(what));
    }
    return;
  }
  if (!selectorMatches(*selector, labels)) {
    addInvalid(errs, mismatchPath, formatStringMap(labels), mismatch);
  }
}

void validateAlwaysRestartTemplate(const json::object& spec, const std::string& specPath,
                                   std::string_view kind, FieldErrors& errs) {
  std::string path = child(specPath, "template");
  const json::object* tmpl = getObj(spec, "template");
  static const json::object kNoTemplate;
  validatePodTemplate(tmpl ? tmpl : &kNoTemplate, path, errs, {"Always"});
  const json::object* ps = tmpl ? getObj(*tmpl, "spec") : nullptr;
  if (ps == nullptr) return;
  if (auto ads = getInt(*ps, "activeDeadlineSeconds")) {
    addInvalidInt(errs, child(path, "spec.activeDeadlineSeconds"), *ads,
                  "activeDeadlineSeconds in " + std::string(kind) + " is not Supported");
  }
}

const KindOps* appsOps(std::string_view kind) {
  static const KindOps deployment = [] {
    KindOps o;
    o.defaults = deploymentDefaults;
    o.validate = deploymentValidate;
    o.validateUpdate = selectorImmutable;
    return o;
  }();
  static const KindOps replicaSet = [] {
    KindOps o;
    o.defaults = replicaSetDefaults;
    o.validate = replicaSetValidate;
    o.validateUpdate = selectorImmutable;
    return o;
  }();
  static const KindOps daemonSet = [] {
    KindOps o;
    o.defaults = daemonSetDefaults;
    o.validate = daemonSetValidate;
    o.validateUpdate = selectorImmutable;
    return o;
  }();
  static const KindOps statefulSet = [] {
    KindOps o;
    o.defaults = statefulSetDefaults;
    o.validate = statefulSetValidate;
    o.validateUpdate = statefulSetValidateUpdate;
    return o;
  }();
  static const KindOps controllerRevision = [] {
    KindOps o;
    o.validate = controllerRevisionValidate;
    o.validateUpdate = controllerRevisionValidateUpdate;
    return o;
  }();
  if (kind == "Deployment") return &deployment;
  if (kind == "ReplicaSet") return &replicaSet;
  if (kind == "DaemonSet") return &daemonSet;
  if (kind == "StatefulSet") return &statefulSet;
  if (kind == "ControllerRevision") return &controllerRevision;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
