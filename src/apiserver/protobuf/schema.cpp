#include "apiserver/protobuf/schema.h"

#include <algorithm>
#include <array>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>

namespace berth::apiserver::protobuf {

// schema_data.cpp (generated).
extern const MessageSchema kMessageTable[];
extern const std::size_t kMessageTableSize;

namespace {

constexpr std::string_view kMetaPackage = "k8s.io.apimachinery.pkg.apis.meta.";

constexpr std::array<std::string_view, 8> kSpecialMessages = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
};

// API group → proto package of its types (v<N> appended).
struct GroupPackage {
  std::string_view group;
  std::string_view package;
};
constexpr std::array<GroupPackage, 19> kGroupPackages = {{
    {"", "k8s.io.api.core."},
    {"apps", "k8s.io.api.apps."},
    {"batch", "k8s.io.api.batch."},
    {"autoscaling", "k8s.io.api.autoscaling."},
    {"networking.k8s.io", "k8s.io.api.networking."},
    {"discovery.k8s.io", "k8s.io.api.discovery."},
    {"coordination.k8s.io", "k8s.io.api.coordination."},
    {"events.k8s.io", "k8s.io.api.events."},
    {"scheduling.k8s.io", "k8s.io.api.scheduling."},
    {"policy", "k8s.io.api.policy."},
    {"rbac.authorization.k8s.io", "k8s.io.api.rbac."},
    {"authorization.k8s.io", "k8s.io.api.authorization."},
    {"storage.k8s.io", "k8s.io.api.storage."},
    {"certificates.k8s.io", "k8s.io.api.certificates."},
    {"authentication.k8s.io", "k8s.io.api.authentication."},
    {"admissionregistration.k8s.io", "k8s.io.api.admissionregistration."},
    {"flowcontrol.apiserver.k8s.io", "k8s.io.api.flowcontrol."},
    {"apiregistration.k8s.io", "k8s.io.kube_aggregator.pkg.apis.apiregistration."},
    {"meta.k8s.io", "k8s.io.apimachinery.pkg.apis.meta."},
}};

// Upstream's AddToGroupVersion registers these meta types in every group version.
constexpr std::array<std::string_view, 8> kMetaKindsInEveryVersion = {
    "DeleteOptions", "ListOptions",  "GetOptions", "CreateOptions",
    "UpdateOptions", "PatchOptions", "WatchEvent", "Status",
};

const MessageSchema* kindIn(std::string_view package, std::string_view version,
                            std::string_view kind) {
  std::string name;
  name.reserve(package.size() + version.size() + kind.size() + 1);
  name.append(package).append(version).append(".").append(kind);
  const MessageSchema* m = findMessage(name);
  return m != nullptr && m->isKind ? m : nullptr;
}

void collectUnknown(const MessageSchema& schema, const boost::json::object& obj,
                    const std::string& prefix, int depth, std::vector<std::string>& out);

void checkValue(const FieldSchema& field, const boost::json::value& v, const std::string& path,
                int depth, std::vector<std::string>& out) {
  const MessageSchema* sub = nullptr;
  if (!field.messageType.empty() && !isSpecial(field.messageType)) {
    sub = findMessage(field.messageType);
  }
  if (sub == nullptr) return;
  if (field.type == FieldType::kMap) {
    if (const auto* o = v.if_object()) {
      for (const auto& kv : *o) {
        if (const auto* vo = kv.value().if_object()) {
          collectUnknown(*sub, *vo, path + "." + std::string(kv.key()), depth + 1, out);
        }
      }
    }
    return;
  }
  if (field.repeated) {
    if (const auto* a = v.if_array()) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        if (const auto* eo = (*a)[i].if_object()) {
          collectUnknown(*sub, *eo, path + "[" + std::to_string(i) + "]", depth + 1, out);
        }
      }
    }
    return;
  }
  if (const auto* o = v.if_object()) collectUnknown(*sub, *o, path, depth + 1, out);
}

void collectUnknown(const MessageSchema& schema, const boost::json::object& obj,
                    const std::string& prefix, int depth, std::vector<std::string>& out) {
  if (depth > 64) return;
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (prefix.empty() && (key == "apiVersion" || key == "kind")) continue;
    std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
    const FieldSchema* field = schema.byJsonName(key);
    if (field == nullptr) {
      out.push_back(std::move(path));
      continue;
    }
    checkValue(*field, kv.value(), path, depth, out);
  }
}

}  // namespace

const FieldSchema* MessageSchema::byNumber(int number) const {
  // Upstream numbers are mostly dense from 1: try the direct slot first.
  if (number >= 1 && static_cast<std::size_t>(number) <= fields.size() &&
      fields[number - 1].number == number) {
    return &fields[number - 1];
  }
  auto it = std::lower_bound(fields.begin(), fields.end(), number,
                             [](const FieldSchema& f, int n) { return f.number < n; });
  return it != fields.end() && it->number == number ? &*it : nullptr;
}

const FieldSchema* MessageSchema::byJsonName(std::string_view jsonName) const {
  for (const auto& f : fields) {
    if (!f.inlined && f.jsonName == jsonName) return &f;
  }
  for (const auto& f : fields) {
    if (!f.inlined) continue;
    if (const MessageSchema* sub = findMessage(f.messageType)) {
      if (const FieldSchema* inner = sub->byJsonName(jsonName)) return inner;
    }
  }
  return nullptr;
}

bool isSpecial(std::string_view messageName) {
  return std::find(kSpecialMessages.begin(), kSpecialMessages.end(), messageName) !=
         kSpecialMessages.end();
}

const MessageSchema* findMessage(std::string_view name) {
  const MessageSchema* begin = kMessageTable;
  const MessageSchema* end = kMessageTable + kMessageTableSize;
  auto it = std::lower_bound(begin, end, name,
                             [](const MessageSchema& m, std::string_view n) { return m.name < n; });
  return it != end && it->name == name ? it : nullptr;
}

const MessageSchema* messageForKind(std::string_view apiVersion, std::string_view kind) {
  std::string_view group;
  std::string_view version = apiVersion;
  if (auto slash = apiVersion.find('/'); slash != std::string_view::npos) {
    group = apiVersion.substr(0, slash);
    version = apiVersion.substr(slash + 1);
  }
  if (version.empty() || kind.empty() || version.find('.') != std::string_view::npos) {
    return nullptr;
  }
  for (const auto& gp : kGroupPackages) {
    if (gp.group != group) continue;
    if (const MessageSchema* m = kindIn(gp.package, version, kind)) return m;
    if (std::find(kMetaKindsInEveryVersion.begin(), kMetaKindsInEveryVersion.end(), kind) !=
        kMetaKindsInEveryVersion.end()) {
      return kindIn(kMetaPackage, "v1", kind);
    }
    return nullptr;
  }
  return nullptr;
}

std::span<const MessageSchema> allMessages() { return {kMessageTable, kMessageTableSize}; }

std::vector<std::string> unknownFields(std::string_view messageName,
                                       const boost::json::value& obj) {
  std::vector<std::string> out;
  const MessageSchema* schema = findMessage(messageName);
  const auto* o = obj.if_object();
  if (schema == nullptr || o == nullptr) return out;
  collectUnknown(*schema, *o, "", 0, out);
  return out;
}

}  // namespace berth::apiserver::protobuf
