#include "core/volume_binding.h"

#include <algorithm>
#include <optional>

#include "core/json_access.h"
#include "core/quantity.h"

namespace berth::core::volumes {

namespace json = boost::json;

namespace {

const json::object& emptyObject() {
  static const json::object e;
  return e;
}
const json::object& field(const json::object& o, std::string_view key) {
  const auto* f = objectField(o, key);
  return f ? *f : emptyObject();
}
const json::array* arrayOf(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}
std::vector<std::string> strings(const json::array* a) {
  std::vector<std::string> out;
  if (a)
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

std::optional<Quantity> storageOf(const json::object& list) {
  auto s = stringField(list, "storage");
  if (s.empty()) {
    // Quantities may come as JSON numbers from hand-written manifests.
    const auto* v = list.if_contains("storage");
    if (v && v->is_int64()) return Quantity::fromInt(v->as_int64());
    return std::nullopt;
  }
  return Quantity::parse(s);
}

bool requirementMatches(const json::object& req, const Labels& labels, bool isField,
                        const std::string& nodeName) {
  std::string key = stringField(req, "key");
  std::string op = stringField(req, "operator");
  auto values = strings(arrayOf(req, "values"));
  std::optional<std::string> value;
  if (isField) {
    if (key == "metadata.name") value = nodeName;
  } else if (auto it = labels.find(key); it != labels.end()) {
    value = it->second;
  }
  auto in = [&] {
    return value && std::find(values.begin(), values.end(), *value) != values.end();
  };
  if (op == "In") return in();
  if (op == "NotIn") return !in();
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if ((op == "Gt" || op == "Lt") && value && values.size() == 1) {
    char* end = nullptr;
    long long have = std::strtoll(value->c_str(), &end, 10);
    if (*end != '\0') return false;
    long long want = std::strtoll(values[0].c_str(), &end, 10);
    if (*end != '\0') return false;
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

bool termMatches(const json::object& term, const NodeView& node) {
  const auto* exprs = arrayOf(term, "matchExpressions");
  const auto* fields = arrayOf(term, "matchFields");
  if ((!exprs || exprs->empty()) && (!fields || fields->empty())) return false;  // upstream
  for (const auto* list : {exprs, fields}) {
    if (!list) continue;
    for (const auto& r : *list)
      if (!r.is_object() ||
          !requirementMatches(r.as_object(), node.labels, list == fields, node.name))
        return false;
  }
  return true;
}

const json::array* requiredTerms(const json::object& volume) {
  const auto& required = field(field(field(volume, "spec"), "nodeAffinity"), "required");
  return arrayOf(required, "nodeSelectorTerms");
}

bool hasAccessModes(const json::object& volume, const json::object& claim) {
  auto have = strings(arrayOf(field(volume, "spec"), "accessModes"));
  for (const auto& m : strings(arrayOf(field(claim, "spec"), "accessModes")))
    if (std::find(have.begin(), have.end(), m) == have.end()) return false;
  return true;
}

std::string volumeModeOf(const json::object& obj) {
  std::string m = stringField(field(obj, "spec"), "volumeMode");
  return m.empty() ? "Filesystem" : m;
}

}  // namespace

std::string annotation(const json::object& obj, std::string_view key) {
  return stringField(field(field(obj, "metadata"), "annotations"), key);
}

std::string claimClass(const json::object& claim) {
  const auto& spec = field(claim, "spec");
  if (const auto* v = spec.if_contains("storageClassName"); v && v->is_string())
    return std::string(v->as_string());
  return annotation(claim, kAnnBetaStorageClass);
}

std::string volumeClass(const json::object& volume) {
  std::string c = stringField(field(volume, "spec"), "storageClassName");
  return c.empty() ? annotation(volume, kAnnBetaStorageClass) : c;
}

bool volumeBoundToClaim(const json::object& volume, const json::object& claim) {
  const auto* ref = objectField(field(volume, "spec"), "claimRef");
  if (!ref) return false;
  const auto& meta = field(claim, "metadata");
  if (stringField(*ref, "name") != stringField(meta, "name") ||
      stringField(*ref, "namespace") != stringField(meta, "namespace"))
    return false;
  std::string uid = stringField(*ref, "uid");
  return uid.empty() || uid == stringField(meta, "uid");
}

bool volumeNodeAffinityMatches(const json::object& volume, const NodeView& node) {
  const auto* terms = requiredTerms(volume);
  if (!terms) return true;
  for (const auto& t : *terms)
    if (t.is_object() && termMatches(t.as_object(), node)) return true;
  return false;
}

std::string volumePinnedNode(const json::object& volume) {
  const auto* terms = requiredTerms(volume);
  if (!terms || terms->size() != 1 || !(*terms)[0].is_object()) return "";
  const auto& term = (*terms)[0].as_object();
  for (const char* list : {"matchExpressions", "matchFields"}) {
    const auto* reqs = arrayOf(term, list);
    if (!reqs) continue;
    for (const auto& r : *reqs) {
      if (!r.is_object()) continue;
      const auto& o = r.as_object();
      std::string key = stringField(o, "key");
      auto values = strings(arrayOf(o, "values"));
      if (stringField(o, "operator") == "In" && values.size() == 1 &&
          (key == "kubernetes.io/hostname" || key == "metadata.name"))
        return values[0];
    }
  }
  return "";
}

const json::object* findMatchingVolume(const json::object& claim,
                                       const std::vector<const json::object*>& volumes,
                                       const NodeView* node, bool delayBinding) {
  const auto& cspec = field(claim, "spec");
  auto requested =
      storageOf(field(field(cspec, "resources"), "requests")).value_or(Quantity::fromInt(0));
  std::optional<LabelSelector> selector;
  if (const auto* sel = objectField(cspec, "selector")) {
    auto s = LabelSelector::fromJson(*sel);
    if (!s.ok()) return nullptr;  // validation keeps these out; match nothing rather than all
    selector = std::move(s).value();
  }
  std::string wantClass = claimClass(claim);
  std::string wantMode = volumeModeOf(claim);
  const json::object* smallest = nullptr;
  std::optional<Quantity> smallestSize;
  for (const auto* volume : volumes) {
    if (!volume) continue;
    const auto& vspec = field(*volume, "spec");
    auto size = storageOf(field(vspec, "capacity"));
    if (!size || *size < requested) continue;
    if (volumeModeOf(*volume) != wantMode) continue;
    bool fitsNode = !node || volumeNodeAffinityMatches(*volume, *node);
    if (volumeBoundToClaim(*volume, claim)) return fitsNode ? volume : nullptr;
    if (!node && delayBinding) continue;
    if (objectField(vspec, "claimRef")) continue;
    if (field(*volume, "metadata").contains("deletionTimestamp")) continue;
    if (selector && !selector->matches(labelsOf(*volume))) continue;
    if (volumeClass(*volume) != wantClass) continue;
    if (!fitsNode) continue;
    if (node && stringField(field(*volume, "status"), "phase") != "Available") continue;
    if (!hasAccessModes(*volume, claim)) continue;
    if (!smallest || *size < *smallestSize) {
      smallest = volume;
      smallestSize = size;
    }
  }
  return smallest;
}

}  // namespace berth::core::volumes
