#include "apiserver/apiservices.h"

#include <boost/json.hpp>

#include <map>

namespace berth::apiserver {
namespace json = boost::json;
namespace {

struct Priority {
  int64_t group;
  int64_t version;
};

// kube-apiserver's table of built-in group/version priorities (aggregator.go); the order
// `kubectl api-versions` and discovery use. Groups not listed get the lowest.
Priority priorityOf(const std::string& group, const std::string& version) {
  static const std::map<std::pair<std::string, std::string>, Priority> kTable = {
      {{"", "v1"}, {18000, 1}},
      {{"apiregistration.k8s.io", "v1"}, {18000, 15}},
      {{"apps", "v1"}, {17800, 15}},
      {{"events.k8s.io", "v1"}, {17750, 15}},
      {{"authentication.k8s.io", "v1"}, {17700, 15}},
      {{"authorization.k8s.io", "v1"}, {17600, 15}},
      {{"autoscaling", "v1"}, {17500, 15}},
      {{"autoscaling", "v2"}, {17500, 30}},
      {{"batch", "v1"}, {17400, 15}},
      {{"certificates.k8s.io", "v1"}, {17300, 15}},
      {{"networking.k8s.io", "v1"}, {17200, 15}},
      {{"policy", "v1"}, {17100, 15}},
      {{"rbac.authorization.k8s.io", "v1"}, {17000, 15}},
      {{"storage.k8s.io", "v1"}, {16800, 15}},
      {{"admissionregistration.k8s.io", "v1"}, {16700, 15}},
      {{"scheduling.k8s.io", "v1"}, {16600, 15}},
      {{"coordination.k8s.io", "v1"}, {16500, 15}},
      {{"discovery.k8s.io", "v1"}, {16200, 15}},
      {{"flowcontrol.apiserver.k8s.io", "v1"}, {16100, 21}},
  };
  auto it = kTable.find({group, version});
  return it != kTable.end() ? it->second : Priority{1000, 15};
}

json::object desired(const std::string& group, const std::string& version) {
  Priority p = priorityOf(group, version);
  return json::object{
      {"apiVersion", "apiregistration.k8s.io/v1"},
      {"kind", "APIService"},
      {"metadata",
       json::object{
           {"name", version + "." + group},
           {"labels", json::object{{"kube-aggregator.kubernetes.io/automanaged", "onstart"}}}}},
      {"spec", json::object{{"group", group},
                            {"version", version},
                            {"groupPriorityMinimum", p.group},
                            {"versionPriority", p.version}}}};
}

bool available(const json::object& obj) {
  const auto* st = obj.if_contains("status");
  const auto* conds = st && st->is_object() ? st->as_object().if_contains("conditions") : nullptr;
  if (conds == nullptr || !conds->is_array()) return false;
  for (const auto& c : conds->as_array()) {
    if (!c.is_object()) continue;
    const auto& o = c.as_object();
    const auto* t = o.if_contains("type");
    const auto* s = o.if_contains("status");
    if (t && t->is_string() && t->as_string() == "Available" && s && s->is_string() &&
        s->as_string() == "True")
      return true;
  }
  return false;
}

}  // namespace

Status registerLocalApiServices(Registry& registry) {
  const core::ResourceType* rt = core::findResource("apiregistration.k8s.io", "v1", "apiservices");
  if (rt == nullptr) return {};
  std::vector<std::pair<std::string, std::string>> served = {{"", "v1"}};
  for (const auto& g : core::apiGroups())
    for (const auto& v : g.versions) served.emplace_back(g.group, v);
  WriteOptions wo;
  wo.fieldManager = "berth-apiserver";
  for (const auto& [group, version] : served) {
    std::string name = version + "." + group;
    json::object current;
    auto existing = registry.get(*rt, "", name);
    if (existing.ok()) {
      current = registry.toServed(*rt, **existing);
    } else if (existing.status().isNotFound()) {
      auto created = registry.create(*rt, "", desired(group, version), wo);
      if (!created.ok() && !created.status().isAlreadyExists()) return created.status();
      if (!created.ok()) continue;  // another server registered it meanwhile
      current = std::move(*created);
    } else {
      return existing.status();
    }
    if (available(current)) continue;
    current["status"] = json::object{
        {"conditions",
         json::array{json::object{{"type", "Available"},
                                  {"status", "True"},
                                  {"lastTransitionTime", nowRfc3339()},
                                  {"reason", "Local"},
                                  {"message", "Local APIServices are always available"}}}}};
    WriteOptions so = wo;
    so.subresource = "status";
    auto updated = registry.update(*rt, "", name, std::move(current), so);
    if (!updated.ok() && !updated.status().isConflict()) return updated.status();
  }
  return {};
}

}  // namespace berth::apiserver
