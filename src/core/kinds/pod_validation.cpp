// PodSpec and PodTemplateSpec validation, after upstream pkg/apis/core/validation
// (ValidatePodSpec, validateContainers, validateContainerPorts, validateProbe, ValidateEnv,
// ValidateTolerations, ValidateVolumes, resource requirements).
#include <set>

#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};
const std::vector<std::string> kRestartPolicies = {"Always", "OnFailure", "Never"};
const std::vector<std::string> kDnsPolicies = {"ClusterFirst", "ClusterFirstWithHostNet",
                                               "Default", "None"};
const std::vector<std::string> kPullPolicies = {"Always", "IfNotPresent", "Never"};
const std::vector<std::string> kTerminationMessagePolicies = {"FallbackToLogsOnError", "File"};
const std::vector<std::string> kTaintEffects = {"NoSchedule", "PreferNoSchedule", "NoExecute"};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& e : v) {
    if (e == s) return true;
  }
  return false;
}

void validatePortNumOrName(const json::value* port, const std::string& path, FieldErrors& errs) {
  if (port == nullptr) {
    addRequired(errs, path);
  } else if (port->is_string()) {
    for (const auto& m : isValidPortName(port->get_string())) {
      addInvalidStr(errs, path, port->get_string(), m);
    }
  } else if (port->is_int64()) {
    for (const auto& m : isValidPortNum(port->get_int64())) {
      addInvalidInt(errs, path, port->get_int64(), m);
    }
  } else {
    addInvalid(errs, path, formatValue(*port), "must be an integer or a port name");
  }
}

void validateHandler(const json::object& h, const std::string& path, FieldErrors& errs,
                     bool probe) {
  int handlers = 0;
  auto counted = [&](const char* name) {
    if (++handlers > 1) {
      addForbidden(errs, child(path, name), "may not specify more than 1 handler type");
      return false;
    }
    return true;
  };
  if (const json::object* exec = getObj(h, "exec"); exec && counted("exec")) {
    const json::array* cmd = getArr(*exec, "command");
    if (cmd == nullptr || cmd->empty()) addRequired(errs, child(path, "exec.command"));
  }
  if (const json::object* get = getObj(h, "httpGet"); get && counted("httpGet")) {
    if (getStr(*get, "path").empty()) addRequired(errs, child(path, "httpGet.path"));
    validatePortNumOrName(getVal(*get, "port"), child(path, "httpGet.port"), errs);
    std::string_view scheme = getStr(*get, "scheme");
    if (scheme != "HTTP" && scheme != "HTTPS") {
      addNotSupported(errs, child(path, "httpGet.scheme"), goQuote(scheme), {"HTTP", "HTTPS"});
    }
  }
  if (const json::object* tcp = getObj(h, "tcpSocket"); tcp && counted("tcpSocket")) {
    validatePortNumOrName(getVal(*tcp, "port"), child(path, "tcpSocket.port"), errs);
  }
  if (const json::object* grpc = getObj(h, "grpc"); probe && grpc && counted("grpc")) {
    auto port = getInt(*grpc, "port").value_or(0);
    for (const auto& m : isValidPortNum(port)) addInvalidInt(errs, child(path, "grpc.port"), port, m);
  }
  if (const json::object* sleep = getObj(h, "sleep"); !probe && sleep && counted("sleep")) {
    validateNonnegative(*sleep, "seconds", child(path, "sleep.seconds"), errs);
  }
  if (handlers == 0) addRequired(errs, path, "must specify a handler type");
}

void validateProbe(const json::object& c, const char* name, const std::string& cpath,
                   FieldErrors& errs) {
  const json::object* p = getObj(c, name);
  if (p == nullptr) return;
  std::string path = child(cpath, name);
  validateHandler(*p, path, errs, true);
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                        "successThreshold", "failureThreshold"}) {
    validateNonnegative(*p, f, child(path, f), errs);
  }
  if (std::string_view(name) != "readinessProbe") {
    if (auto st = getInt(*p, "successThreshold"); st && *st != 1) {
      addInvalidInt(errs, child(path, "successThreshold"), *st, "must be 1");
    }
  }
  if (auto g = getInt(*p, "terminationGracePeriodSeconds"); g && *g <= 0) {
    addInvalidInt(errs, child(path, "terminationGracePeriodSeconds"), *g, "must be greater than 0");
  }
}

