#include "controllers/resourcequota/quota_recount.h"

#include <set>

#include "core/json_access.h"

namespace berth::controllers::resourcequota {

namespace json = boost::json;

std::vector<GroupResource> trackedResources(const std::vector<std::string>& hard) {
  // Candidates: the resources with their own usage rules and legacy names, plus every
  // count/<resource>[.<group>] the quota names.
  std::set<GroupResource> candidates = {{"", "pods"},
                                        {"", "services"},
                                        {"", "configmaps"},
                                        {"", "secrets"},
                                        {"", "persistentvolumeclaims"},
                                        {"", "replicationcontrollers"},
                                        {"", "resourcequotas"}};
  for (const auto& h : hard) {
    if (h.rfind("count/", 0) != 0) continue;
    std::string rest = h.substr(6);
    auto dot = rest.find('.');
    if (dot == std::string::npos) {
      candidates.insert({"", rest});
    } else {
      candidates.insert({rest.substr(dot + 1), rest.substr(0, dot)});
    }
  }
  std::vector<GroupResource> out;
  for (const auto& c : candidates) {
    if (!core::quota::matchingResources(c.group, c.resource, hard).empty()) out.push_back(c);
  }
  return out;
}

core::quota::ResourceList recount(
    const json::object& quota,
    const std::vector<std::pair<GroupResource, std::vector<json::object>>>& objects) {
  const json::object* status = core::objectField(quota, "status");
  core::quota::ResourceList hard =
      core::quota::parseResourceList(status ? core::objectField(*status, "hard") : nullptr);
  std::vector<std::string> hardNames = core::quota::names(hard);
  core::quota::ResourceList used;
  for (const auto& name : hardNames) used[name] = core::Quantity();
  for (const auto& [gr, items] : objects) {
    std::vector<std::string> names = core::quota::matchingResources(gr.group, gr.resource, hardNames);
    for (const auto& obj : items) {
      if (!core::quota::quotaMatches(quota, gr.group, gr.resource, obj)) continue;
      auto u = core::quota::mask(core::quota::usage(gr.group, gr.resource, obj), names);
      for (const auto& [k, v] : u) used[k] += v;
    }
  }
  return used;
}

}  // namespace berth::controllers::resourcequota
