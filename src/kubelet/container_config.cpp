#include "kubelet/container_config.h"

#include <boost/json.hpp>

#include <cmath>
#include <set>

#include "core/base64.h"

namespace json = boost::json;

namespace berth::kubelet {

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
const json::object* obj(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}
const json::array* arr(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}
long long intField(const json::object& o, std::string_view key, long long fallback) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<long long>(v->as_uint64());
  return fallback;
}
bool boolField(const json::object& o, std::string_view key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

std::optional<long double> parseQuantity(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  size_t digits = i;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == digits) return std::nullopt;
  long double number;
  try {
    number = std::stold(s.substr(0, i));
  } catch (...) {
    return std::nullopt;
  }
  std::string suffix = s.substr(i);
  static const std::map<std::string, long double> multipliers = {
      {"", 1},          {"n", 1e-9},         {"u", 1e-6},         {"m", 1e-3},
      {"k", 1e3},       {"M", 1e6},          {"G", 1e9},          {"T", 1e12},
      {"P", 1e15},      {"E", 1e18},         {"Ki", 1024.0L},     {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L}};
  if (auto it = multipliers.find(suffix); it != multipliers.end()) return number * it->second;
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    try {
      size_t used = 0;
      int exp = std::stoi(suffix.substr(1), &used);
      if (used == suffix.size() - 1) return number * std::pow(10.0L, exp);
    } catch (...) {
    }
  }
  return std::nullopt;
}

std::string expandVars(const std::string& in, const std::map<std::string, std::string>& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    if (in[i + 1] == '$') {  // $$ -> $
      out += '$';
      ++i;
      continue;
    }
    if (in[i + 1] == '(') {
      size_t close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        if (auto it = env.find(name); it != env.end()) {
          out += it->second;
          i = close;
          continue;
        }
        out += in.substr(i, close - i + 1);
        i = close;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

namespace {

std::vector<std::string> stringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto* a = arr(o, key))
    for (const auto& v : *a)
      if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

}  // namespace

std::vector<std::string> containerArgs(const json::object& container,
                                       const images::ImageConfig& image,
                                       const std::map<std::string, std::string>& env) {
  auto command = stringList(container, "command");
  auto args = stringList(container, "args");
  std::vector<std::string> out;
  if (!command.empty()) {
    out = command;
    for (auto& a : out) a = expandVars(a, env);
    for (const auto& a : args) out.push_back(expandVars(a, env));
    return out;
  }
  out = image.entrypoint;
  if (!args.empty()) {
    for (const auto& a : args) out.push_back(expandVars(a, env));
  } else {
    out.insert(out.end(), image.cmd.begin(), image.cmd.end());
  }
  return out;
}

namespace {

core::Status configError(std::string msg) { return core::Status::badRequest(std::move(msg)); }

// data[key] of a ConfigMap (binaryData too) or Secret (base64-decoded).
core::Result<std::optional<std::string>> lookupKey(ObjectSource& source, const std::string& ns,
                                                   const json::object& ref, bool secret) {
  std::string name = str(ref, "name"), key = str(ref, "key");
  bool optional = boolField(ref, "optional", false);
  auto o = secret ? source.secret(ns, name) : source.configMap(ns, name);
  if (!o.ok()) {
    if (optional && o.status().isNotFound()) return std::optional<std::string>();
    if (o.status().isNotFound())
      return configError(std::string(secret ? "secret" : "configmap") + " \"" + name +
                         "\" not found");
    return o.status();
  }
  if (auto* data = obj(*o, "data"); data && data->contains(key)) {
    std::string v = str(*data, key);
    if (!secret) return std::optional<std::string>(v);
    auto decoded = core::base64Decode(v);
    if (decoded) return std::optional<std::string>(*decoded);
  }
  if (!secret)
    if (auto* bin = obj(*o, "binaryData"); bin && bin->contains(key))
      if (auto d = core::base64Decode(str(*bin, key))) return std::optional<std::string>(*d);
  if (optional) return std::optional<std::string>();
  return configError("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") +
                     ns + "/" + name);
}

std::optional<std::string> fieldPathValue(const json::object& pod, const std::string& path,
                                          const PodRuntimeFacts& facts) {
  const json::object empty;
  const auto* meta = obj(pod, "metadata");
  const auto* spec = obj(pod, "spec");
  if (!meta) meta = &empty;
  if (!spec) spec = &empty;
  if (path == "metadata.name") return str(*meta, "name");
  if (path == "metadata.namespace") return str(*meta, "namespace");
  if (path == "metadata.uid") return str(*meta, "uid");
  if (path == "spec.nodeName") return facts.nodeName;
  if (path == "spec.serviceAccountName") return str(*spec, "serviceAccountName");
  if (path == "status.hostIP" || path == "status.hostIPs") return facts.hostIP;
  if (path == "status.podIP") return facts.podIP;
  if (path == "status.podIPs") {
    // As upstream: the pod's IPs joined by commas, primary first.
    std::string all;
    for (const auto& ip : facts.podIPs) all += (all.empty() ? "" : ",") + ip;
    return all.empty() ? facts.podIP : all;
  }
  for (const char* which : {"labels", "annotations"}) {
    std::string prefix = std::string("metadata.") + which + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2 &&
        path.substr(path.size() - 2) == "']") {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      const auto* m = obj(*meta, which);
      return m ? str(*m, key) : std::string();
    }
  }
  return std::nullopt;
}

