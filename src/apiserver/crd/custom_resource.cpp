#include "apiserver/crd/custom_resource.h"

#include "core/json_access.h"
#include "core/resources.h"

namespace berth::apiserver::crd {
namespace json = boost::json;

using core::setValueAtPath;
using core::valueAtPath;

json::object scaleOf(const core::ScalePaths& paths, const json::object& obj) {
  json::object meta;
  if (const json::value* m = obj.if_contains("metadata"); m && m->is_object()) {
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
      if (const json::value* v = m->get_object().if_contains(k)) meta[k] = *v;
    }
  }
  auto replicas = [&](const std::string& path) -> int64_t {
    const json::value* v = valueAtPath(obj, path);
    return v && v->is_int64() ? v->get_int64() : 0;
  };
  json::object status{{"replicas", replicas(paths.statusReplicasPath)}};
  if (!paths.labelSelectorPath.empty()) {
    if (const json::value* sel = valueAtPath(obj, paths.labelSelectorPath); sel && sel->is_string())
      status["selector"] = *sel;
  }
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", std::move(meta)},
          {"spec", {{"replicas", replicas(paths.specReplicasPath)}}},
          {"status", std::move(status)}};
}

json::object replicasPatch(const core::ScalePaths& paths, int64_t replicas) {
  json::object patch;
  setValueAtPath(patch, paths.specReplicasPath, replicas);
  return patch;
}

void CustomResourceBehavior::normalize(json::object& obj) const {
  if (!spec_.schema) return;
  json::value doc(std::move(obj));
  prune(*spec_.schema, doc);
  crd::applyDefaults(*spec_.schema, doc);
  obj = std::move(doc.get_object());
}

core::Status CustomResourceBehavior::convertToStorage(const core::ResourceType& rt,
                                                      json::object& obj) const {
  // Incoming objects are pruned and defaulted in the version they were sent in, then converted;
  // the storage version's schema prunes and defaults the result (the registry's applyDefaults).
  normalize(obj);
  obj["apiVersion"] = rt.apiVersion();
  obj["kind"] = rt.kind;
  if (auto st = spec_.converter.convert({&obj}, rt.storageGroup + "/" + rt.storageVersion, false);
      !st.ok())
    return st;
  obj["apiVersion"] = rt.storageGroup + "/" + rt.storageVersion;
  obj["kind"] = rt.kind;
  return {};
}

void CustomResourceBehavior::finishFromStorage(const core::ResourceType& rt, json::object& obj,
                                               bool webhookConverted) const {
  obj["apiVersion"] = rt.apiVersion();
  obj["kind"] = rt.kind;
  if (webhookConverted) {
    normalize(obj);
  } else if (spec_.schema) {
    json::value doc(std::move(obj));
    crd::applyDefaults(*spec_.schema, doc);
    obj = std::move(doc.get_object());
  }
}

core::Status CustomResourceBehavior::convertFromStorage(const core::ResourceType& rt,
                                                        json::object& obj) const {
  bool remote =
      spec_.converter.isWebhook() && core::stringField(obj, "apiVersion") != rt.apiVersion();
  if (auto st = spec_.converter.convert({&obj}, rt.apiVersion(), false); !st.ok()) return st;
  finishFromStorage(rt, obj, remote);
  return {};
}

core::Status CustomResourceBehavior::convertListFromStorage(
    const core::ResourceType& rt, const std::vector<json::object*>& objs) const {
  std::vector<bool> remote(objs.size(), false);
  for (size_t i = 0; i < objs.size(); ++i)
    remote[i] =
        spec_.converter.isWebhook() && core::stringField(*objs[i], "apiVersion") != rt.apiVersion();
  if (auto st = spec_.converter.convert(objs, rt.apiVersion(), true); !st.ok()) return st;
  for (size_t i = 0; i < objs.size(); ++i) finishFromStorage(rt, *objs[i], remote[i]);
  return {};
}

void CustomResourceBehavior::applyDefaults(json::object& obj) const { normalize(obj); }

namespace {
// Upstream's hasBlockingErr: schema errors of these kinds keep the rules from running.
bool blocksRules(const FieldErrors& errs) {
  for (const auto& e : errs) {
    if (e.reason == "FieldValueNotSupported" || e.reason == "FieldValueRequired" ||
        e.reason == "FieldValueTooLong" || e.reason == "FieldValueTooMany" ||
        e.reason == "FieldValueTypeInvalid")
      return true;
  }
  return false;
}
}  // namespace

std::vector<core::StatusCause> CustomResourceBehavior::validate(
    const json::object& obj, const json::object* old, std::vector<std::string>* warnings) const {
  if (!spec_.schema) return {};
  json::value doc(obj);
  FieldErrors errs = validateObject(*spec_.schema, doc);
  if (!spec_.rules) return errs;
  if (blocksRules(errs)) {
    errs.push_back({"FieldValueInvalid",
                    "Invalid value: \"null\": some validation rules were not checked because the "
                    "object was invalid; correct the existing errors to complete validation",
                    "<nil>"});
    return errs;
  }
  std::optional<json::value> oldDoc;
  if (old != nullptr) oldDoc.emplace(*old);
  for (auto& e : validateRules(*spec_.rules, doc, oldDoc ? &*oldDoc : nullptr, warnings))
    errs.push_back(std::move(e));
  return errs;
}

void CustomResourceBehavior::prepareForCreate(json::object& obj) const {
  // Upstream drops status on create when the status subresource is enabled (the generic path
  // put an empty one in).
  if (spec_.statusSubresource) obj.erase("status");
}

void CustomResourceBehavior::prepareForUpdate(json::object& obj, const json::object& old,
                                              bool statusUpdate) const {
  if (statusUpdate || !spec_.statusSubresource) return;
  if (const json::value* s = old.if_contains("status")) {
    obj["status"] = *s;
  } else {
    obj.erase("status");
  }
}

std::vector<std::string> CustomResourceBehavior::unknownFields(const json::object& obj) const {
  if (!spec_.schema) return {};
  return crd::unknownFields(*spec_.schema, json::value(obj));
}

}  // namespace berth::apiserver::crd
