#include "apiserver/discovery.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "core/resources.h"

namespace berth::apiserver {

namespace json = boost::json;

namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.push_back(json::string(s));
  return a;
}

// Subresources as upstream lists them in APIResourceList: name "<plural>/<sub>", the kind and
// group/version of the subresource body, its verbs.
struct SubInfo {
  std::string group, version, kind;
  std::vector<std::string> verbs;
};

std::optional<SubInfo> subresourceInfo(const core::ResourceType& rt, const std::string& sub) {
  if (sub == "status" || sub == "approval")
    return SubInfo{"", "", rt.kind, {"get", "patch", "update"}};
  if (sub == "scale") return SubInfo{"autoscaling", "v1", "Scale", {"get", "patch", "update"}};
  if (sub == "binding") return SubInfo{"", "", "Binding", {"create"}};
  if (sub == "eviction") return SubInfo{"policy", "v1", "Eviction", {"create"}};
  if (sub == "log") return SubInfo{"", "", "Pod", {"get"}};
  if (sub == "exec") return SubInfo{"", "", "PodExecOptions", {"create", "get"}};
  if (sub == "attach") return SubInfo{"", "", "PodAttachOptions", {"create", "get"}};
  if (sub == "portforward") return SubInfo{"", "", "PodPortForwardOptions", {"create", "get"}};
  if (sub == "proxy") {
    return SubInfo{"",
                   "",
                   rt.kind == "Pod"    ? "PodProxyOptions"
                   : rt.kind == "Node" ? "NodeProxyOptions"
                                       : "ServiceProxyOptions",
                   {"create", "delete", "get", "patch", "update"}};
  }
  if (sub == "finalize") return SubInfo{"", "", "Namespace", {"update"}};
  if (sub == "ephemeralcontainers") return SubInfo{"", "", "Pod", {"get", "patch", "update"}};
  if (sub == "token") return SubInfo{"authentication.k8s.io", "v1", "TokenRequest", {"create"}};
  return std::nullopt;
}

json::object resourceList(std::string_view group, std::string_view version) {
  json::array resources;
  for (const auto& rt : core::allResources()) {
    if (rt.group != group || rt.version != version) continue;
    json::object r;
    r["name"] = rt.plural;
    r["singularName"] = rt.singular;
    r["namespaced"] = rt.namespaced;
    r["kind"] = rt.kind;
    r["verbs"] = strings(rt.verbs);
    if (!rt.shortNames.empty()) r["shortNames"] = strings(rt.shortNames);
    if (!rt.categories.empty()) r["categories"] = strings(rt.categories);
    resources.push_back(std::move(r));
    for (const auto& sub : rt.subresources) {
      auto info = subresourceInfo(rt, sub);
      if (!info) continue;
      json::object s;
      s["name"] = rt.plural + "/" + sub;
      s["singularName"] = "";
      s["namespaced"] = rt.namespaced;
      if (!info->group.empty()) {
        s["group"] = info->group;
        s["version"] = info->version;
      }
      s["kind"] = info->kind;
      s["verbs"] = strings(info->verbs);
      resources.push_back(std::move(s));
    }
  }
  json::object o;
  o["kind"] = "APIResourceList";
  o["apiVersion"] = "v1";
  o["groupVersion"] =
      group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  o["resources"] = std::move(resources);
  return o;
}

json::object aggregatedGroup(std::string_view group, const std::vector<std::string>& versions) {
  json::array vs;
  for (const auto& version : versions) {
    json::array resources;
    for (const auto& rt : core::allResources()) {
      if (rt.group != group || rt.version != version) continue;
      json::object r;
      r["resource"] = rt.plural;
      r["responseKind"] =
          json::object{{"group", rt.group}, {"version", rt.version}, {"kind", rt.kind}};
      r["scope"] = rt.namespaced ? "Namespaced" : "Cluster";
      r["singularResource"] = rt.singular;
      r["verbs"] = strings(rt.verbs);
      if (!rt.shortNames.empty()) r["shortNames"] = strings(rt.shortNames);
      if (!rt.categories.empty()) r["categories"] = strings(rt.categories);
      json::array subs;
      for (const auto& sub : rt.subresources) {
        auto info = subresourceInfo(rt, sub);
        if (!info) continue;
        json::object so;
        so["subresource"] = sub;
        so["responseKind"] =
            json::object{{"group", info->group.empty() ? rt.group : info->group},
                         {"version", info->version.empty() ? rt.version : info->version},
                         {"kind", info->kind}};
        so["verbs"] = strings(info->verbs);
        subs.push_back(std::move(so));
      }
      if (!subs.empty()) r["subresources"] = std::move(subs);
      resources.push_back(std::move(r));
    }
    vs.push_back(json::object{
        {"version", version}, {"resources", std::move(resources)}, {"freshness", "Current"}});
  }
  json::object meta;
  if (!group.empty()) meta["name"] = group;
  return json::object{{"metadata", std::move(meta)}, {"versions", std::move(vs)}};
}