std::string formatNumber(long double v) {
  long long rounded = static_cast<long long>(std::ceil(v - 1e-9L));
  return std::to_string(rounded);
}

core::Result<std::string> resourceFieldValue(const json::object& pod,
                                             const json::object& container,
                                             const json::object& ref,
                                             const PodRuntimeFacts& facts) {
  std::string resource = str(ref, "resource");
  const json::object* target = &container;
  if (std::string name = str(ref, "containerName"); !name.empty()) {
    target = nullptr;
    if (const auto* spec = obj(pod, "spec"))
      if (const auto* cs = arr(*spec, "containers"))
        for (const auto& c : *cs)
          if (c.is_object() && str(c.as_object(), "name") == name) target = &c.as_object();
    if (!target) return configError("container " + name + " not found for resourceFieldRef");
  }
  auto dot = resource.find('.');
  if (dot == std::string::npos) return configError("unsupported resource " + resource);
  std::string kind = resource.substr(0, dot), res = resource.substr(dot + 1);
  long double value = 0;
  bool set = false;
  if (const auto* r = obj(*target, "resources"))
    if (const auto* m = obj(*r, kind))
      if (auto q = parseQuantity(str(*m, res))) {
        value = *q;
        set = true;
      }
  if (!set) {  // unset limits (and requests) default to the node's allocatable
    if (res == "cpu") value = static_cast<long double>(facts.nodeMilliCpu) / 1000;
    else if (res == "memory") value = static_cast<long double>(facts.nodeMemoryBytes);
    else if (kind == "requests") value = 0;
  }
  long double divisor = 1;
  if (auto d = parseQuantity(str(ref, "divisor")); d && *d > 0) divisor = *d;
  return formatNumber(value / divisor);
}

}  // namespace

