// The Service kind: defaults (SetDefaults_Service plus what the service REST storage fills:
// ipFamilies, ipFamilyPolicy), validation (ValidateService, ValidateServiceUpdate) and the
// update-time carry-over of allocated values (clusterIP, nodePorts) when a client omits them.
#include <algorithm>
#include <set>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const json::object kEmpty;
const std::vector<std::string> kServiceTypes = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                "NodePort"};
const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};
constexpr const char* kIpError = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

// Upstream NeedsHealthCheck: kube-proxy serves a health check nodePort for the Service.
bool needsHealthCheck(const json::object& spec) {
  return getStr(spec, "type") == "LoadBalancer" && getStr(spec, "externalTrafficPolicy") == "Local";
}

// The family of an address validation accepts (an IPv4-mapped IPv6 literal is IPv4, as Go's).
const char* familyOf(std::string_view ip) {
  return ip.find(':') != std::string_view::npos && ip.find('.') == std::string_view::npos
             ? "IPv6"
             : "IPv4";
}

bool externallyAccessible(const json::object& spec) {
  std::string_view type = getStr(spec, "type");
  const json::array* externalIps = getArr(spec, "externalIPs");
  return type == "NodePort" || type == "LoadBalancer" ||
         (type == "ClusterIP" && externalIps != nullptr && !externalIps->empty());
}

// A []string as field.Invalid prints it (apimachinery marshals non-scalar values as JSON).
std::string formatStringList(const json::array* list) {
  if (list == nullptr) return "null";
  std::string s = "[";
  for (size_t i = 0; i < list->size(); ++i) {
    if (i) s += ",";
    s += (*list)[i].is_string() ? goQuote((*list)[i].get_string()) : "\"\"";
  }
  return s + "]";
}

void serviceDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  if (getStr(spec, "sessionAffinity") == "None") spec.erase("sessionAffinityConfig");
  if (getStr(spec, "sessionAffinity") == "ClientIP") {
    json::object& cfg = ensureObj(ensureObj(spec, "sessionAffinityConfig"), "clientIP");
    setDefault(cfg, "timeoutSeconds", 10800);
  }
  std::string type(getStr(spec, "type"));
  if (json::array* ports = getArrMut(spec, "ports")) {
    for (auto& pv : *ports) {
      json::object* p = pv.if_object();
      if (p == nullptr) continue;
      if (getStr(*p, "protocol").empty()) (*p)["protocol"] = "TCP";
      const json::value* tp = getVal(*p, "targetPort");
      bool unset = tp == nullptr || (tp->is_int64() && tp->get_int64() == 0) ||
                   (tp->is_string() && tp->get_string().empty());
      if (unset && has(*p, "port")) (*p)["targetPort"] = (*p)["port"];
    }
  }
  // ClusterIP Services with externalIPs are externally accessible too (SetDefaults_Service).
  if (externallyAccessible(spec)) setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (type == "LoadBalancer") {
    setDefault(spec, "allocateLoadBalancerNodePorts", true);
    // Ingress IPs written by a load balancer controller default to ipMode VIP.
    if (json::object* st = obj.if_contains("status") ? obj["status"].if_object() : nullptr) {
      json::object* lb = st->if_contains("loadBalancer") ? (*st)["loadBalancer"].if_object() : nullptr;
      if (json::array* ing = lb ? getArrMut(*lb, "ingress") : nullptr) {
        for (auto& iv : *ing) {
          if (json::object* i = iv.if_object(); i && hasStr(*i, "ip")) setDefault(*i, "ipMode", "VIP");
        }
      }
    }
  }
  if (type != "ExternalName") {
    setDefault(spec, "internalTrafficPolicy", "Cluster");
    std::string ip(getStr(spec, "clusterIP"));
    if (!ip.empty() && !has(spec, "clusterIPs")) spec["clusterIPs"] = json::array{ip};
    // What the service REST storage fills on create without knowing the cluster's ranges (it
    // checks them and adds a dual-stack request's second family: apiserver/service): the
    // families of the given ClusterIPs (none given: the storage fills the cluster's primary
    // family, IPv4 or IPv6); RequireDualStack when two families or ClusterIPs are given, else
    // SingleStack.
    const json::array* ips = getArr(spec, "clusterIPs");
    if (!has(spec, "ipFamilies") ||
        (getArr(spec, "ipFamilies") && getArr(spec, "ipFamilies")->empty())) {
      json::array fams;
      if (ips != nullptr)
        for (const auto& v : *ips) {
          std::string_view s = v.is_string() ? std::string_view(v.get_string()) : "";
          if (s == "None" || s.empty() || !isValidIp(s)) continue;
          fams.push_back(json::string(familyOf(s)));
        }
      if (fams.empty())
        spec.erase("ipFamilies");
      else
        spec["ipFamilies"] = std::move(fams);
    }
    ips = getArr(spec, "clusterIPs");  // erase/insert above may have moved the members
    const json::array* fams = getArr(spec, "ipFamilies");
    bool two = (fams != nullptr && fams->size() == 2) ||
               (ip != "None" && ips != nullptr && ips->size() == 2);
    setDefault(spec, "ipFamilyPolicy", two ? "RequireDualStack" : "SingleStack");
    if (ip.empty()) {
      if (const json::array* ips = getArr(spec, "clusterIPs"); ips && !ips->empty() &&
                                                              (*ips)[0].is_string()) {
        spec["clusterIP"] = (*ips)[0];
      }
    }
  }
}

