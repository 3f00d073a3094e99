// Kinds of the smaller groups: autoscaling HorizontalPodAutoscaler (v2 storage form),
// networking.k8s.io Ingress and IngressClass, discovery.k8s.io EndpointSlice,
// coordination.k8s.io Lease, events.k8s.io Event, scheduling.k8s.io PriorityClass and
// policy PodDisruptionBudget. After upstream pkg/apis/<group>/{v1,v2}/defaults.go and
// pkg/apis/<group>/validation.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const json::object kEmpty;

const json::object& specOf(const json::object& obj) {
  const json::object* s = getObj(obj, "spec");
  return s != nullptr ? *s : kEmpty;
}

// ---- HorizontalPodAutoscaler (autoscaling/v2) -------------------------------------------------

json::object scalingRules(int64_t window, json::array policies) {
  return json::object{{"stabilizationWindowSeconds", window},
                      {"selectPolicy", "Max"},
                      {"policies", std::move(policies)}};
}

void fillRules(json::object& behavior, const char* which, const json::object& defaults) {
  json::object& rules = ensureObj(behavior, which);
  for (const auto& [k, v] : defaults) setDefault(rules, k, v);
}

void hpaDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  setDefault(spec, "minReplicas", 1);
  const json::array* metrics = getArr(spec, "metrics");
  if (metrics == nullptr || metrics->empty()) {
    spec["metrics"] = json::array{json::object{
        {"type", "Resource"},
        {"resource",
         json::object{{"name", "cpu"},
                      {"target", json::object{{"type", "Utilization"},
                                              {"averageUtilization", 80}}}}}}};
  }
  if (json::object* behavior = getObjMut(spec, "behavior")) {
    fillRules(*behavior, "scaleUp",
              scalingRules(0, json::array{json::object{{"type", "Pods"}, {"value", 4},
                                                       {"periodSeconds", 15}},
                                          json::object{{"type", "Percent"}, {"value", 100},
                                                       {"periodSeconds", 15}}}));
    fillRules(*behavior, "scaleDown",
              scalingRules(300, json::array{json::object{{"type", "Percent"}, {"value", 100},
                                                         {"periodSeconds", 15}}}));
  }
}

void validateMetricTarget(const json::object* target, const std::string& path, FieldErrors& errs) {
  if (target == nullptr) {
    addRequired(errs, path, "must specify a metric target");
    return;
  }
  std::string_view type = getStr(*target, "type");
  if (type.empty()) {
    addRequired(errs, child(path, "type"), "must specify a metric target type");
  } else if (type != "Utilization" && type != "Value" && type != "AverageValue") {
    addNotSupported(errs, child(path, "type"), goQuote(type),
                    {"AverageValue", "Utilization", "Value"});
  }
  if (auto u = getInt(*target, "averageUtilization"); u && *u < 1) {
    addInvalidInt(errs, child(path, "averageUtilization"), *u, "must be greater than 0");
  }
  if (type == "Utilization" && !has(*target, "averageUtilization")) {
    addRequired(errs, child(path, "averageUtilization"),
                "must set either a target raw value or a target utilization");
  }
}

void hpaValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  auto minReplicas = getInt(spec, "minReplicas");
  int64_t maxReplicas = getInt(spec, "maxReplicas").value_or(0);
  if (minReplicas && *minReplicas < 1) {
    addInvalidInt(errs, "spec.minReplicas", *minReplicas, "must be greater than or equal to 1");
  }
  if (maxReplicas < 1) addInvalidInt(errs, "spec.maxReplicas", maxReplicas, "must be greater than 0");
  if (minReplicas && maxReplicas < *minReplicas) {
    addInvalidInt(errs, "spec.maxReplicas", maxReplicas,
                  "must be greater than or equal to `minReplicas`");
  }
  const json::object* ref = getObj(spec, "scaleTargetRef");
  for (const char* f : {"kind", "name"}) {
    std::string_view v = ref ? getStr(*ref, f) : "";
    std::string p = child("spec.scaleTargetRef", f);
    if (v.empty()) {
      addRequired(errs, p);
    } else {
      for (const auto& m : validatePathSegmentName(v, false)) addInvalidStr(errs, p, v, m);
    }
  }
  const json::array* metrics = getArr(spec, "metrics");
  static const std::vector<std::string> kTypes = {"ContainerResource", "External", "Object",
                                                  "Pods", "Resource"};
  for (size_t i = 0; metrics && i < metrics->size(); ++i) {
    const json::object* m = (*metrics)[i].if_object();
    if (m == nullptr) continue;
    std::string p = index("spec.metrics", i);
    std::string_view type = getStr(*m, "type");
    if (type.empty()) {
      addRequired(errs, child(p, "type"), "must specify a metric source type");
      continue;
    }
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      addNotSupported(errs, child(p, "type"), goQuote(type), kTypes);
      continue;
    }
    std::string field(type);
    field[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(field[0])));
    const json::object* source = getObj(*m, field);
    if (source == nullptr) {
      addRequired(errs, child(p, field), "must populate information for the given metric source");
      continue;
    }
    if ((type == "Resource" || type == "ContainerResource") && getStr(*source, "name").empty()) {
      addRequired(errs, child(child(p, field), "name"), "must specify a resource name");
    }
    validateMetricTarget(getObj(*source, "target"), child(child(p, field), "target"), errs);
  }
}