core::Result<std::vector<std::pair<std::string, std::string>>> resolveEnv(
    const json::object& pod, const json::object& container, ObjectSource& source,
    const PodRuntimeFacts& facts) {
  std::string ns;
  if (const auto* meta = obj(pod, "metadata")) ns = str(*meta, "namespace");
  std::vector<std::pair<std::string, std::string>> out;
  std::map<std::string, std::string> seen;
  auto put = [&](const std::string& k, const std::string& v) {
    out.emplace_back(k, v);
    seen[k] = v;
  };
  if (const auto* from = arr(container, "envFrom")) {
    for (const auto& f : *from) {
      if (!f.is_object()) continue;
      const auto& fo = f.as_object();
      std::string prefix = str(fo, "prefix");
      bool secret = obj(fo, "secretRef") != nullptr;
      const auto* ref = secret ? obj(fo, "secretRef") : obj(fo, "configMapRef");
      if (!ref) continue;
      std::string name = str(*ref, "name");
      auto o = secret ? source.secret(ns, name) : source.configMap(ns, name);
      if (!o.ok()) {
        if (boolField(*ref, "optional", false) && o.status().isNotFound()) continue;
        if (o.status().isNotFound())
          return configError(std::string(secret ? "secret" : "configmap") + " \"" + name +
                             "\" not found");
        return o.status();
      }
      if (const auto* data = obj(*o, "data")) {
        for (const auto& [k, v] : *data) {
          if (!v.is_string()) continue;
          std::string value(v.as_string());
          if (secret) value = core::base64Decode(value).value_or("");
          put(prefix + std::string(k), value);
        }
      }
    }
  }
  if (const auto* env = arr(container, "env")) {
    for (const auto& e : *env) {
      if (!e.is_object()) continue;
      const auto& eo = e.as_object();
      std::string name = str(eo, "name");
      const auto* from = obj(eo, "valueFrom");
      if (!from) {
        put(name, expandVars(str(eo, "value"), seen));
        continue;
      }
      if (const auto* ref = obj(*from, "configMapKeyRef")) {
        auto v = lookupKey(source, ns, *ref, false);
        if (!v.ok()) return v.status();
        if (*v) put(name, **v);
      } else if (const auto* ref = obj(*from, "secretKeyRef")) {
        auto v = lookupKey(source, ns, *ref, true);
        if (!v.ok()) return v.status();
        if (*v) put(name, **v);
      } else if (const auto* ref = obj(*from, "fieldRef")) {
        auto v = fieldPathValue(pod, str(*ref, "fieldPath"), facts);
        if (!v) return configError("unsupported fieldPath " + str(*ref, "fieldPath"));
        put(name, *v);
      } else if (const auto* ref = obj(*from, "resourceFieldRef")) {
        auto v = resourceFieldValue(pod, container, *ref, facts);
        if (!v.ok()) return v.status();
        put(name, *v);
      }
    }
  }
  return out;
}

std::vector<std::string> mergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::pair<std::string, std::string>> merged;
  std::map<std::string, size_t> index;
  auto put = [&](const std::string& k, const std::string& v) {
    if (auto it = index.find(k); it != index.end()) {
      merged[it->second].second = v;
      return;
    }
    index[k] = merged.size();
    merged.emplace_back(k, v);
  };
  for (const auto& kv : imageEnv) {
    auto eq = kv.find('=');
    put(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  for (const auto& [k, v] : env) put(k, v);
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

runtime::ContainerResources containerResources(const json::object& container) {
  runtime::ContainerResources r;
  const auto* res = obj(container, "resources");
  const json::object empty;
  const auto* requests = res ? obj(*res, "requests") : nullptr;
  const auto* limits = res ? obj(*res, "limits") : nullptr;
  if (!requests) requests = &empty;
  if (!limits) limits = &empty;
  auto milli = [](const json::object& m, const char* k) -> long long {
    auto q = parseQuantity(str(m, k));
    return q ? static_cast<long long>(std::ceil(*q * 1000 - 1e-6L)) : 0;
  };
  long long reqCpu = milli(*requests, "cpu");
  long long limCpu = milli(*limits, "cpu");
  if (reqCpu == 0) reqCpu = limCpu;  // requests default to limits
  r.cpuShares = runtime::milliCpuToShares(reqCpu);
  r.cpuQuotaMicros = runtime::milliCpuToQuota(limCpu);
  if (auto q = parseQuantity(str(*limits, "memory"))) r.memoryLimitBytes = static_cast<long long>(*q);
  return r;
}

std::string podQosClass(const json::object& pod) {
  const auto* spec = obj(pod, "spec");
  if (!spec) return "BestEffort";
  bool any = false, guaranteed = true;
  for (const char* list : {"initContainers", "containers"}) {
    const auto* cs = arr(*spec, list);
    if (!cs) continue;
    for (const auto& c : *cs) {
      if (!c.is_object()) continue;
      const auto* res = obj(c.as_object(), "resources");
      const json::object empty;
      const auto* req = res ? obj(*res, "requests") : nullptr;
      const auto* lim = res ? obj(*res, "limits") : nullptr;
      if (!req) req = &empty;
      if (!lim) lim = &empty;
      for (const char* r : {"cpu", "memory"}) {
        std::string rq = str(*req, r), lm = str(*lim, r);
        if (!rq.empty() || !lm.empty()) any = true;
        if (lm.empty()) {
          guaranteed = false;
          continue;
        }
        auto a = parseQuantity(rq.empty() ? lm : rq), b = parseQuantity(lm);
        if (!a || !b || std::fabs(static_cast<double>(*a - *b)) > 1e-9) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace berth::kubelet