// spec.ipFamilyPolicy, spec.ipFamilies and how spec.clusterIPs match them (upstream
// validateIPFamilies and validateServiceClusterIPsRelatedFields, the parts that need no cluster
// knowledge; the registry checks the families against the cluster's ranges).
void validateIpFamilies(const json::object& spec, FieldErrors& errs) {
  std::string_view policy = getStr(spec, "ipFamilyPolicy");
  if (hasStr(spec, "ipFamilyPolicy") && policy != "SingleStack" && policy != "PreferDualStack" &&
      policy != "RequireDualStack") {
    addNotSupported(errs, "spec.ipFamilyPolicy", goQuote(policy),
                    {"PreferDualStack", "RequireDualStack", "SingleStack"});
  }
  const json::array* fams = getArr(spec, "ipFamilies");
  std::vector<std::string> families;
  if (fams != nullptr) {
    for (size_t i = 0; i < fams->size(); ++i) {
      std::string f = (*fams)[i].is_string() ? std::string((*fams)[i].get_string()) : "";
      if (f != "IPv4" && f != "IPv6") {
        addNotSupported(errs, index("spec.ipFamilies", i), goQuote(f), {"IPv4", "IPv6"});
      } else if (std::find(families.begin(), families.end(), f) != families.end()) {
        addDuplicate(errs, index("spec.ipFamilies", i), goQuote(f));
      }
      families.push_back(f);
    }
    if (fams->size() > 2) {
      addInvalid(errs, "spec.ipFamilies", formatStringList(fams),
                 "may specify no more than one IP for each IP family");
    } else if (fams->size() == 2 && policy == "SingleStack") {
      addInvalidStr(errs, "spec.ipFamilyPolicy", policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple 'ipFamilies' "
                    "are specified");
    }
  }
  const json::array* ips = getArr(spec, "clusterIPs");
  if (ips == nullptr || ips->empty() || getStr(spec, "clusterIP") == "None") return;
  if (ips->size() > 2) {
    addInvalid(errs, "spec.clusterIPs", formatStringList(ips),
               "may specify no more than one IP for each IP family");
    return;
  }
  if (ips->size() == 2 && policy == "SingleStack") {
    addInvalidStr(errs, "spec.ipFamilyPolicy", policy,
                  "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs "
                  "are specified");
  }
  std::vector<std::string> ipFamilies;
  for (size_t i = 0; i < ips->size(); ++i) {
    std::string_view ip = (*ips)[i].is_string() ? std::string_view((*ips)[i].get_string()) : "";
    if (!isValidIp(ip)) return;  // reported with the IP checks
    ipFamilies.push_back(familyOf(ip));
    if (i < families.size() && families[i] != ipFamilies.back()) {
      addInvalidStr(errs, index("spec.clusterIPs", i), ip,
                    "expected an " + families[i] + " value as indicated by `ipFamilies[" +
                        std::to_string(i) + "]`");
    }
  }
  if (ipFamilies.size() == 2 && ipFamilies[0] == ipFamilies[1]) {
    addInvalid(errs, "spec.clusterIPs", formatStringList(ips),
               "may specify no more than one IP for each IP family");
  }
}