// Documents derived from the catalogue, rebuilt when it changes (CRDs come and go).
class CatalogueCache {
 public:
  template <typename Build>
  std::string get(const std::string& key, Build build) {
    std::lock_guard lock(mu_);
    uint64_t gen = core::catalogueGeneration();
    if (gen != generation_) {
      docs_.clear();
      generation_ = gen;
    }
    auto it = docs_.find(key);
    if (it == docs_.end()) it = docs_.emplace(key, build()).first;
    return it->second;
  }

 private:
  std::mutex mu_;
  uint64_t generation_ = 0;
  std::map<std::string, std::string> docs_;
};

CatalogueCache& documents() {
  static CatalogueCache cache;
  return cache;
}

}  // namespace

std::string aggregatedDiscovery(bool core) {
  if (core) {
    return documents().get("aggregated:core", [] {
      json::object o{{"kind", "APIGroupDiscoveryList"},
                     {"apiVersion", "apidiscovery.k8s.io/v2"},
                     {"metadata", json::object()},
                     {"items", json::array{aggregatedGroup("", {"v1"})}}};
      return json::serialize(o);
    });
  }
  return documents().get("aggregated:groups", [] {
    json::array items;
    for (const auto& g : core::apiGroups()) items.push_back(aggregatedGroup(g.group, g.versions));
    json::object o{{"kind", "APIGroupDiscoveryList"},
                   {"apiVersion", "apidiscovery.k8s.io/v2"},
                   {"metadata", json::object()},
                   {"items", std::move(items)}};
    return json::serialize(o);
  });
}

const std::string& discoveryApiVersions(const std::string& serverAddress) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(serverAddress);
  if (it != cache.end()) return it->second;
  json::object o;
  o["kind"] = "APIVersions";
  o["versions"] = json::array{"v1"};
  o["serverAddressByClientCIDRs"] =
      json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}};
  return cache.emplace(serverAddress, json::serialize(o)).first->second;
}

std::string discoveryGroupList() {
  return documents().get("groups", [] {
    json::array groups;
    for (const auto& g : core::apiGroups()) {
      json::array versions;
      for (const auto& v : g.versions) {
        versions.push_back(json::object{{"groupVersion", g.group + "/" + v}, {"version", v}});
      }
      json::object group;
      group["name"] = g.group;
      group["versions"] = std::move(versions);
      group["preferredVersion"] =
          json::object{{"groupVersion", g.group + "/" + g.versions[0]}, {"version", g.versions[0]}};
      groups.push_back(std::move(group));
    }
    json::object o;
    o["kind"] = "APIGroupList";
    o["apiVersion"] = "v1";
    o["groups"] = std::move(groups);
    return json::serialize(o);
  });
}

std::optional<std::string> discoveryResourceList(std::string_view group, std::string_view version) {
  bool served = false;
  for (const auto& rt : core::allResources())
    if (rt.group == group && rt.version == version) served = true;
  if (!served) return std::nullopt;
  return documents().get("resources:" + std::string(group) + "/" + std::string(version),
                         [&] { return json::serialize(resourceList(group, version)); });
}

const std::string& versionInfo() {
  static const std::string doc =
      json::serialize(json::object{{"major", "1"},
                                   {"minor", "32"},
                                   {"gitVersion", "v1.32.0+berth"},
                                   {"gitCommit", "0000000000000000000000000000000000000000"},
                                   {"gitTreeState", "clean"},
                                   {"buildDate", "2026-11-25T00:00:00Z"},
                                   {"goVersion", "go1.23.0"},
                                   {"compiler", "gc"},
                                   {"platform", "linux/amd64"}});
  return doc;
}

}  // namespace berth::apiserver
