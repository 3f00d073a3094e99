#include "core/quota_usage.h"

#include <algorithm>
#include <set>

#include "core/json_access.h"

namespace berth::core::quota {

namespace json = boost::json;

namespace {

std::string countName(std::string_view group, std::string_view resource) {
  std::string n = "count/" + std::string(resource);
  if (!group.empty()) n += "." + std::string(group);
  return n;
}

bool isLegacyCounted(std::string_view resource) {
  static const std::set<std::string_view> kLegacy = {"pods",
                                                     "services",
                                                     "configmaps",
                                                     "secrets",
                                                     "persistentvolumeclaims",
                                                     "replicationcontrollers",
                                                     "resourcequotas"};
  return kLegacy.count(resource) > 0;
}

void addTo(ResourceList& into, const ResourceList& more) {
  for (const auto& [k, v] : more) into[k] += v;
}

void maxInto(ResourceList& into, const ResourceList& other) {
  for (const auto& [k, v] : other) {
    auto it = into.find(k);
    if (it == into.end() || it->second < v) into[k] = v;
  }
}

ResourceList containerList(const json::value& c, std::string_view which) {
  if (!c.is_object()) return {};
  const json::object* res = objectField(c.as_object(), "resources");
  return parseResourceList(res ? objectField(*res, which) : nullptr);
}

// Upstream's resourcehelper.PodRequests/PodLimits: the sum over containers, at least the largest
// init container (sidecars, restartPolicy Always, run alongside and add up), plus overhead.
ResourceList podAggregate(const json::object& spec, std::string_view which) {
  ResourceList sum;
  if (const json::array* cs = arrayField(spec, "containers")) {
    for (const auto& c : *cs) addTo(sum, containerList(c, which));
  }
  ResourceList sidecars, initMax;
  if (const json::array* cs = arrayField(spec, "initContainers")) {
    for (const auto& c : *cs) {
      ResourceList own = containerList(c, which);
      bool sidecar = c.is_object() && stringField(c.as_object(), "restartPolicy") == "Always";
      if (sidecar) {
        addTo(sum, own);
        addTo(sidecars, own);
        maxInto(initMax, sidecars);
      } else {
        addTo(own, sidecars);
        maxInto(initMax, own);
      }
    }
  }
  maxInto(sum, initMax);
  addTo(sum, parseResourceList(objectField(spec, "overhead")));
  return sum;
}

bool isHugePages(std::string_view name) { return name.rfind("hugepages-", 0) == 0; }
// Extended resources carry a domain ("example.com/gpu"); kubernetes.io ones are native.
bool isExtended(std::string_view name) {
  return name.find('/') != std::string_view::npos &&
         name.find("kubernetes.io/") == std::string_view::npos;
}

// Upstream's podComputeUsageHelper: the quota names one container's (or the pod's) requests
// and limits are charged under.
ResourceList computeUsage(const ResourceList& requests, const ResourceList& limits) {
  ResourceList r;
  r["pods"] = Quantity::fromInt(1);
  r["count/pods"] = Quantity::fromInt(1);
  for (const auto& [name, q] : requests) {
    if (name == "cpu" || name == "memory" || name == "ephemeral-storage") {
      r[name] = q;
      r["requests." + name] = q;
    } else if (isHugePages(name) || isExtended(name)) {
      r["requests." + name] = q;
    }
  }
  for (const auto& [name, q] : limits) {
    if (name == "cpu" || name == "memory" || name == "ephemeral-storage") r["limits." + name] = q;
  }
  return r;
}

bool podTerminal(const json::object& pod) {
  const json::object* status = objectField(pod, "status");
  std::string phase = status ? stringField(*status, "phase") : "";
  return phase == "Succeeded" || phase == "Failed";
}

bool podBestEffort(const json::object& spec) {
  for (const char* list : {"containers", "initContainers"}) {
    const json::array* cs = arrayField(spec, list);
    for (size_t i = 0; cs && i < cs->size(); ++i) {
      for (const char* which : {"requests", "limits"}) {
        ResourceList l = containerList((*cs)[i], which);
        if (l.count("cpu") || l.count("memory")) return false;
      }
    }
  }
  return true;
}

bool podTerminating(const json::object& spec) {
  auto* v = spec.if_contains("activeDeadlineSeconds");
  return v && (v->is_int64() || v->is_uint64()) && v->to_number<int64_t>() >= 0;
}

bool crossNamespaceAffinity(const json::object& spec) {
  const json::object* affinity = objectField(spec, "affinity");
  if (!affinity) return false;
  for (const char* kind : {"podAffinity", "podAntiAffinity"}) {
    const json::object* a = objectField(*affinity, kind);
    if (!a) continue;
    for (const char* list : {"requiredDuringSchedulingIgnoredDuringExecution",
                             "preferredDuringSchedulingIgnoredDuringExecution"}) {
      const json::array* terms = arrayField(*a, list);
      for (size_t i = 0; terms && i < terms->size(); ++i) {
        if (!(*terms)[i].is_object()) continue;
        const json::object* term = &(*terms)[i].as_object();
        if (const json::object* inner = objectField(*term, "podAffinityTerm")) term = inner;
        const json::array* nss = arrayField(*term, "namespaces");
        if ((nss && !nss->empty()) || term->contains("namespaceSelector")) return true;
      }
    }
  }
  return false;
}

struct ScopeSelector {
  std::string scope, op;
  std::vector<std::string> values;
};

std::vector<ScopeSelector> scopeSelectors(const json::object& quota) {
  std::vector<ScopeSelector> out;
  const json::object* spec = objectField(quota, "spec");
  if (!spec) return out;
  if (const json::array* scopes = arrayField(*spec, "scopes")) {
    for (const auto& s : *scopes) {
      if (s.is_string()) out.push_back({std::string(s.as_string()), "Exists", {}});
    }
  }
  const json::object* sel = objectField(*spec, "scopeSelector");
  const json::array* exprs = sel ? arrayField(*sel, "matchExpressions") : nullptr;
  for (size_t i = 0; exprs && i < exprs->size(); ++i) {
    if (!(*exprs)[i].is_object()) continue;
    const json::object& e = (*exprs)[i].as_object();
    ScopeSelector s{stringField(e, "scopeName"), stringField(e, "operator"), {}};
    if (const json::array* vals = arrayField(e, "values")) {
      for (const auto& v : *vals) {
        if (v.is_string()) s.values.emplace_back(v.as_string());
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool podMatchesScope(const json::object& pod, const ScopeSelector& s) {
  const json::object* specP = objectField(pod, "spec");
  static const json::object kEmpty;
  const json::object& spec = specP ? *specP : kEmpty;
  if (s.scope == "Terminating") return podTerminating(spec);
  if (s.scope == "NotTerminating") return !podTerminating(spec);
  if (s.scope == "BestEffort") return podBestEffort(spec);
  if (s.scope == "NotBestEffort") return !podBestEffort(spec);
  if (s.scope == "CrossNamespacePodAffinity") return crossNamespaceAffinity(spec);
  if (s.scope == "PriorityClass") {
    // Upstream matches a label set {PriorityClass: name} that is empty without a class.
    std::string pc = stringField(spec, "priorityClassName");
    bool has = !pc.empty();
    bool in = has && std::find(s.values.begin(), s.values.end(), pc) != s.values.end();
    if (s.op == "Exists") return has;
    if (s.op == "DoesNotExist") return !has;
    if (s.op == "In") return in;
    if (s.op == "NotIn") return !in;
    return false;
  }
  return false;
}

bool isPods(std::string_view group, std::string_view resource) {
  return group.empty() && resource == "pods";
}

}  // namespace

ResourceList parseResourceList(const json::object* list) {
  ResourceList out;
  if (!list) return out;
  for (const auto& [k, v] : *list) {
    std::optional<Quantity> q;
    if (v.is_string()) q = Quantity::parse(v.as_string());
    if (v.is_int64() || v.is_uint64()) q = Quantity::fromInt(v.to_number<long long>());
    if (q) out[std::string(k)] = *q;
  }
  return out;
}

json::object toJson(const ResourceList& list) {
  json::object o;
  for (const auto& [k, v] : list) o[k] = v.toString();
  return o;
}

std::string prettyPrint(const ResourceList& list) {
  std::string s;
  for (const auto& [k, v] : list) {
    if (!s.empty()) s += ",";
    s += k + "=" + v.toString();
  }
  return s;
}

ResourceList mask(const ResourceList& list, const std::vector<std::string>& names) {
  ResourceList out;
  for (const auto& n : names) {
    if (auto it = list.find(n); it != list.end()) out[n] = it->second;
  }
  return out;
}

std::vector<std::string> names(const ResourceList& list) {
  std::vector<std::string> out;
  for (const auto& [k, v] : list) out.push_back(k);
  return out;
}

ResourceList usage(std::string_view group, std::string_view resource, const json::object& obj) {
  ResourceList r;
  std::string count = countName(group, resource);
  if (isPods(group, resource)) {
    if (podTerminal(obj)) return r;
    const json::object* specP = objectField(obj, "spec");
    static const json::object kEmpty;
    const json::object& spec = specP ? *specP : kEmpty;
    return computeUsage(podAggregate(spec, "requests"), podAggregate(spec, "limits"));
  }
  r[count] = Quantity::fromInt(1);
  if (group.empty() && isLegacyCounted(resource)) r[std::string(resource)] = Quantity::fromInt(1);
  const json::object* spec = objectField(obj, "spec");
  if (!spec || !group.empty()) return r;
  if (resource == "services") {
    std::string type = stringField(*spec, "type");
    const json::array* ports = arrayField(*spec, "ports");
    long long nPorts = ports ? static_cast<long long>(ports->size()) : 0;
    if (type == "LoadBalancer") {
      r["services.loadbalancers"] = Quantity::fromInt(1);
      auto* alloc = spec->if_contains("allocateLoadBalancerNodePorts");
      if (alloc && alloc->is_bool() && !alloc->as_bool()) {
        nPorts = 0;  // only ports with an explicit nodePort then take one
        for (size_t i = 0; ports && i < ports->size(); ++i) {
          auto* np =
              (*ports)[i].is_object() ? (*ports)[i].as_object().if_contains("nodePort") : nullptr;
          if (np && np->is_number() && np->to_number<int64_t>() != 0) ++nPorts;
        }
      }
      r["services.nodeports"] = Quantity::fromInt(nPorts);
    } else if (type == "NodePort") {
      r["services.nodeports"] = Quantity::fromInt(nPorts);
    }
  } else if (resource == "persistentvolumeclaims") {
    const json::object* res = objectField(*spec, "resources");
    ResourceList req = parseResourceList(res ? objectField(*res, "requests") : nullptr);
    // A claim being resized is charged the larger of what it asks for and what it was given.
    const json::object* status = objectField(obj, "status");
    ResourceList alloc =
        parseResourceList(status ? objectField(*status, "allocatedResources") : nullptr);
    maxInto(req, mask(alloc, {"storage"}));
    std::string cls = stringField(*spec, "storageClassName");
    std::string prefix = cls.empty() ? "" : cls + ".storageclass.storage.k8s.io/";
    if (!prefix.empty()) r[prefix + "persistentvolumeclaims"] = Quantity::fromInt(1);
    if (auto it = req.find("storage"); it != req.end()) {
      r["requests.storage"] = it->second;
      if (!prefix.empty()) r[prefix + "requests.storage"] = it->second;
    }
  }
  return r;
}

bool chargesOnUpdate(std::string_view group, std::string_view resource) {
  return group.empty() && (resource == "services" || resource == "persistentvolumeclaims");
}

std::vector<std::string> matchingResources(std::string_view group, std::string_view resource,
                                           const std::vector<std::string>& hard) {
  static const std::set<std::string_view> kPod = {"pods",
                                                  "count/pods",
                                                  "cpu",
                                                  "memory",
                                                  "ephemeral-storage",
                                                  "requests.cpu",
                                                  "requests.memory",
                                                  "requests.ephemeral-storage",
                                                  "limits.cpu",
                                                  "limits.memory",
                                                  "limits.ephemeral-storage"};
  std::string count = countName(group, resource);
  std::vector<std::string> out;
  for (const auto& h : hard) {
    bool match = h == count;
    if (isPods(group, resource)) {
      match = kPod.count(h) > 0 || (h.rfind("requests.", 0) == 0 &&
                                    (isHugePages(h.substr(9)) || isExtended(h.substr(9))));
    } else if (group.empty()) {
      match = match || (h == resource && isLegacyCounted(resource));
      if (resource == "services") {
        match = match || h == "services.nodeports" || h == "services.loadbalancers";
      }
      if (resource == "persistentvolumeclaims") {
        match = match || h == "requests.storage" ||
                h.find(".storageclass.storage.k8s.io/") != std::string::npos;
      }
    }
    if (match) out.push_back(h);
  }
  return out;
}

bool quotaMatches(const json::object& quota, std::string_view group, std::string_view resource,
                  const json::object& obj) {
  // status.hard, as upstream: a quota the controller has not seen yet is not enforced.
  const json::object* status = objectField(quota, "status");
  const json::object* hard = status ? objectField(*status, "hard") : nullptr;
  std::vector<std::string> hardNames;
  if (hard) {
    for (const auto& [k, v] : *hard) hardNames.emplace_back(k);
  }
  if (matchingResources(group, resource, hardNames).empty()) return false;
  for (const auto& s : scopeSelectors(quota)) {
    if (!isPods(group, resource) || !podMatchesScope(obj, s)) return false;
  }
  return true;
}

std::string missingConstraints(std::string_view group, std::string_view resource,
                               const json::object& obj, const std::vector<std::string>& required) {
  if (!isPods(group, resource)) return "";
  static const std::set<std::string> kValidated = {
      "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"};
  std::set<std::string> needed;
  for (const auto& r : required) {
    if (kValidated.count(r)) needed.insert(r);
  }
  if (needed.empty()) return "";
  std::map<std::string, std::set<std::string>> missing;  // resource -> container names
  const json::object* spec = objectField(obj, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const json::array* cs = spec ? arrayField(*spec, list) : nullptr;
    for (size_t i = 0; cs && i < cs->size(); ++i) {
      ResourceList has =
          computeUsage(containerList((*cs)[i], "requests"), containerList((*cs)[i], "limits"));
      std::string name =
          (*cs)[i].is_object() ? stringField((*cs)[i].as_object(), "name") : std::string();
      for (const auto& n : needed) {
        if (!has.count(n)) missing[n].insert(name);
      }
    }
  }
  std::string msg;
  for (const auto& [res, containers] : missing) {
    msg += msg.empty() ? "must specify " : "; ";
    msg += res + " for: ";
    bool first = true;
    for (const auto& c : containers) {
      if (!first) msg += ",";
      msg += c;
      first = false;
    }
  }
  return msg;
}

}  // namespace berth::core::quota
