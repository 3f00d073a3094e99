// The Pod kind: defaults, create status, and update immutability
// (ValidatePodUpdate in pkg/apis/core/validation).
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

constexpr const char* kPodUpdateForbidden =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)";

void podDefaults(json::object& obj) {
  // What upstream's ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add
  // on create is theirs (src/apiserver/admission), not defaulting's.
  json::object& spec = ensureObj(obj, "spec");
  defaultPodSpec(spec);
}

void podValidate(const json::object& obj, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* spec = getObj(obj, "spec");
  validatePodSpec(spec != nullptr ? *spec : kEmpty, "spec", errs);
}

// Tolerations present in `old` must still be present (tolerationSeconds may change).
bool onlyAddedTolerations(const json::array* now, const json::array* before) {
  if (before == nullptr) return true;
  for (const auto& ov : *before) {
    const json::object* o = ov.if_object();
    if (o == nullptr) continue;
    bool found = false;
    for (const auto& nv : now != nullptr ? *now : json::array()) {
      const json::object* n = nv.if_object();
      if (n == nullptr) continue;
      bool same = true;
      for (const char* f : {"key", "operator", "value", "effect"}) {
        same = same && getStr(*n, f) == getStr(*o, f);
      }
      found = found || same;
    }
    if (!found) return false;
  }
  return true;
}

void podValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* sp = getObj(obj, "spec");
  const json::object* op = getObj(old, "spec");
  const json::object& spec = sp != nullptr ? *sp : kEmpty;
  const json::object& oldSpec = op != nullptr ? *op : kEmpty;

  auto ads = getInt(spec, "activeDeadlineSeconds");
  auto oldAds = getInt(oldSpec, "activeDeadlineSeconds");
  if (ads) {
    if (*ads < 0 || *ads > INT32_MAX) {
      addInvalidInt(errs, "spec.activeDeadlineSeconds", *ads,
                    "must be between 0 and 2147483647, inclusive");
      return;
    }
    if (oldAds && *oldAds < *ads) {
      addInvalidInt(errs, "spec.activeDeadlineSeconds", *ads,
                    "must be less than or equal to previous value");
      return;
    }
  } else if (oldAds) {
    addInvalid(errs, "spec.activeDeadlineSeconds", "null",
               "must not update from a positive integer to nil value");
  }
  if (!onlyAddedTolerations(getArr(spec, "tolerations"), getArr(oldSpec, "tolerations"))) {
    addForbidden(errs, "spec.tolerations",
                 "existing toleration can not be modified except its tolerationSeconds");
  }

  // Munge the mutable fields of the new spec into the old and require the rest to be equal.
  json::object munged = spec;
  for (const char* list : {"containers", "initContainers"}) {
    json::array* now = getArrMut(munged, list);
    const json::array* before = getArr(oldSpec, list);
    if (now == nullptr || before == nullptr) continue;
    for (size_t i = 0; i < now->size() && i < before->size(); ++i) {
      json::object* c = (*now)[i].if_object();
      const json::object* oc = (*before)[i].if_object();
      if (c == nullptr || oc == nullptr) continue;
      if (const json::value* img = oc->if_contains("image")) {
        (*c)["image"] = *img;
      } else {
        c->erase("image");
      }
    }
  }
  for (const char* f : {"activeDeadlineSeconds", "tolerations"}) {
    if (const json::value* v = oldSpec.if_contains(f)) {
      munged[f] = *v;
    } else {
      munged.erase(f);
    }
  }
  auto tgps = getInt(spec, "terminationGracePeriodSeconds");
  auto oldTgps = getInt(oldSpec, "terminationGracePeriodSeconds");
  if (tgps && oldTgps && *oldTgps < 0 && *tgps == 1) munged["terminationGracePeriodSeconds"] = *oldTgps;
  json::value a(munged);
  json::value b(oldSpec);
  if (!sameJson(&a, &b)) addForbidden(errs, "spec", kPodUpdateForbidden);
}

void podPrepareCreate(json::object& obj) {
  static const json::object kEmpty;
  const json::object* spec = getObj(obj, "spec");
  obj["status"] = json::object{{"phase", "Pending"},
                               {"qosClass", podQosClass(spec != nullptr ? *spec : kEmpty)}};
}

}  // namespace

const KindOps& podOps() {
  static const KindOps ops = [] {
    KindOps o;
    o.defaults = podDefaults;
    o.validate = podValidate;
    o.validateUpdate = podValidateUpdate;
    o.prepareCreate = podPrepareCreate;
    o.statusUpdatesMetadata = true;
    return o;
  }();
  return ops;
}

}  // namespace berth::core::kinds::detail
