#include "controllers/framework/discovery.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/json_access.h"

namespace berth::controllers {

namespace json = boost::json;

bool ApiResource::hasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

std::string ApiResource::qualified() const {
  return resource.group.empty() ? resource.resource : resource.resource + "." + resource.group;
}

std::string groupOf(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(apiVersion.substr(0, slash));
}

const ApiResource* DiscoveryResult::forKind(std::string_view apiVersion,
                                            std::string_view kind) const {
  std::string group = groupOf(apiVersion);
  for (const auto& r : resources)
    if (r.resource.group == group && r.kind == kind) return &r;
  return nullptr;
}

const ApiResource* DiscoveryResult::forResource(std::string_view group,
                                                std::string_view plural) const {
  for (const auto& r : resources)
    if (r.resource.group == group && r.resource.resource == plural) return &r;
  return nullptr;
}

namespace {

// Adds the top-level resources of one APIResourceList (subresources like pods/status skipped).
void addResourceList(const json::value& list, const std::string& group, const std::string& version,
                     std::vector<ApiResource>& out) {
  if (!list.is_object()) return;
  auto* items = list.as_object().if_contains("resources");
  if (!items || !items->is_array()) return;
  for (const auto& item : items->as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    std::string name = core::stringField(o, "name");
    if (name.empty() || name.find('/') != std::string::npos) continue;
    ApiResource r;
    r.resource = {group, version, name, false};
    if (auto* n = o.if_contains("namespaced"); n && n->is_bool())
      r.resource.namespaced = n->as_bool();
    r.kind = core::stringField(o, "kind");
    if (auto* v = o.if_contains("verbs"); v && v->is_array())
      for (const auto& verb : v->as_array())
        if (verb.is_string()) r.verbs.emplace_back(verb.as_string());
    out.push_back(std::move(r));
  }
}

}  // namespace

core::Result<std::shared_ptr<const DiscoveryResult>> discoverResources(client::RestClient& client) {
  auto out = std::make_shared<DiscoveryResult>();
  auto core = client.request("GET", "/api/v1");
  if (!core.ok()) return core.status();
  addResourceList(*core, "", "v1", out->resources);
  auto groups = client.request("GET", "/apis");
  if (!groups.ok()) return groups.status();
  auto* list = groups->is_object() ? groups->as_object().if_contains("groups") : nullptr;
  if (list && list->is_array()) {
    for (const auto& g : list->as_array()) {
      if (!g.is_object()) continue;
      std::string group = core::stringField(g.as_object(), "name");
      const auto* preferred = core::objectField(g.as_object(), "preferredVersion");
      std::string version = preferred ? core::stringField(*preferred, "version") : "";
      if (group.empty() || version.empty()) continue;
      auto resources = client.request("GET", "/apis/" + group + "/" + version);
      if (!resources.ok()) {
        out->failedGroups.push_back(group + "/" + version + ": " + resources.status().message());
        continue;
      }
      addResourceList(*resources, group, version, out->resources);
    }
  }
  return std::shared_ptr<const DiscoveryResult>(std::move(out));
}

}  // namespace berth::controllers