void validatePorts(const json::object& spec, FieldErrors& errs) {
  const json::array* ports = getArr(spec, "ports");
  std::string_view type = getStr(spec, "type");
  bool headless = getStr(spec, "clusterIP") == "None";
  if ((ports == nullptr || ports->empty()) && !headless && type != "ExternalName") {
    addRequired(errs, "spec.ports");
    return;
  }
  if (ports == nullptr) return;
  bool requireName = ports->size() > 1;
  std::set<std::string, std::less<>> names;
  std::set<std::pair<int64_t, std::string>> portProtocols;
  for (size_t i = 0; i < ports->size(); ++i) {
    std::string p = index("spec.ports", i);
    const json::object* port = (*ports)[i].if_object();
    if (port == nullptr) continue;
    std::string_view name = getStr(*port, "name");
    if (requireName && name.empty()) {
      addRequired(errs, child(p, "name"));
    } else if (!name.empty()) {
      for (const auto& m : isDns1123Label(name)) addInvalidStr(errs, child(p, "name"), name, m);
      if (!names.emplace(name).second) addDuplicate(errs, child(p, "name"), goQuote(name));
    }
    int64_t number = getInt(*port, "port").value_or(0);
    for (const auto& m : isValidPortNum(number)) addInvalidInt(errs, child(p, "port"), number, m);
    std::string_view proto = getStr(*port, "protocol");
    if (proto.empty()) {
      addRequired(errs, child(p, "protocol"));
    } else if (std::find(kProtocols.begin(), kProtocols.end(), proto) == kProtocols.end()) {
      addNotSupported(errs, child(p, "protocol"), goQuote(proto), kProtocols);
    }
    if (const json::value* tp = getVal(*port, "targetPort")) {
      if (tp->is_string()) {
        for (const auto& m : isValidPortName(tp->get_string())) {
          addInvalidStr(errs, child(p, "targetPort"), tp->get_string(), m);
        }
      } else if (tp->is_int64()) {
        for (const auto& m : isValidPortNum(tp->get_int64())) {
          addInvalidInt(errs, child(p, "targetPort"), tp->get_int64(), m);
        }
      }
    }
    int64_t nodePort = getInt(*port, "nodePort").value_or(0);
    if (nodePort != 0) {
      if (type == "ClusterIP") {
        addForbidden(errs, child(p, "nodePort"), "may not be used when `type` is 'ClusterIP'");
      }
      for (const auto& m : isValidPortNum(nodePort)) {
        addInvalidInt(errs, child(p, "nodePort"), nodePort, m);
      }
    }
    if (!portProtocols.emplace(number, std::string(proto)).second) {
      addDuplicate(errs, p,
                   "core.ServicePort{Name:\"\", Protocol:" + goQuote(proto) +
                       ", AppProtocol:(*string)(nil), Port:" + std::to_string(number) +
                       ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, "
                       "NodePort:0}");
    }
  }
}

// An ExternalName Service is a DNS alias: no addresses of its own, and a valid name to alias.
void validateExternalName(const json::object& spec, FieldErrors& errs) {
  if (const json::array* ips = getArr(spec, "clusterIPs"); ips && !ips->empty()) {
    addForbidden(errs, "spec.clusterIPs", "may not be set for ExternalName services");
  }
  if (const json::array* fams = getArr(spec, "ipFamilies"); fams && !fams->empty()) {
    addForbidden(errs, "spec.ipFamilies", "may not be set for ExternalName services");
  }
  if (has(spec, "ipFamilyPolicy")) {
    addForbidden(errs, "spec.ipFamilyPolicy", "may not be set for ExternalName services");
  }
  std::string_view cname = getStr(spec, "externalName");
  if (!cname.empty() && cname.back() == '.') cname.remove_suffix(1);
  if (cname.empty()) {
    addRequired(errs, "spec.externalName");
  } else {
    for (const auto& m : isDns1123Subdomain(cname)) {
      addInvalidStr(errs, "spec.externalName", cname, m);
    }
  }
}