void hpaPrepareCreate(json::object& obj) {
  obj["status"] = json::object{{"desiredReplicas", 0}};
}

// ---- Ingress / IngressClass -------------------------------------------------------------------

void validateIngressBackend(const json::object& b, const std::string& path, FieldErrors& errs) {
  const json::object* svc = getObj(b, "service");
  bool hasResource = has(b, "resource");
  if (svc != nullptr && hasResource) {
    addInvalid(errs, path, "\"\"", "cannot set both resource and service backends");
    return;
  }
  if (hasResource) return;
  if (svc == nullptr) {
    addInvalid(errs, path, "\"\"", "resource or service backend is required");
    return;
  }
  std::string_view name = getStr(*svc, "name");
  if (name.empty()) {
    addRequired(errs, child(path, "service.name"));
  } else {
    for (const auto& m : isDns1035Label(name)) addInvalidStr(errs, child(path, "service.name"), name, m);
  }
  const json::object* port = getObj(*svc, "port");
  std::string_view portName = port ? getStr(*port, "name") : "";
  int64_t number = port ? getInt(*port, "number").value_or(0) : 0;
  if (!portName.empty() && number != 0) {
    addInvalid(errs, path, "\"\"", "cannot set both port name & port number");
  } else if (!portName.empty()) {
    for (const auto& m : isValidPortName(portName)) {
      addInvalidStr(errs, child(path, "service.port.name"), portName, m);
    }
  } else if (number != 0) {
    for (const auto& m : isValidPortNum(number)) {
      addInvalidInt(errs, child(path, "service.port.number"), number, m);
    }
  } else {
    addRequired(errs, path, "port name or number is required");
  }
}

void validateIngressPath(const json::object& path, const std::string& p, FieldErrors& errs) {
  std::string_view type = getStr(path, "pathType");
  std::string_view value = getStr(path, "path");
  if (!hasStr(path, "pathType")) {
    addRequired(errs, child(p, "pathType"), "pathType must be specified");
    return;
  }
  if (type == "Exact" || type == "Prefix") {
    if (value.empty() || value[0] != '/') {
      addInvalidStr(errs, child(p, "path"), value, "must be an absolute path");
    }
    for (const char* seq : {"//", "/./", "/../", "%2f", "%2F"}) {
      if (value.find(seq) != std::string_view::npos) {
        addInvalidStr(errs, child(p, "path"), value, "must not contain '" + std::string(seq) + "'");
      }
    }
    for (const char* suffix : {"/..", "/."}) {
      std::string_view s(suffix);
      if (value.size() >= s.size() && value.substr(value.size() - s.size()) == s) {
        addInvalidStr(errs, child(p, "path"), value, "cannot end with '" + std::string(s) + "'");
      }
    }
  } else if (type == "ImplementationSpecific") {
    if (!value.empty() && value[0] != '/') {
      addInvalidStr(errs, child(p, "path"), value, "must be an absolute path");
    }
  } else {
    addNotSupported(errs, child(p, "pathType"), goQuote(type),
                    {"Exact", "ImplementationSpecific", "Prefix"});
  }
  const json::object* backend = getObj(path, "backend");
  validateIngressBackend(backend ? *backend : kEmpty, child(p, "backend"), errs);
}

void ingressValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::array* rules = getArr(spec, "rules");
  const json::object* defaultBackend = getObj(spec, "defaultBackend");
  if ((rules == nullptr || rules->empty()) && defaultBackend == nullptr) {
    addInvalid(errs, "spec", rules ? "[]networking.IngressRule{}" : "[]networking.IngressRule(nil)",
               "either `defaultBackend` or `rules` must be specified");
  }
  if (defaultBackend != nullptr) validateIngressBackend(*defaultBackend, "spec.defaultBackend", errs);
  for (size_t i = 0; rules && i < rules->size(); ++i) {
    const json::object* r = (*rules)[i].if_object();
    if (r == nullptr) continue;
    std::string p = index("spec.rules", i);
    std::string_view host = getStr(*r, "host");
    if (!host.empty()) {
      if (isValidIp(host)) {
        addInvalidStr(errs, child(p, "host"), host, "must be a DNS name, not an IP address");
      }
      auto msgs = host.find('*') != std::string_view::npos ? isWildcardDns1123Subdomain(host)
                                                            : isDns1123Subdomain(host);
      for (const auto& m : msgs) addInvalidStr(errs, child(p, "host"), host, m);
    }
    const json::object* http = getObj(*r, "http");
    if (http == nullptr) continue;
    const json::array* paths = getArr(*http, "paths");
    if (paths == nullptr || paths->empty()) addRequired(errs, child(p, "http.paths"));
    for (size_t j = 0; paths && j < paths->size(); ++j) {
      if (const json::object* path = (*paths)[j].if_object()) {
        validateIngressPath(*path, index(child(p, "http.paths"), j), errs);
      }
    }
  }
  std::string_view cls = getStr(spec, "ingressClassName");
  if (!cls.empty()) {
    for (const auto& m : isDns1123Subdomain(cls)) addInvalidStr(errs, "spec.ingressClassName", cls, m);
  }
}

void ingressPrepareCreate(json::object& obj) {
  obj["status"] = json::object{{"loadBalancer", json::object()}};
}

void ingressClassValidate(const json::object& obj, FieldErrors& errs) {
  std::string_view controller = getStr(specOf(obj), "controller");
  if (controller.size() > 250) addTooLong(errs, "spec.controller", 250);
  if (controller.empty()) {
    addRequired(errs, "spec.controller");
    return;
  }
  size_t slash = controller.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == controller.size()) {
    addInvalidStr(errs, "spec.controller", controller,
                  "must be a domain-prefixed path (such as \"acme.io/foo\")");
    return;
  }
  std::string_view host = controller.substr(0, slash);
  for (const auto& m : isDns1123Subdomain(host)) addInvalidStr(errs, "spec.controller", host, m);
}

void ingressClassValidateUpdate(const json::object& obj, const json::object& old,
                                FieldErrors& errs) {
  validateImmutable(getVal(specOf(obj), "controller"), getVal(specOf(old), "controller"),
                    "spec.controller", errs);
}

// ---- EndpointSlice ----------------------------------------------------------------------------

void endpointSliceDefaults(json::object& obj) {
  json::array* ports = getArrMut(obj, "ports");
  for (size_t i = 0; ports && i < ports->size(); ++i) {
    if (json::object* p = (*ports)[i].if_object()) {
      setDefault(*p, "name", "");
      setDefault(*p, "protocol", "TCP");
    }
  }
}

void endpointSliceValidate(const json::object& obj, FieldErrors& errs) {
  std::string_view type = getStr(obj, "addressType");
  if (type.empty()) {
    addRequired(errs, "addressType");
  } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
    addNotSupported(errs, "addressType", goQuote(type), {"FQDN", "IPv4", "IPv6"});
  }
  const json::array* endpoints = getArr(obj, "endpoints");
  for (size_t i = 0; endpoints && i < endpoints->size(); ++i) {
    const json::object* e = (*endpoints)[i].if_object();
    if (e == nullptr) continue;
    std::string ap = child(index("endpoints", i), "addresses");
    const json::array* addrs = getArr(*e, "addresses");
    if (addrs == nullptr || addrs->empty()) addRequired(errs, ap, "must contain at least 1 address");
    for (size_t j = 0; addrs && j < addrs->size(); ++j) {
      std::string_view a = (*addrs)[j].is_string() ? std::string_view((*addrs)[j].get_string()) : "";
      bool v6 = a.find(':') != std::string_view::npos;
      if (type == "IPv4" && (v6 || !isValidIp(a))) {
        addInvalidStr(errs, index(ap, j), a, "must be a valid IPv4 address");
      } else if (type == "IPv6" && (!v6 || !isValidIp(a))) {
        addInvalidStr(errs, index(ap, j), a, "must be a valid IPv6 address");
      } else if (type == "FQDN") {
        for (const auto& m : isDns1123Subdomain(a)) addInvalidStr(errs, index(ap, j), a, m);
      }
    }
  }
  const json::array* ports = getArr(obj, "ports");
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; ports && i < ports->size(); ++i) {
    const json::object* p = (*ports)[i].if_object();
    if (p == nullptr) continue;
    std::string pp = index("ports", i);
    std::string_view name = getStr(*p, "name");
    if (!name.empty()) {
      for (const auto& m : isDns1123Label(name)) addInvalidStr(errs, child(pp, "name"), name, m);
    }
    if (!names.emplace(name).second) addDuplicate(errs, child(pp, "name"), goQuote(name));
    std::string_view proto = getStr(*p, "protocol");
    if (proto.empty()) {
      addRequired(errs, child(pp, "protocol"));
    } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
      addNotSupported(errs, child(pp, "protocol"), goQuote(proto), {"SCTP", "TCP", "UDP"});
    }
  }
}

