#include "apiserver/patch/list_types.h"

#include <algorithm>
#include <boost/json.hpp>

namespace berth::apiserver::patch::internal {
namespace {

bool isContainerList(std::string_view name) {
  return name == "containers" || name == "initContainers" || name == "ephemeralContainers";
}

ListType map(std::string key) { return {ListType::kMap, std::move(key)}; }

}  // namespace

ListType listTypeOf(const core::ResourceType& rt, const std::vector<std::string>& path) {
  if (path.empty()) return {};
  const std::string& name = path.back();
  const std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";

  if (path.size() == 2 && parent == "metadata") {
    if (name == "finalizers") return {ListType::kSet, ""};
    if (name == "ownerReferences") return map("uid");
    return {};  // managedFields and anything else: atomic
  }
  if (name == "ports") {
    // Container ports merge by containerPort, Service ports by port; EndpointSlice and
    // Endpoints ports (and anything else) are atomic.
    if (isContainerList(parent)) return map("containerPort");
    if (rt.kind == "Service" && path.size() == 2 && parent == "spec") return map("port");
    return {};
  }
  if (isContainerList(name)) return map("name");
  if (name == "conditions") return map("type");
  if (name == "env" && isContainerList(parent)) return map("name");
  if (name == "volumeMounts" && isContainerList(parent)) return map("mountPath");
  if (name == "volumeDevices" && isContainerList(parent)) return map("devicePath");
  if (name == "volumes" && parent == "spec") return map("name");
  if (name == "imagePullSecrets" && path.size() >= 2) return map("name");  // pod specs, not SAs
  if (name == "secrets" && rt.kind == "ServiceAccount" && path.size() == 1) return map("name");
  if (name == "hostAliases") return map("ip");
  if (name == "resourceClaims" && parent == "spec") return map("name");
  if (name == "topologySpreadConstraints") return map("topologyKey");
  if (name == "schedulingGates") return map("name");
  if ((name == "podIPs" || name == "hostIPs") && parent == "status") return map("ip");
  if (rt.kind == "Node" && parent == "status") {
    if (name == "addresses") return map("type");
    if (name == "volumesAttached") return map("name");
  }
  if (rt.kind == "Node" && parent == "spec" && name == "podCIDRs") return {ListType::kSet, ""};
  return {};
}

bool jsonEqual(const boost::json::value& a, const boost::json::value& b) {
  auto isNumber = [](const boost::json::value& v) {
    return v.is_int64() || v.is_uint64() || v.is_double();
  };
  if (isNumber(a) && isNumber(b)) {
    if (a.kind() == b.kind()) return a == b;
    if (a.is_double() || b.is_double()) return a.to_number<double>() == b.to_number<double>();
    // int64 vs uint64
    const auto& i = a.is_int64() ? a : b;
    const auto& u = a.is_int64() ? b : a;
    return i.get_int64() >= 0 && static_cast<uint64_t>(i.get_int64()) == u.get_uint64();
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!jsonEqual(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
      auto it = y.find(k);
      if (it == y.end() || !jsonEqual(v, it->value())) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace berth::apiserver::patch::internal
