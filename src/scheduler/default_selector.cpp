#include "scheduler/default_selector.h"

#include <boost/json.hpp>

#include "core/json_access.h"

namespace berth::scheduler {

namespace json = boost::json;

std::optional<core::LabelSelector> defaultSpreadSelector(const PodInfo& pod,
                                                         const client::Lister& services,
                                                         const client::Lister& replicaSets,
                                                         const client::Lister& statefulSets) {
  std::map<std::string, std::string> merged;
  for (const auto& svc : services.list(pod.ns)) {
    const auto* spec = core::objectField(svc->as_object(), "spec");
    const auto* sel = spec ? core::objectField(*spec, "selector") : nullptr;
    if (!sel || sel->empty()) continue;  // a Service without selector selects nothing
    bool matches = true;
    for (const auto& [k, v] : *sel) {
      auto it = pod.labels.find(k);
      if (!v.is_string() || it == pod.labels.end() || it->second != v.as_string()) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    for (const auto& [k, v] : *sel) merged[std::string(k)] = std::string(v.as_string());
  }
  std::string text;
  for (const auto& [k, v] : merged) text += (text.empty() ? "" : ",") + k + "=" + v;
  // The controlling owner (ownerReferences[controller=true]).
  const auto* meta = core::objectField(pod.object->as_object(), "metadata");
  const auto* owners = meta ? meta->if_contains("ownerReferences") : nullptr;
  if (owners && owners->is_array()) {
    for (const auto& o : owners->as_array()) {
      if (!o.is_object()) continue;
      const auto& ref = o.as_object();
      auto* controller = ref.if_contains("controller");
      if (!controller || !controller->is_bool() || !controller->as_bool()) continue;
      std::string kind = core::stringField(ref, "kind");
      if (core::stringField(ref, "apiVersion") != "apps/v1") break;
      const client::Lister* lister = kind == "ReplicaSet"    ? &replicaSets
                                     : kind == "StatefulSet" ? &statefulSets
                                                             : nullptr;
      if (!lister) break;
      auto owner = lister->get(pod.ns, core::stringField(ref, "name"));
      const auto* spec = owner ? core::objectField(owner->as_object(), "spec") : nullptr;
      const auto* sel = spec ? core::objectField(*spec, "selector") : nullptr;
      if (!sel) break;
      auto s = core::LabelSelector::fromJson(*sel);
      if (s.ok() && !s->empty()) text += (text.empty() ? "" : ",") + s->toString();
      break;
    }
  }
  if (text.empty()) return std::nullopt;
  auto s = core::LabelSelector::parse(text);
  if (!s.ok()) return std::nullopt;
  return std::move(s).value();
}

}  // namespace berth::scheduler