void endpointSliceValidateUpdate(const json::object& obj, const json::object& old,
                                 FieldErrors& errs) {
  validateImmutable(getVal(obj, "addressType"), getVal(old, "addressType"), "addressType", errs);
}

// ---- Lease, events.k8s.io Event -----------------------------------------------------------------

void leaseValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  if (auto d = getInt(spec, "leaseDurationSeconds"); d && *d <= 0) {
    addInvalidInt(errs, "spec.leaseDurationSeconds", *d, "must be greater than 0");
  }
  validateNonnegative(spec, "leaseTransitions", "spec.leaseTransitions", errs);
}

void eventsV1Validate(const json::object& obj, FieldErrors& errs) {
  if (getStr(obj, "eventTime").empty()) addRequired(errs, "eventTime");
  std::string_view type = getStr(obj, "type");
  if (type != "Normal" && type != "Warning") {
    addInvalid(errs, "type", "\"\"", "has invalid value: " + std::string(type));
  }
  const json::object* meta = getObj(obj, "metadata");
  std::string_view ns = meta ? getStr(*meta, "namespace") : "";
  const json::object* regarding = getObj(obj, "regarding");
  std::string_view rNs = regarding ? getStr(*regarding, "namespace") : "";
  if (rNs.empty() ? (ns != "default" && ns != "kube-system") : false) {
    addInvalidStr(errs, "involvedObject.namespace", rNs, "does not match event.namespace");
  }
  std::string_view rc = getStr(obj, "reportingController");
  if (rc.empty()) addRequired(errs, "reportingController");
  for (const auto& m : isQualifiedName(rc)) addInvalidStr(errs, "reportingController", rc, m);
  for (const char* f : {"reportingInstance", "action", "reason"}) {
    std::string_view v = getStr(obj, f);
    if (v.empty()) addRequired(errs, f);
    if (v.size() > 128) addInvalid(errs, f, "\"\"", "can have at most 128 characters");
  }
  if (getStr(obj, "note").size() > 1024) {
    addInvalid(errs, "note", "\"\"", "can have at most 1024 characters");
  }
}

// ---- PriorityClass ----------------------------------------------------------------------------

void priorityClassValidate(const json::object& obj, FieldErrors& errs) {
  const json::object* meta = getObj(obj, "metadata");
  std::string_view name = meta ? getStr(*meta, "name") : "";
  int64_t value = getInt(obj, "value").value_or(0);
  bool globalDefault = getBool(obj, "globalDefault").value_or(false);
  if (name.substr(0, 7) == "system-") {
    std::string err;
    if (name == "system-node-critical" || name == "system-cluster-critical") {
      int64_t expected = name == "system-node-critical" ? 2000001000 : 2000000000;
      if (value != expected) {
        err = "value of " + std::string(name) + " PriorityClass must be " + std::to_string(expected);
      } else if (globalDefault) {
        err = "globalDefault of " + std::string(name) + " PriorityClass must be false";
      }
    } else {
      err = std::string(name) + " is not a known system priority class";
    }
    if (!err.empty()) {
      addForbidden(errs, "metadata.name",
                   "priority class names with 'system-' prefix are reserved for system use only. "
                   "error: " + err);
    }
  } else if (value > 1000000000) {
    addForbidden(errs, "value", "maximum allowed value of a user defined priority is 1000000000");
  }
  if (hasStr(obj, "preemptionPolicy")) {
    std::string_view p = getStr(obj, "preemptionPolicy");
    if (p != "PreemptLowerPriority" && p != "Never") {
      addNotSupported(errs, "preemptionPolicy", goQuote(p), {"PreemptLowerPriority", "Never"});
    }
  }
}