void validatePorts(const json::array* ports, const std::string& path, FieldErrors& errs) {
  if (ports == nullptr) return;
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < ports->size(); ++i) {
    std::string p = index(path, i);
    const json::object* port = (*ports)[i].if_object();
    if (port == nullptr) continue;
    std::string_view name = getStr(*port, "name");
    if (!name.empty()) {
      auto msgs = isValidPortName(name);
      for (const auto& m : msgs) addInvalidStr(errs, child(p, "name"), name, m);
      if (msgs.empty() && !names.emplace(name).second) {
        addDuplicate(errs, child(p, "name"), goQuote(name));
      }
    }
    auto cp = getInt(*port, "containerPort").value_or(0);
    if (cp == 0) {
      addRequired(errs, child(p, "containerPort"));
    } else {
      for (const auto& m : isValidPortNum(cp)) addInvalidInt(errs, child(p, "containerPort"), cp, m);
    }
    if (auto hp = getInt(*port, "hostPort").value_or(0); hp != 0) {
      for (const auto& m : isValidPortNum(hp)) addInvalidInt(errs, child(p, "hostPort"), hp, m);
    }
    std::string_view proto = getStr(*port, "protocol");
    if (proto.empty()) {
      addRequired(errs, child(p, "protocol"));
    } else if (!contains(kProtocols, proto)) {
      addNotSupported(errs, child(p, "protocol"), goQuote(proto), kProtocols);
    }
  }
}

void validateEnv(const json::array* env, const std::string& path, FieldErrors& errs) {
  if (env == nullptr) return;
  for (size_t i = 0; i < env->size(); ++i) {
    const json::object* e = (*env)[i].if_object();
    if (e == nullptr) continue;
    std::string p = index(path, i);
    std::string_view name = getStr(*e, "name");
    if (name.empty()) {
      addRequired(errs, child(p, "name"));
    } else {
      for (const auto& m : isEnvVarName(name)) addInvalidStr(errs, child(p, "name"), name, m);
    }
    if (has(*e, "valueFrom") && !getStr(*e, "value").empty()) {
      addInvalid(errs, child(p, "valueFrom"), "\"\"",
                 "may not be specified when `value` is not empty");
    }
  }
}

void validateResources(const json::object* res, const std::string& path, FieldErrors& errs) {
  if (res == nullptr) return;
  const json::object* limits = getObj(*res, "limits");
  const json::object* requests = getObj(*res, "requests");
  validateResourceList(limits, child(path, "limits"), errs);
  validateResourceList(requests, child(path, "requests"), errs);
  if (limits == nullptr || requests == nullptr) return;
  for (const auto& [k, v] : *requests) {
    const json::value* l = getVal(*limits, k);
    if (l == nullptr || !l->is_string() || !v.is_string()) continue;
    auto lq = parseQuantity(l->get_string());
    auto rq = parseQuantity(v.get_string());
    if (lq && rq && *rq > *lq) {
      addInvalidStr(errs, key(child(path, "requests"), k), v.get_string(),
                    "must be less than or equal to " + std::string(k) + " limit of " +
                        std::string(l->get_string()));
    }
  }
}

void validateContainer(const json::object& c, const std::string& p,
                       const std::set<std::string, std::less<>>& volumes, FieldErrors& errs,
                       bool init) {
  std::string_view image = getStr(c, "image");
  if (image.empty()) {
    addRequired(errs, child(p, "image"));
  } else if (image.front() == ' ' || image.back() == ' ' || image.front() == '\t' ||
             image.back() == '\t' || image.back() == '\n') {
    addInvalidStr(errs, child(p, "image"), image, "must not have leading or trailing whitespace");
  }
  validatePorts(getArr(c, "ports"), child(p, "ports"), errs);
  validateEnv(getArr(c, "env"), child(p, "env"), errs);
  if (const json::array* mounts = getArr(c, "volumeMounts")) {
    std::set<std::string, std::less<>> paths;
    for (size_t i = 0; i < mounts->size(); ++i) {
      const json::object* m = (*mounts)[i].if_object();
      if (m == nullptr) continue;
      std::string mp = index(child(p, "volumeMounts"), i);
      std::string_view name = getStr(*m, "name");
      if (name.empty()) {
        addRequired(errs, child(mp, "name"));
      } else if (!volumes.contains(name)) {
        addNotFound(errs, child(mp, "name"), goQuote(name));
      }
      std::string_view mountPath = getStr(*m, "mountPath");
      if (mountPath.empty()) {
        addRequired(errs, child(mp, "mountPath"));
      } else if (!paths.emplace(mountPath).second) {
        addInvalidStr(errs, child(mp, "mountPath"), mountPath, "must be unique");
      }
    }
  }
  validateResources(getObj(c, "resources"), child(p, "resources"), errs);
  if (init) {
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      // Only restartable (sidecar) init containers may have probes.
      if (has(c, probe) && getStr(c, "restartPolicy") != "Always") {
        addForbidden(errs, child(p, probe), "may not be set for init containers without "
                                            "restartPolicy=Always");
      }
    }
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    validateProbe(c, probe, p, errs);
  }
  if (const json::object* lc = getObj(c, "lifecycle")) {
    for (const char* h : {"postStart", "preStop"}) {
      if (const json::object* hp = getObj(*lc, h)) {
        validateHandler(*hp, child(child(p, "lifecycle"), h), errs, false);
      }
    }
  }
  std::string_view pull = getStr(c, "imagePullPolicy");
  if (pull.empty()) {
    addRequired(errs, child(p, "imagePullPolicy"));
  } else if (!contains(kPullPolicies, pull)) {
    addNotSupported(errs, child(p, "imagePullPolicy"), goQuote(pull), kPullPolicies);
  }
  std::string_view tmp = getStr(c, "terminationMessagePolicy");
  if (tmp.empty()) {
    addRequired(errs, child(p, "terminationMessagePolicy"),
                "must be 'File' or 'FallbackToLogsOnError'");
  } else if (!contains(kTerminationMessagePolicies, tmp)) {
    addInvalidStr(errs, child(p, "terminationMessagePolicy"), tmp,
                  "must be 'File' or 'FallbackToLogsOnError'");
  }
}