void validateSessionAffinity(const json::object& spec, FieldErrors& errs) {
  std::string_view affinity = getStr(spec, "sessionAffinity");
  if (affinity.empty()) {
    addRequired(errs, "spec.sessionAffinity");
  } else if (affinity != "None" && affinity != "ClientIP") {
    addNotSupported(errs, "spec.sessionAffinity", goQuote(affinity), {"ClientIP", "None"});
  } else if (affinity == "ClientIP") {
    // validateClientIPAffinityConfig: 0 < timeoutSeconds <= 86400 (one day).
    const json::object* cfg = getObj(spec, "sessionAffinityConfig");
    const json::object* cip = cfg ? getObj(*cfg, "clientIP") : nullptr;
    int64_t t = cip ? getInt(*cip, "timeoutSeconds").value_or(0) : 0;
    if (cip == nullptr) {
      addRequired(errs, "spec.sessionAffinityConfig.clientIP");
    } else if (t <= 0 || t > 86400) {
      addInvalidInt(errs, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", t,
                    "must be greater than 0 and less than 86400");
    }
  } else if (has(spec, "sessionAffinityConfig")) {
    addForbidden(errs, "spec.sessionAffinityConfig",
                 "must not be set when session affinity is None");
  }
}

void validateClusterIps(const json::object& spec, FieldErrors& errs) {
  if (const json::array* ips = getArr(spec, "clusterIPs")) {
    for (size_t i = 0; i < ips->size(); ++i) {
      std::string_view ip = (*ips)[i].is_string() ? std::string_view((*ips)[i].get_string()) : "";
      if (ip == "None" && i == 0) continue;
      if (!isValidIp(ip)) addInvalidStr(errs, index("spec.clusterIPs", i), ip, kIpError);
    }
  } else if (std::string_view ip = getStr(spec, "clusterIP");
             !ip.empty() && ip != "None" && !isValidIp(ip)) {
    addInvalidStr(errs, "spec.clusterIPs[0]", ip, kIpError);
  }
}

// The type, and the fields only some types may use.
void validateServiceType(const json::object& spec, std::string_view type, FieldErrors& errs) {
  if (type.empty()) {
    addRequired(errs, "spec.type");
  } else if (std::find(kServiceTypes.begin(), kServiceTypes.end(), type) == kServiceTypes.end()) {
    addNotSupported(errs, "spec.type", goQuote(type), kServiceTypes);
  }
  if ((type == "NodePort" || type == "LoadBalancer") && getStr(spec, "clusterIP") == "None") {
    addInvalidStr(errs, "spec.clusterIPs[0]", "None",
                  "may not be set to 'None' for " + std::string(type) + " services");
  }
  if (has(spec, "loadBalancerClass") && type != "LoadBalancer") {
    addForbidden(errs, "spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'");
  }
  if (std::string_view lbIp = getStr(spec, "loadBalancerIP");
      type == "LoadBalancer" && !lbIp.empty() && !isValidIp(lbIp)) {
    addInvalidStr(errs, "spec.loadBalancerIP", lbIp, kIpError);
  }
  if (const json::array* ext = getArr(spec, "externalIPs")) {
    for (size_t i = 0; i < ext->size(); ++i) {
      std::string_view ip = (*ext)[i].is_string() ? std::string_view((*ext)[i].get_string()) : "";
      if (!isValidIp(ip)) addInvalidStr(errs, index("spec.externalIPs", i), ip, kIpError);
    }
  }
}