void priorityClassValidateUpdate(const json::object& obj, const json::object& old,
                                 FieldErrors& errs) {
  if (getInt(obj, "value").value_or(0) != getInt(old, "value").value_or(0)) {
    addForbidden(errs, "value", "may not be changed in an update.");
  }
  validateImmutable(getVal(obj, "preemptionPolicy"), getVal(old, "preemptionPolicy"),
                    "preemptionPolicy", errs);
}

// ---- PodDisruptionBudget ----------------------------------------------------------------------

void pdbValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::value* minAvailable = getVal(spec, "minAvailable");
  const json::value* maxUnavailable = getVal(spec, "maxUnavailable");
  if (minAvailable && maxUnavailable) {
    addInvalid(errs, "spec", json::serialize(spec), "minAvailable and maxUnavailable cannot be both set");
  }
  if (minAvailable) {
    validatePositiveIntOrPercent(*minAvailable, "spec.minAvailable", errs);
    validateNotMoreThan100Percent(*minAvailable, "spec.minAvailable", errs);
  }
  if (maxUnavailable) {
    validatePositiveIntOrPercent(*maxUnavailable, "spec.maxUnavailable", errs);
    validateNotMoreThan100Percent(*maxUnavailable, "spec.maxUnavailable", errs);
  }
  if (const json::object* sel = getObj(spec, "selector")) validateLabelSelector(*sel, "spec.selector", errs);
  if (hasStr(spec, "unhealthyPodEvictionPolicy")) {
    std::string_view p = getStr(spec, "unhealthyPodEvictionPolicy");
    if (p != "AlwaysAllow" && p != "IfHealthyBudget") {
      addNotSupported(errs, "spec.unhealthyPodEvictionPolicy", goQuote(p),
                      {"AlwaysAllow", "IfHealthyBudget"});
    }
  }
}

void pdbPrepareCreate(json::object& obj) {
  obj["status"] = json::object{{"disruptionsAllowed", 0},
                               {"currentHealthy", 0},
                               {"desiredHealthy", 0},
                               {"expectedPods", 0}};
}

}  // namespace

const KindOps* rbacOps(std::string_view kind);
const KindOps* networkPolicyOps();  // network_policy.cpp

const KindOps* otherOps(std::string_view group, std::string_view kind) {
  auto make = [](auto fn) {
    KindOps o;
    fn(o);
    return o;
  };
  static const KindOps hpa = make([](KindOps& o) {
    o.defaults = hpaDefaults;
    o.validate = hpaValidate;
    o.prepareCreate = hpaPrepareCreate;
  });
  static const KindOps ingress = make([](KindOps& o) {
    o.validate = ingressValidate;
    o.prepareCreate = ingressPrepareCreate;
  });
  static const KindOps ingressClass = make([](KindOps& o) {
    o.validate = ingressClassValidate;
    o.validateUpdate = ingressClassValidateUpdate;
  });
  static const KindOps endpointSlice = make([](KindOps& o) {
    o.defaults = endpointSliceDefaults;
    o.validate = endpointSliceValidate;
    o.validateUpdate = endpointSliceValidateUpdate;
  });
  static const KindOps lease = make([](KindOps& o) { o.validate = leaseValidate; });
  static const KindOps eventsV1 = make([](KindOps& o) { o.validate = eventsV1Validate; });
  static const KindOps priorityClass = make([](KindOps& o) {
    o.defaults = [](json::object& obj) { setDefault(obj, "preemptionPolicy", "PreemptLowerPriority"); };
    o.validate = priorityClassValidate;
    o.validateUpdate = priorityClassValidateUpdate;
  });
  static const KindOps pdb = make([](KindOps& o) {
    o.validate = pdbValidate;
    o.prepareCreate = pdbPrepareCreate;
  });
  if (group == "autoscaling" && kind == "HorizontalPodAutoscaler") return &hpa;
  if (group == "networking.k8s.io" && kind == "Ingress") return &ingress;
  if (group == "networking.k8s.io" && kind == "IngressClass") return &ingressClass;
  if (group == "networking.k8s.io" && kind == "NetworkPolicy") return networkPolicyOps();
  if (group == "discovery.k8s.io" && kind == "EndpointSlice") return &endpointSlice;
  if (group == "coordination.k8s.io" && kind == "Lease") return &lease;
  if (group == "events.k8s.io" && kind == "Event") return &eventsV1;
  if (group == "scheduling.k8s.io" && kind == "PriorityClass") return &priorityClass;
  if (group == "policy" && kind == "PodDisruptionBudget") return &pdb;
  if (group == "rbac.authorization.k8s.io") return rbacOps(kind);
  return nullptr;
}

}  // namespace berth::core::kinds::detail
