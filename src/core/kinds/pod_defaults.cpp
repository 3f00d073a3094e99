// PodSpec defaulting shared by Pods and every pod template, after upstream
// pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec, _Container, _Probe, _HTTPGetAction, volume
// sources), plus the pod QoS class (pkg/apis/core/helper/qos).
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

constexpr int64_t kDefaultFileMode = 0644;  // 420, the default mode of projected files

// The tag of an image reference ("" when it has a digest and no tag); "latest" when neither.
std::string imageTag(std::string_view image) {
  size_t at = image.find('@');
  bool digest = at != std::string_view::npos;
  std::string_view name = digest ? image.substr(0, at) : image;
  size_t slash = name.rfind('/');
  std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  size_t colon = last.rfind(':');
  if (colon != std::string_view::npos) return std::string(last.substr(colon + 1));
  return digest ? "" : "latest";
}

void defaultHandler(json::object& handler) {
  if (json::object* get = getObjMut(handler, "httpGet")) {
    if (getStr(*get, "path").empty()) (*get)["path"] = "/";
    if (getStr(*get, "scheme").empty()) (*get)["scheme"] = "HTTP";
  }
}

void defaultProbe(json::object& probe) {
  setDefault(probe, "timeoutSeconds", 1);
  setDefault(probe, "periodSeconds", 10);
  setDefault(probe, "successThreshold", 1);
  setDefault(probe, "failureThreshold", 3);
  defaultHandler(probe);
}

void defaultEnv(json::array& env) {
  for (auto& ev : env) {
    json::object* e = ev.if_object();
    if (e == nullptr) continue;
    json::object* from = getObjMut(*e, "valueFrom");
    if (from == nullptr) continue;
    if (json::object* ref = getObjMut(*from, "fieldRef")) setDefault(*ref, "apiVersion", "v1");
  }
}

void defaultContainer(json::object& c, bool hostNetwork) {
  // Go serializes the non-pointer ResourceRequirements struct even when empty.
  if (!c.if_contains("resources") || !c.at("resources").is_object()) c["resources"] = json::object();
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  if (getStr(c, "imagePullPolicy").empty()) {
    c["imagePullPolicy"] = imageTag(getStr(c, "image")) == "latest" ? "Always" : "IfNotPresent";
  }
  if (json::array* ports = getArrMut(c, "ports")) {
    for (auto& pv : *ports) {
      json::object* p = pv.if_object();
      if (p == nullptr) continue;
      if (getStr(*p, "protocol").empty()) (*p)["protocol"] = "TCP";
      if (hostNetwork && getInt(*p, "hostPort").value_or(0) == 0 && has(*p, "containerPort")) {
        (*p)["hostPort"] = (*p)["containerPort"];
      }
    }
  }
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (json::object* p = getObjMut(c, probe)) defaultProbe(*p);
  }
  if (json::object* lc = getObjMut(c, "lifecycle")) {
    for (const char* h : {"postStart", "preStop"}) {
      if (json::object* hp = getObjMut(*lc, h)) defaultHandler(*hp);
    }
  }
  if (json::array* env = getArrMut(c, "env")) defaultEnv(*env);
  // Requests default to limits (SetDefaults_Pod).
  if (json::object* res = getObjMut(c, "resources")) {
    if (const json::object* found = getObj(*res, "limits"); found && !found->empty()) {
      json::object limits = *found;  // copied: inserting requests may move it
      json::object& requests = ensureObj(*res, "requests");
      for (const auto& [k, v] : limits) {
        if (!requests.contains(k)) requests[k] = v;
      }
    }
  }
}

void defaultVolumes(json::array& volumes) {
  for (auto& vv : volumes) {
    json::object* v = vv.if_object();
    if (v == nullptr) continue;
    for (const char* src : {"secret", "configMap", "downwardAPI", "projected"}) {
      if (json::object* s = getObjMut(*v, src)) setDefault(*s, "defaultMode", kDefaultFileMode);
    }
    if (json::object* hp = getObjMut(*v, "hostPath")) setDefault(*hp, "type", "");
    if (json::object* da = getObjMut(*v, "downwardAPI")) {
      if (json::array* items = getArrMut(*da, "items")) {
        for (auto& iv : *items) {
          if (json::object* i = iv.if_object()) {
            if (json::object* ref = getObjMut(*i, "fieldRef")) setDefault(*ref, "apiVersion", "v1");
          }
        }
      }
    }
    // A volume without a source is an emptyDir (SetDefaults_Volume).
    bool hasSource = false;
    for (const auto& [k, val] : *v) hasSource = hasSource || (k != "name" && !val.is_null());
    if (!hasSource) (*v)["emptyDir"] = json::object();
  }
}

struct Resources {
  bool anySet = false;
  bool guaranteed = true;
};

void accumulateQos(const json::array* containers, Resources& r) {
  if (containers == nullptr) return;
  for (const auto& cv : *containers) {
    const json::object* c = cv.if_object();
    if (c == nullptr) continue;
    const json::object* res = getObj(*c, "resources");
    const json::object* limits = res ? getObj(*res, "limits") : nullptr;
    const json::object* requests = res ? getObj(*res, "requests") : nullptr;
    for (const char* name : {"cpu", "memory"}) {
      const json::value* l = limits ? getVal(*limits, name) : nullptr;
      const json::value* q = requests ? getVal(*requests, name) : nullptr;
      if (q == nullptr) q = l;  // requests default to limits
      auto value = [](const json::value* v) -> std::optional<long double> {
        if (v == nullptr) return std::nullopt;
        if (v->is_string()) return parseQuantity(v->get_string());
        if (v->is_number()) return v->to_number<double>();
        return std::nullopt;
      };
      auto lv = value(l);
      auto qv = value(q);
      if ((lv && *lv != 0) || (qv && *qv != 0)) r.anySet = true;
      if (!lv || !qv || *lv != *qv) r.guaranteed = false;
    }
  }
}

}  // namespace

void defaultPodSpec(json::object& spec) {
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", json::object());
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "enableServiceLinks", true);
  bool hostNetwork = getBool(spec, "hostNetwork").value_or(false);
  for (const char* list : {"initContainers", "containers"}) {
    if (json::array* cs = getArrMut(spec, list)) {
      for (auto& cv : *cs) {
        if (json::object* c = cv.if_object()) defaultContainer(*c, hostNetwork);
      }
    }
  }
  if (json::array* volumes = getArrMut(spec, "volumes")) defaultVolumes(*volumes);
  // The deprecated serviceAccount field mirrors serviceAccountName (v1 conversion).
  std::string sa(getStr(spec, "serviceAccountName"));
  std::string deprecated(getStr(spec, "serviceAccount"));
  if (!sa.empty() && deprecated.empty()) spec["serviceAccount"] = sa;
  if (sa.empty() && !deprecated.empty()) spec["serviceAccountName"] = deprecated;
}

void defaultPodTemplate(json::object& tmpl) {
  // A template's ObjectMeta is a Go struct whose zero creationTimestamp serializes as null;
  // upstream objects always show it, so both the JSON and the protobuf path store it.
  json::object& meta = ensureObj(tmpl, "metadata");
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = nullptr;
  defaultPodSpec(ensureObj(tmpl, "spec"));
}

std::string podQosClass(const json::object& spec) {
  Resources r;
  accumulateQos(getArr(spec, "initContainers"), r);
  accumulateQos(getArr(spec, "containers"), r);
  if (!r.anySet) return "BestEffort";
  return r.guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace berth::core::kinds::detail