// externalTrafficPolicy, healthCheckNodePort and internalTrafficPolicy.
void validateTrafficPolicies(const json::object& spec, FieldErrors& errs) {
  std::string_view etp = getStr(spec, "externalTrafficPolicy");
  if (!externallyAccessible(spec)) {
    if (!etp.empty()) {
      addInvalidStr(errs, "spec.externalTrafficPolicy", etp,
                    "may only be set for externally-accessible services");
    }
  } else if (etp.empty()) {
    addRequired(errs, "spec.externalTrafficPolicy");
  } else if (etp != "Cluster" && etp != "Local") {
    addNotSupported(errs, "spec.externalTrafficPolicy", goQuote(etp), {"Cluster", "Local"});
  }
  // Zero (unset) passes: the registry allocates the port after validation (upstream allocates
  // it before, so it requires the field here).
  if (int64_t hc = getInt(spec, "healthCheckNodePort").value_or(0); hc != 0) {
    if (!needsHealthCheck(spec)) {
      addInvalidInt(errs, "spec.healthCheckNodePort", hc,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                    "is 'Local'");
    } else {
      for (const auto& m : isValidPortNum(hc))
        addInvalidInt(errs, "spec.healthCheckNodePort", hc, m);
    }
  }
  std::string_view itp = getStr(spec, "internalTrafficPolicy");
  if (hasStr(spec, "internalTrafficPolicy") && itp != "Cluster" && itp != "Local") {
    addNotSupported(errs, "spec.internalTrafficPolicy", goQuote(itp), {"Cluster", "Local"});
  }
}

void serviceValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* sp = getObj(obj, "spec");
  const json::object& spec = sp != nullptr ? *sp : kEmpty;
  std::string_view type = getStr(spec, "type");
  if (type == "ExternalName") validateExternalName(spec, errs);
  validatePorts(spec, errs);
  validateLabels(getObj(spec, "selector"), "spec.selector", errs);
  validateSessionAffinity(spec, errs);
  if (type != "ExternalName") validateIpFamilies(spec, errs);
  validateClusterIps(spec, errs);
  validateServiceType(spec, type, errs);
  validateTrafficPolicies(spec, errs);
}

void serviceValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& errs) {
  const json::object* sp = getObj(obj, "spec");
  const json::object* op = getObj(old, "spec");
  const json::object& spec = sp != nullptr ? *sp : kEmpty;
  const json::object& oldSpec = op != nullptr ? *op : kEmpty;
  if (needsHealthCheck(spec) && needsHealthCheck(oldSpec) &&
      !sameJson(getVal(spec, "healthCheckNodePort"), getVal(oldSpec, "healthCheckNodePort"))) {
    addForbidden(errs, "spec.healthCheckNodePort", "field is immutable");
  }
  if (getStr(spec, "type") == "ExternalName" || getStr(oldSpec, "type") == "ExternalName") return;
  const json::array* ips = getArr(spec, "clusterIPs");
  const json::array* oldIps = getArr(oldSpec, "clusterIPs");
  if (oldIps == nullptr || oldIps->empty()) return;
  if (ips == nullptr || ips->empty() || !sameJson(&(*ips)[0], &(*oldIps)[0])) {
    addInvalid(errs, "spec.clusterIPs[0]", formatStringList(ips), "may not change once set");
  }
  const json::array* fams = getArr(spec, "ipFamilies");
  const json::array* oldFams = getArr(oldSpec, "ipFamilies");
  if (fams && oldFams && !fams->empty() && !oldFams->empty() &&
      !sameJson(&(*fams)[0], &(*oldFams)[0])) {
    addInvalid(errs, "spec.ipFamilies[0]", formatValue((*fams)[0]), "may not change once set");
  }
}

void servicePrepareCreate(json::object& obj) {
  obj["status"] = json::object{{"loadBalancer", json::object()}};
}

