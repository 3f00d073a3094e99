// JSON schemas of the API types, generated from protobuf/schema.h. Shapes follow upstream's
// OpenAPI: messages are objects whose fields reference other definitions by $ref, repeated
// fields are arrays, maps are objects with additionalProperties, and the types with a special
// JSON form (Time, Quantity, IntOrString, RawExtension, ...) have the schemas upstream gives
// them in each dialect.
#include <array>
#include <deque>

#include "apiserver/openapi/builder.h"
#include "apiserver/protobuf/schema.h"

namespace berth::apiserver::openapi::internal {
namespace json = boost::json;
namespace pb = berth::apiserver::protobuf;

namespace {

constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
// A message standing for a Go []string; upstream inlines it as an array.
constexpr std::string_view kVerbs = "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs";
constexpr std::string_view kExtraValue = "k8s.io.api.certificates.v1.ExtraValue";
bool isStringList(std::string_view name) { return name == kVerbs || name == kExtraValue; }
// kube-aggregator's types live outside k8s.io.api; their one group.
constexpr std::string_view kAggregator = "k8s.io.kube_aggregator.pkg.apis.apiregistration.";

// Proto package segment under k8s.io.api → API group.
struct PackageGroup {
  std::string_view package;
  std::string_view group;
};
constexpr std::array<PackageGroup, 15> kPackageGroups = {{
    {"core", ""},
    {"apps", "apps"},
    {"batch", "batch"},
    {"autoscaling", "autoscaling"},
    {"networking", "networking.k8s.io"},
    {"discovery", "discovery.k8s.io"},
    {"coordination", "coordination.k8s.io"},
    {"events", "events.k8s.io"},
    {"scheduling", "scheduling.k8s.io"},
    {"policy", "policy"},
    {"rbac", "rbac.authorization.k8s.io"},
    {"storage", "storage.k8s.io"},
    {"certificates", "certificates.k8s.io"},
    {"admissionregistration", "admissionregistration.k8s.io"},
    {"flowcontrol", "flowcontrol.apiserver.k8s.io"},
}};

json::object scalarSchema(pb::FieldType type) {
  switch (type) {
    case pb::FieldType::kBytes:
      return {{"type", "string"}, {"format", "byte"}};
    case pb::FieldType::kBool:
      return {{"type", "boolean"}};
    case pb::FieldType::kInt32:
      return {{"type", "integer"}, {"format", "int32"}};
    case pb::FieldType::kInt64:
      return {{"type", "integer"}, {"format", "int64"}};
    case pb::FieldType::kDouble:
      return {{"type", "number"}, {"format", "double"}};
    default:
      return {{"type", "string"}};
  }
}

bool knownMessage(std::string_view name) {
  return pb::isSpecial(name) || pb::findMessage(name) != nullptr;
}

json::object messageRef(std::string_view name, Dialect dialect) {
  if (isStringList(name)) {
    return {{"type", "array"}, {"items", {{"type", "string"}}}};
  }
  if (!knownMessage(name)) return {{"type", "object"}};
  return refSchema(name, dialect);
}

json::object valueSchema(const pb::FieldSchema& f, Dialect dialect) {
  if (f.type == pb::FieldType::kMessage) return messageRef(f.messageType, dialect);
  if (f.type == pb::FieldType::kMap) {
    json::object values = f.mapValueType == pb::FieldType::kMessage
                              ? messageRef(f.messageType, dialect)
                              : scalarSchema(f.mapValueType);
    return {{"type", "object"}, {"additionalProperties", std::move(values)}};
  }
  return scalarSchema(f.type);
}

json::object fieldSchema(const pb::FieldSchema& f, Dialect dialect) {
  if (f.repeated && f.type != pb::FieldType::kMap) {
    return {{"type", "array"}, {"items", valueSchema(f, dialect)}};
  }
  return valueSchema(f, dialect);
}

// The patchStrategy/patchMergeKey struct tags of k8s.io/api that upstream publishes as
// x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key. kubectl's client-side apply reads
// them to compute a three-way strategic merge patch: without them it treats these lists as
// atomic and every re-apply replaces them wholesale.
struct PatchMeta {
  std::string_view message;  // short message name
  std::string_view field;
  std::string_view strategy;
  std::string_view mergeKey;  // empty for sets of primitives
};
constexpr PatchMeta kPatchMeta[] = {
    {"PodSpec", "volumes", "merge,retainKeys", "name"},
    {"PodSpec", "containers", "merge", "name"},
    {"PodSpec", "initContainers", "merge", "name"},
    {"PodSpec", "ephemeralContainers", "merge", "name"},
    {"PodSpec", "imagePullSecrets", "merge", "name"},
    {"PodSpec", "hostAliases", "merge", "ip"},
    {"PodSpec", "topologySpreadConstraints", "merge", "topologyKey"},
    {"PodSpec", "resourceClaims", "merge,retainKeys", "name"},
    {"PodSpec", "schedulingGates", "merge", "name"},
    {"Container", "ports", "merge", "containerPort"},
    {"Container", "env", "merge", "name"},
    {"Container", "volumeMounts", "merge", "mountPath"},
    {"Container", "volumeDevices", "merge", "devicePath"},
    {"EphemeralContainer", "ports", "merge", "containerPort"},
    {"EphemeralContainer", "env", "merge", "name"},
    {"EphemeralContainer", "volumeMounts", "merge", "mountPath"},
    {"EphemeralContainer", "volumeDevices", "merge", "devicePath"},
    {"EphemeralContainerCommon", "ports", "merge", "containerPort"},
    {"EphemeralContainerCommon", "env", "merge", "name"},
    {"EphemeralContainerCommon", "volumeMounts", "merge", "mountPath"},
    {"EphemeralContainerCommon", "volumeDevices", "merge", "devicePath"},
    {"ObjectMeta", "finalizers", "merge", ""},
    {"ObjectMeta", "ownerReferences", "merge", "uid"},
    {"ServiceSpec", "ports", "merge", "port"},
    {"ServiceAccount", "secrets", "merge", "name"},
    {"PodStatus", "conditions", "merge", "type"},
    {"PodStatus", "podIPs", "merge", "ip"},
    {"PodStatus", "hostIPs", "merge", "ip"},
    {"NodeSpec", "podCIDRs", "merge", ""},
    {"NodeStatus", "conditions", "merge", "type"},
    {"NodeStatus", "addresses", "merge", "type"},
    {"NamespaceStatus", "conditions", "merge", "type"},
    {"DeploymentStatus", "conditions", "merge", "type"},
    {"ReplicaSetStatus", "conditions", "merge", "type"},
    {"DaemonSetStatus", "conditions", "merge", "type"},
    {"StatefulSetStatus", "conditions", "merge", "type"},
    {"ReplicationControllerStatus", "conditions", "merge", "type"},
    {"JobStatus", "conditions", "merge", "type"},
    {"ServiceStatus", "conditions", "merge", "type"},
    {"PodDisruptionBudgetStatus", "conditions", "merge", "type"},
};

void addPatchMeta(std::string_view messageName, std::string_view field, json::object& schema) {
  std::string_view shortName = messageName.substr(messageName.rfind('.') + 1);
  for (const auto& pm : kPatchMeta) {
    if (pm.message != shortName || pm.field != field) continue;
    schema["x-kubernetes-patch-strategy"] = pm.strategy;
    if (!pm.mergeKey.empty()) {
      schema["x-kubernetes-patch-merge-key"] = pm.mergeKey;
      schema["x-kubernetes-list-type"] = "map";
      schema["x-kubernetes-list-map-keys"] = json::array{json::string(pm.mergeKey)};
    } else {
      schema["x-kubernetes-list-type"] = "set";
    }
    return;
  }
}

// Fields of an inlined (Go `json:",inline"`) struct sit in the parent; depth bounds recursion
// through a malformed table.
void addProperties(const pb::MessageSchema& m, Dialect dialect, json::object& props, int depth) {
  for (const pb::FieldSchema& f : m.fields) {
    if (f.inlined) {
      const pb::MessageSchema* sub = pb::findMessage(f.messageType);
      if (sub != nullptr && depth < 8) addProperties(*sub, dialect, props, depth + 1);
      continue;
    }
    json::object schema = fieldSchema(f, dialect);
    if (f.repeated) addPatchMeta(m.name, f.jsonName, schema);
    props[f.jsonName] = std::move(schema);
  }
}

// The schema upstream publishes for the types with a special JSON form.
json::object specialSchema(std::string_view name, Dialect dialect) {
  const std::string_view shortName = name.substr(name.rfind('.') + 1);
  if (shortName == "Time" || shortName == "MicroTime") {
    return {{"type", "string"}, {"format", "date-time"}};
  }
  if (shortName == "Duration") return {{"type", "string"}};
  if (shortName == "Quantity" || shortName == "QuantityValue") {
    if (dialect == Dialect::kV2) return {{"type", "string"}};
    return {
        {"oneOf", json::array{json::object{{"type", "string"}}, json::object{{"type", "number"}}}}};
  }
  if (shortName == "IntOrString") {
    if (dialect == Dialect::kV2) return {{"type", "string"}, {"format", "int-or-string"}};
    return {{"format", "int-or-string"},
            {"oneOf",
             json::array{json::object{{"type", "integer"}}, json::object{{"type", "string"}}}}};
  }
  return {{"type", "object"}};  // RawExtension, FieldsV1, JSON: arbitrary embedded JSON
}

std::string_view groupOfPackage(std::string_view package, bool& known) {
  for (const auto& pg : kPackageGroups) {
    if (pg.package == package) {
      known = true;
      return pg.group;
    }
  }
  known = false;
  return {};
}

// x-kubernetes-group-version-kind of a top-level type.
json::array gvksOf(const pb::MessageSchema& m) {
  json::array out;
  if (!m.isKind) return out;
  std::string_view name = m.name;
  const std::string_view kind = name.substr(name.rfind('.') + 1);
  constexpr std::string_view kApi = "k8s.io.api.";
  if (name.substr(0, kApi.size()) == kApi) {
    std::string_view rest = name.substr(kApi.size());  // core.v1.Pod
    const size_t dot1 = rest.find('.');
    const size_t dot2 = rest.find('.', dot1 + 1);
    if (dot1 == std::string_view::npos || dot2 == std::string_view::npos) return out;
    bool known = false;
    std::string_view group = groupOfPackage(rest.substr(0, dot1), known);
    if (!known) return out;
    GroupVersionKind gvk{std::string(group), std::string(rest.substr(dot1 + 1, dot2 - dot1 - 1)),
                         std::string(kind)};
    out.push_back(gvk.toJson());
    return out;
  }
  if (name.substr(0, kAggregator.size()) == kAggregator) {
    std::string_view version = name.substr(kAggregator.size());
    version = version.substr(0, version.find('.'));
    out.push_back(
        GroupVersionKind{"apiregistration.k8s.io", std::string(version), std::string(kind)}
            .toJson());
    return out;
  }
  if (name.substr(0, kMeta.size()) != kMeta) return out;
  if (kind == "Status") {
    out.push_back(GroupVersionKind{"", "v1", "Status"}.toJson());
  } else if (kind == "DeleteOptions" || kind == "WatchEvent") {
    // Upstream registers these in every group version.
    out.push_back(GroupVersionKind{"", "v1", std::string(kind)}.toJson());
    for (const auto& g : core::apiGroups()) {
      for (const auto& v : g.versions) {
        out.push_back(GroupVersionKind{g.group, v, std::string(kind)}.toJson());
      }
    }
  }
  return out;
}

}  // namespace

json::object GroupVersionKind::toJson() const {
  return {{"group", group}, {"kind", kind}, {"version", version}};
}

std::string definitionName(std::string_view protoName) {
  constexpr std::string_view kPrefix = "k8s.io.";
  if (protoName.substr(0, kPrefix.size()) == kPrefix) {
    std::string rest(protoName.substr(kPrefix.size()));
    // Upstream spells the Go module with its hyphen: io.k8s.kube-aggregator.pkg.apis...
    if (rest.rfind("kube_aggregator.", 0) == 0) rest[4] = '-';
    return "io.k8s." + rest;
  }
  return std::string(protoName);
}

std::string refTo(std::string_view protoName, Dialect dialect) {
  return (dialect == Dialect::kV3 ? "#/components/schemas/" : "#/definitions/") +
         definitionName(protoName);
}

json::object refSchema(std::string_view protoName, Dialect dialect) {
  return {{"$ref", refTo(protoName, dialect)}};
}

std::set<std::string> reachableMessages(const std::vector<std::string>& roots) {
  std::set<std::string> seen;
  std::deque<std::string_view> queue;
  auto visit = [&](std::string_view name) {
    if (name.empty() || isStringList(name) || !knownMessage(name)) return;
    if (seen.insert(std::string(name)).second) queue.push_back(name);
  };
  for (const auto& r : roots) visit(r);
  // Walks a message's fields, descending into inlined structs without listing them.
  auto walk = [&](const pb::MessageSchema& m, auto& self, int depth) -> void {
    for (const pb::FieldSchema& f : m.fields) {
      if (f.messageType.empty()) continue;
      if (f.inlined) {
        const pb::MessageSchema* sub = pb::findMessage(f.messageType);
        if (sub != nullptr && depth < 8) self(*sub, self, depth + 1);
        continue;
      }
      visit(f.messageType);
    }
  };
  while (!queue.empty()) {
    std::string_view name = queue.front();
    queue.pop_front();
    if (pb::isSpecial(name)) continue;
    if (const pb::MessageSchema* m = pb::findMessage(name)) walk(*m, walk, 0);
  }
  return seen;
}

json::object messageSchema(std::string_view protoName, Dialect dialect) {
  if (pb::isSpecial(protoName)) return specialSchema(protoName, dialect);
  const pb::MessageSchema* m = pb::findMessage(protoName);
  if (m == nullptr) return {{"type", "object"}};
  json::object props;
  if (m->isKind) {
    props["apiVersion"] = {
        {"type", "string"},
        {"description",
         "APIVersion defines the versioned schema of this representation of an object. Servers "
         "should convert recognized schemas to the latest internal value, and may reject "
         "unrecognized values. More info: https://git.k8s.io/community/contributors/devel/"
         "sig-architecture/api-conventions.md#resources"}};
    props["kind"] = {
        {"type", "string"},
        {"description",
         "Kind is a string value representing the REST resource this object represents. "
         "Servers may infer this from the endpoint the client submits requests to. Cannot be "
         "updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/"
         "sig-architecture/api-conventions.md#types-kinds"}};
  }
  addProperties(*m, dialect, props, 0);
  json::object schema{{"type", "object"}, {"properties", std::move(props)}};
  json::array gvks = gvksOf(*m);
  if (!gvks.empty()) schema["x-kubernetes-group-version-kind"] = std::move(gvks);
  return schema;
}

std::string kindMessage(std::string_view apiVersion, std::string_view kind) {
  const pb::MessageSchema* m = pb::messageForKind(apiVersion, kind);
  return m == nullptr ? std::string() : std::string(m->name);
}

std::vector<std::string> commonMessages() {
  std::vector<std::string> out;
  for (std::string_view kind :
       {"DeleteOptions", "Status", "WatchEvent", "Patch", "APIResourceList"}) {
    std::string name = std::string(kMeta) + std::string(kind);
    if (knownMessage(name)) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace berth::apiserver::openapi::internal