void validateContainers(const json::object& spec, const std::string& path,
                        const std::set<std::string, std::less<>>& volumes, FieldErrors& errs) {
  std::set<std::string, std::less<>> names;
  for (const char* list : {"initContainers", "containers"}) {
    bool init = std::string_view(list) == "initContainers";
    const json::array* cs = getArr(spec, list);
    if (cs == nullptr || cs->empty()) {
      if (!init) addRequired(errs, child(path, list));
      continue;
    }
    for (size_t i = 0; i < cs->size(); ++i) {
      std::string p = index(child(path, list), i);
      const json::object* c = (*cs)[i].if_object();
      if (c == nullptr) {
        addInvalid(errs, p, formatValue((*cs)[i]), "must be an object");
        continue;
      }
      std::string_view name = getStr(*c, "name");
      if (name.empty()) {
        addRequired(errs, child(p, "name"));
      } else {
        auto msgs = isDns1123Label(name);
        for (const auto& m : msgs) addInvalidStr(errs, child(p, "name"), name, m);
        if (msgs.empty() && !names.emplace(name).second) {
          addDuplicate(errs, child(p, "name"), goQuote(name));
        }
      }
      validateContainer(*c, p, volumes, errs, init);
    }
  }
}

void validateTolerations(const json::array* tolerations, const std::string& path,
                         FieldErrors& errs) {
  if (tolerations == nullptr) return;
  for (size_t i = 0; i < tolerations->size(); ++i) {
    const json::object* t = (*tolerations)[i].if_object();
    if (t == nullptr) continue;
    std::string p = index(path, i);
    std::string_view k = getStr(*t, "key");
    if (!k.empty()) {
      for (const auto& m : isQualifiedName(k)) addInvalidStr(errs, child(p, "key"), k, m);
    }
    std::string_view op = getStr(*t, "operator");
    if (k.empty() && op != "Exists") {
      addInvalidStr(errs, child(p, "operator"), op,
                    "operator must be Exists when `key` is empty, which means \"match all values "
                    "and all keys\"");
    }
    std::string_view effect = getStr(*t, "effect");
    if (has(*t, "tolerationSeconds") && effect != "NoExecute") {
      addInvalidStr(errs, child(p, "effect"), effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    std::string_view value = getStr(*t, "value");
    if (op == "" || op == "Equal") {
      for (const auto& m : isValidLabelValue(value)) {
        addInvalidStr(errs, child(p, "operator"), value, m);
      }
    } else if (op == "Exists") {
      if (!value.empty()) {
        addInvalidStr(errs, child(p, "operator"), value,
                      "value must be empty when `operator` is 'Exists'");
      }
    } else {
      addNotSupported(errs, child(p, "operator"), goQuote(op), {"Equal", "Exists"});
    }
    if (!effect.empty() && !contains(kTaintEffects, effect)) {
      addNotSupported(errs, child(p, "effect"), goQuote(effect), kTaintEffects);
    }
  }
}

std::set<std::string, std::less<>> validateVolumes(const json::array* volumes,
                                                   const std::string& path, FieldErrors& errs) {
  std::set<std::string, std::less<>> names;
  if (volumes == nullptr) return names;
  for (size_t i = 0; i < volumes->size(); ++i) {
    const json::object* v = (*volumes)[i].if_object();
    if (v == nullptr) continue;
    std::string p = index(path, i);
    std::string_view name = getStr(*v, "name");
    if (name.empty()) {
      addRequired(errs, child(p, "name"));
    } else {
      auto msgs = isDns1123Label(name);
      for (const auto& m : msgs) addInvalidStr(errs, child(p, "name"), name, m);
      if (msgs.empty() && !names.emplace(name).second) {
        addDuplicate(errs, child(p, "name"), goQuote(name));
      }
    }
    int sources = 0;
    for (const auto& [k, val] : *v) sources += k != "name" && !val.is_null();
    if (sources == 0) addRequired(errs, p, "must specify a volume type");
  }
  return names;
}

// upstream ValidateHostAliases: each ip a valid IP, each hostname a DNS-1123 subdomain.
void validateHostAliases(const json::array* aliases, const std::string& path, FieldErrors& errs) {
  for (size_t i = 0; aliases && i < aliases->size(); ++i) {
    const json::object* a = (*aliases)[i].if_object();
    if (a == nullptr) continue;
    std::string p = index(path, i);
    std::string_view ip = getStr(*a, "ip");
    if (!isValidIp(ip))
      addInvalidStr(errs, child(p, "ip"), ip,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    const json::array* names = getArr(*a, "hostnames");
    for (size_t j = 0; names && j < names->size(); ++j) {
      std::string_view name =
          (*names)[j].is_string() ? std::string_view((*names)[j].as_string()) : std::string_view();
      for (const auto& m : isDns1123Subdomain(name))
        addInvalidStr(errs, index(child(p, "hostnames"), j), name, m);
    }
  }
}

}  // namespace

void validatePodSpec(const json::object& spec, const std::string& path, FieldErrors& errs) {
  auto volumes = validateVolumes(getArr(spec, "volumes"), child(path, "volumes"), errs);
  validateContainers(spec, path, volumes, errs);
  std::string_view restart = getStr(spec, "restartPolicy");
  if (restart.empty()) {
    addRequired(errs, child(path, "restartPolicy"));
  } else if (!contains(kRestartPolicies, restart)) {
    addNotSupported(errs, child(path, "restartPolicy"), goQuote(restart), kRestartPolicies);
  }
  std::string_view dns = getStr(spec, "dnsPolicy");
  if (dns.empty()) {
    addRequired(errs, child(path, "dnsPolicy"));
  } else if (!contains(kDnsPolicies, dns)) {
    addNotSupported(errs, child(path, "dnsPolicy"), goQuote(dns), kDnsPolicies);
  } else if (dns == "None" && !has(spec, "dnsConfig")) {
    addRequired(errs, child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
  }
  validateLabels(getObj(spec, "nodeSelector"), child(path, "nodeSelector"), errs);
  for (const char* f : {"serviceAccountName", "nodeName"}) {
    std::string_view v = getStr(spec, f);
    if (v.empty()) continue;
    for (const auto& m : isDns1123Subdomain(v)) addInvalidStr(errs, child(path, f), v, m);
  }
  for (const char* f : {"hostname", "subdomain"}) {
    std::string_view v = getStr(spec, f);
    if (v.empty()) continue;
    for (const auto& m : isDns1123Label(v)) addInvalidStr(errs, child(path, f), v, m);
  }
  validateHostAliases(getArr(spec, "hostAliases"), child(path, "hostAliases"), errs);
  if (auto ads = getInt(spec, "activeDeadlineSeconds"); ads && (*ads < 1 || *ads > INT32_MAX)) {
    addInvalidInt(errs, child(path, "activeDeadlineSeconds"), *ads,
                  "must be between 1 and 2147483647, inclusive");
  }
  validateTolerations(getArr(spec, "tolerations"), child(path, "tolerations"), errs);
  std::string_view preemption = getStr(spec, "preemptionPolicy");
  if (hasStr(spec, "preemptionPolicy") && preemption != "Never" &&
      preemption != "PreemptLowerPriority") {
    addNotSupported(errs, child(path, "preemptionPolicy"), goQuote(preemption),
                    {"Never", "PreemptLowerPriority"});
  }
}

void validatePodTemplate(const json::object* tmpl, const std::string& path, FieldErrors& errs,
                         const std::vector<std::string>& restartPolicies) {
  if (tmpl == nullptr) {
    addRequired(errs, path);
    return;
  }
  if (const json::object* meta = getObj(*tmpl, "metadata")) {
    validateLabels(getObj(*meta, "labels"), child(path, "metadata.labels"), errs);
    validateAnnotations(getObj(*meta, "annotations"), child(path, "metadata.annotations"), errs);
  }
  static const json::object kEmpty;
  const json::object* spec = getObj(*tmpl, "spec");
  validatePodSpec(spec ? *spec : kEmpty, child(path, "spec"), errs);
  if (restartPolicies.empty() || spec == nullptr) return;
  std::string_view restart = getStr(*spec, "restartPolicy");
  if (!restart.empty() && !contains(restartPolicies, restart)) {
    addNotSupported(errs, child(path, "spec.restartPolicy"), goQuote(restart), restartPolicies);
  }
}

}  // namespace berth::core::kinds::detail