// Values allocated by the server survive an update that omits them (upstream
// patchAllocatedValues), and type-dependent fields left over from the old type are dropped.
void servicePrepareUpdate(json::object& obj, const json::object& old) {
  json::object& spec = ensureObj(obj, "spec");
  const json::object* op = getObj(old, "spec");
  const json::object& oldSpec = op != nullptr ? *op : kEmpty;
  std::string type(has(spec, "type") ? getStr(spec, "type") : "ClusterIP");
  std::string_view oldType = getStr(oldSpec, "type");
  if (type != "ExternalName" && oldType != "ExternalName") {
    if (getStr(spec, "clusterIP").empty() && !has(spec, "clusterIPs")) {
      for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
        if (const json::value* v = getVal(oldSpec, f); v && !has(spec, f)) spec[f] = *v;
      }
    }
    // A downgrade to SingleStack that leaves the dual-stack fields as they were drops the
    // secondary family and ClusterIP (upstream's allocator does so before validation).
    if (getStr(spec, "ipFamilyPolicy") == "SingleStack" &&
        getStr(oldSpec, "ipFamilyPolicy") != "SingleStack") {
      for (const char* f : {"clusterIPs", "ipFamilies"}) {
        json::array* a = getArrMut(spec, f);
        if (a && a->size() == 2 && sameJson(getVal(spec, f), getVal(oldSpec, f))) a->resize(1);
      }
    }
  }
  if (type == "ExternalName" && oldType != "ExternalName") {
    for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
      if (sameJson(getVal(spec, f), getVal(oldSpec, f))) spec.erase(f);
    }
  }
  // The health check nodePort: kept when still needed and omitted, dropped (and so released)
  // when no longer needed and left as it was (upstream patchAllocatedValues and
  // dropTypeDependentFields).
  if (needsHealthCheck(oldSpec)) {
    const json::value* oldHc = getVal(oldSpec, "healthCheckNodePort");
    if (needsHealthCheck(spec) && getInt(spec, "healthCheckNodePort").value_or(0) == 0 && oldHc)
      spec["healthCheckNodePort"] = *oldHc;
    else if (!needsHealthCheck(spec) && sameJson(getVal(spec, "healthCheckNodePort"), oldHc))
      spec.erase("healthCheckNodePort");
  }
  bool needsNodePorts = type == "NodePort" || type == "LoadBalancer";
  bool hadNodePorts = oldType == "NodePort" || oldType == "LoadBalancer";
  json::array* ports = getArrMut(spec, "ports");
  const json::array* oldPorts = getArr(oldSpec, "ports");
  if (ports == nullptr || oldPorts == nullptr) return;
  for (auto& pv : *ports) {
    json::object* p = pv.if_object();
    if (p == nullptr) continue;
    for (const auto& ov : *oldPorts) {
      const json::object* o = ov.if_object();
      if (o == nullptr || getInt(*o, "port") != getInt(*p, "port")) continue;
      std::string proto(getStr(*p, "protocol").empty() ? "TCP" : getStr(*p, "protocol"));
      if (getStr(*o, "protocol") != proto) continue;
      if (needsNodePorts && hadNodePorts && getInt(*p, "nodePort").value_or(0) == 0 &&
          has(*o, "nodePort")) {
        (*p)["nodePort"] = o->at("nodePort");
      } else if (!needsNodePorts && hadNodePorts &&
                 sameJson(getVal(*p, "nodePort"), getVal(*o, "nodePort"))) {
        p->erase("nodePort");
      }
    }
  }
  if (!needsNodePorts && hadNodePorts &&
      sameJson(getVal(spec, "externalTrafficPolicy"), getVal(oldSpec, "externalTrafficPolicy"))) {
    spec.erase("externalTrafficPolicy");
  }
}

}  // namespace

const KindOps& serviceOps() {
  static const KindOps ops = [] {
    KindOps o;
    o.nameFn = nameIsDns1035Label;
    o.defaults = serviceDefaults;
    o.validate = serviceValidate;
    o.validateUpdate = serviceValidateUpdate;
    o.prepareCreate = servicePrepareCreate;
    o.prepareUpdate = servicePrepareUpdate;
    return o;
  }();
  return ops;
}

}  // namespace berth::core::kinds::detail
