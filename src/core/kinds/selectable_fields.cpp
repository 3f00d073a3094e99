// Field-selector support: the fields each kind's registry exposes (upstream
// pkg/registry/<group>/<resource>/strategy.go *ToSelectableFields and the field-label
// conversion functions of each group).
#include <algorithm>

#include "core/kinds/internal.h"
#include "core/resource_behavior.h"

namespace berth::core::kinds {
namespace {

using namespace detail;

struct FieldSpec {
  const char* name;
  // Path of the value in the object, "." separated; empty means computed below.
  const char* path;
};

const std::vector<FieldSpec>& fieldsOf(const ResourceType& rt) {
  static const std::vector<FieldSpec> kNone;
  static const std::vector<FieldSpec> kPod = {
      {"spec.nodeName", "spec.nodeName"},
      {"spec.restartPolicy", "spec.restartPolicy"},
      {"spec.schedulerName", "spec.schedulerName"},
      {"spec.serviceAccountName", "spec.serviceAccountName"},
      {"spec.hostNetwork", "spec.hostNetwork"},
      {"status.phase", "status.phase"},
      {"status.podIP", ""},
      {"status.nominatedNodeName", "status.nominatedNodeName"}};
  static const std::vector<FieldSpec> kEvent = {
      {"involvedObject.kind", "involvedObject.kind"},
      {"involvedObject.namespace", "involvedObject.namespace"},
      {"involvedObject.name", "involvedObject.name"},
      {"involvedObject.uid", "involvedObject.uid"},
      {"involvedObject.apiVersion", "involvedObject.apiVersion"},
      {"involvedObject.resourceVersion", "involvedObject.resourceVersion"},
      {"involvedObject.fieldPath", "involvedObject.fieldPath"},
      {"reason", "reason"},
      {"reportingComponent", "reportingComponent"},
      {"source", "source.component"},
      {"type", "type"}};
  static const std::vector<FieldSpec> kEventsV1 = {
      {"regarding.kind", "regarding.kind"},
      {"regarding.namespace", "regarding.namespace"},
      {"regarding.name", "regarding.name"},
      {"regarding.uid", "regarding.uid"},
      {"regarding.apiVersion", "regarding.apiVersion"},
      {"regarding.resourceVersion", "regarding.resourceVersion"},
      {"regarding.fieldPath", "regarding.fieldPath"},
      {"reason", "reason"},
      {"reportingController", "reportingController"},
      {"type", "type"}};
  static const std::vector<FieldSpec> kSecret = {{"type", "type"}};
  static const std::vector<FieldSpec> kNamespace = {{"status.phase", "status.phase"}};
  static const std::vector<FieldSpec> kNode = {{"spec.unschedulable", "spec.unschedulable"}};
  static const std::vector<FieldSpec> kJob = {{"status.successful", "status.succeeded"}};
  static const std::vector<FieldSpec> kReplicas = {{"status.replicas", "status.replicas"}};
  static const std::vector<FieldSpec> kService = {{"spec.clusterIP", "spec.clusterIP"},
                                                  {"spec.type", "spec.type"}};
  const std::string& k = rt.kind;
  if (rt.group.empty()) {
    if (k == "Pod") return kPod;
    if (k == "Event") return kEvent;
    if (k == "Secret") return kSecret;
    if (k == "Namespace") return kNamespace;
    if (k == "Node") return kNode;
    if (k == "ReplicationController") return kReplicas;
    if (k == "Service") return kService;
  } else if (rt.group == "batch" && k == "Job") {
    return kJob;
  } else if (rt.group == "apps" && k == "ReplicaSet") {
    return kReplicas;
  } else if (rt.group == "events.k8s.io" && k == "Event") {
    return kEventsV1;
  }
  return kNone;
}

// The value at a dotted path, stringified as upstream does (bools "true"/"false", numbers in
// decimal, absent ""). Numeric fields that upstream prints with Itoa read "0" when absent.
std::string valueAt(const json::object& obj, std::string_view path, bool numeric) {
  const json::object* cur = &obj;
  while (true) {
    size_t dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    const json::value* v = cur->if_contains(head);
    if (v == nullptr) return numeric ? "0" : "";
    if (dot == std::string_view::npos) {
      if (v->is_string()) return std::string(v->get_string());
      if (v->is_bool()) return v->get_bool() ? "true" : "false";
      if (v->is_int64() || v->is_uint64()) return json::serialize(*v);
      if (v->is_null())
        return numeric ? "0" : (head == "hostNetwork" || head == "unschedulable") ? "false" : "";
      return "";
    }
    cur = v->if_object();
    if (cur == nullptr) return numeric ? "0" : "";
    path = path.substr(dot + 1);
  }
}

}  // namespace

std::map<std::string, std::string> selectableFields(const ResourceType& rt,
                                                    const boost::json::object& obj) {
  std::map<std::string, std::string> out;
  const json::object* meta = getObj(obj, "metadata");
  out["metadata.name"] = meta ? std::string(getStr(*meta, "name")) : "";
  if (rt.namespaced)
    out["metadata.namespace"] = meta ? std::string(getStr(*meta, "namespace")) : "";
  for (const auto& f : fieldsOf(rt)) {
    std::string_view name = f.name;
    if (name == "status.podIP") {
      std::string ip;
      if (const json::object* status = getObj(obj, "status")) {
        ip = getStr(*status, "podIP");
        if (const json::array* ips = getArr(*status, "podIPs"); ips && !ips->empty()) {
          if (const json::object* first = (*ips)[0].if_object()) ip = getStr(*first, "ip");
        }
      }
      out[f.name] = ip;
      continue;
    }
    bool numeric = name == "status.replicas" || name == "status.successful";
    bool boolean = name == "spec.hostNetwork" || name == "spec.unschedulable";
    std::string v = valueAt(obj, f.path, numeric);
    if (boolean && v.empty()) v = "false";
    out[f.name] = v;
  }
  if (const auto* paths = rt.behavior ? rt.behavior->selectableFieldPaths() : nullptr) {
    for (const auto& path : *paths) {
      // Scalars as upstream's CRD field selectors compare them: strings bare, numbers and
      // booleans in their JSON form; anything else does not match.
      const json::value* v = valueAtPath(obj, path);
      std::string text;
      if (v && v->is_string()) {
        text = std::string(v->get_string());
      } else if (v && (v->is_number() || v->is_bool())) {
        text = json::serialize(*v);
      }
      out[path.substr(path.starts_with(".") ? 1 : 0)] = text;
    }
  }
  return out;
}

bool isSelectableField(const ResourceType& rt, std::string_view field) {
  if (field == "metadata.name") return true;
  if (field == "metadata.namespace") return rt.namespaced;
  if (const auto* paths = rt.behavior ? rt.behavior->selectableFieldPaths() : nullptr) {
    for (const auto& path : *paths) {
      if (std::string_view(path).substr(path.starts_with(".") ? 1 : 0) == field) return true;
    }
  }
  const auto& fields = fieldsOf(rt);
  return std::any_of(fields.begin(), fields.end(),
                     [&](const FieldSpec& f) { return field == f.name; });
}

}  // namespace berth::core::kinds
