// The LimitRange kind (core/v1): upstream's SetDefaults_LimitRangeItem and the checks of
// ValidateLimitRange that guard the LimitRanger admission plugin's arithmetic.
#include "core/kinds/more_kinds.h"

namespace berth::core::kinds::detail {
namespace {

// A Container item's default limit falls back to its max, its default request to the default
// limit and then to the min — what a pod without resources gets from the LimitRanger plugin.
void limitRangeDefaults(json::object& obj) {
  json::array* items = getArrMut(ensureObj(obj, "spec"), "limits");
  if (!items) return;
  for (auto& iv : *items) {
    json::object* item = iv.if_object();
    if (!item || getStr(*item, "type") != "Container") continue;
    json::object def = getObj(*item, "default") ? *getObj(*item, "default") : json::object();
    json::object req =
        getObj(*item, "defaultRequest") ? *getObj(*item, "defaultRequest") : json::object();
    auto fill = [](json::object& into, const json::object* from) {
      if (!from) return;
      for (const auto& [k, v] : *from)
        if (!into.contains(k)) into[k] = v;
    };
    fill(def, getObj(*item, "max"));
    fill(req, &def);
    fill(req, getObj(*item, "min"));
    if (!def.empty()) (*item)["default"] = std::move(def);
    if (!req.empty()) (*item)["defaultRequest"] = std::move(req);
  }
}

void limitRangeValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* spec = getObj(obj, "spec");
  const json::array* items = spec ? getArr(*spec, "limits") : nullptr;
  if (!items) return;
  for (size_t i = 0; i < items->size(); ++i) {
    const json::object* item = (*items)[i].if_object();
    if (!item) continue;
    std::string path = "spec.limits[" + std::to_string(i) + "]";
    std::string_view type = getStr(*item, "type");
    if (type.empty()) {
      addRequired(errs, path + ".type");
    } else if (type != "Pod" && type != "Container" && type != "PersistentVolumeClaim") {
      addNotSupported(errs, path + ".type", goQuote(type),
                      {"Container", "PersistentVolumeClaim", "Pod"});
    }
    for (const char* field : {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}) {
      const json::object* list = getObj(*item, field);
      if (!list) continue;
      for (const auto& [k, v] : *list) {
        std::string fp = path + "." + field + "[" + std::string(k) + "]";
        std::string_view q = v.is_string() ? std::string_view(v.as_string()) : std::string_view();
        if (!parseQuantity(q)) addInvalid(errs, fp, goQuote(q), kQuantityFormatError);
      }
    }
    if (type == "Pod" && (getObj(*item, "default") || getObj(*item, "defaultRequest")))
      addForbidden(errs, path + ".default", "may not be specified when `type` is 'Pod'");
  }
}

}  // namespace

const KindOps& limitRangeOps() {
  static const KindOps ops = makeOps([](KindOps& o) {
    o.defaults = limitRangeDefaults;
    o.validate = limitRangeValidate;
  });
  return ops;
}

}  // namespace berth::core::kinds::detail
