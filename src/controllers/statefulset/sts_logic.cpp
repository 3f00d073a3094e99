#include "controllers/statefulset/sts_logic.h"

#include <cctype>

namespace berth::controllers::statefulset {

namespace json = boost::json;

std::optional<long long> ordinalOf(const std::string& setName, const std::string& podName) {
  if (podName.size() <= setName.size() + 1 || !podName.starts_with(setName) ||
      podName[setName.size()] != '-') {
    return std::nullopt;
  }
  std::string digits = podName.substr(setName.size() + 1);
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // "web-01" is not web-1
  return std::stoll(digits);
}

long long startOrdinal(const json::value& set) {
  return intAt(objAt(set, "spec", "ordinals"), "start").value_or(0);
}

long long replicasOf(const json::value& set) { return intAt(specOf(set), "replicas").value_or(1); }

std::vector<json::object> claimsFor(const json::value& set, long long ordinal) {
  std::vector<json::object> out;
  const json::value* templates = specOf(set).if_contains("volumeClaimTemplates");
  if (!templates || !templates->is_array()) return out;
  std::string setName = strAt(metaOf(set), "name");
  const json::object& matchLabels = objAt(set, "spec", "selector", "matchLabels");
  for (const json::value& t : templates->get_array()) {
    if (!t.is_object()) continue;
    json::object claim = t.get_object();
    json::value& metaSlot = claim["metadata"];
    if (!metaSlot.is_object()) metaSlot = json::object();
    json::object& meta = metaSlot.as_object();
    std::string templateName = strAt(meta, "name");
    meta["name"] = templateName + "-" + setName + "-" + std::to_string(ordinal);
    meta["namespace"] = strAt(metaOf(set), "namespace");
    json::value& labels = meta["labels"];
    if (!labels.is_object()) labels = json::object();
    for (const auto& [k, v] : matchLabels) labels.as_object()[k] = v;
    meta.erase("creationTimestamp");
    claim["apiVersion"] = "v1";
    claim["kind"] = "PersistentVolumeClaim";
    claim.erase("status");
    out.push_back(std::move(claim));
  }
  return out;
}

json::object newPod(const json::value& set, const json::object& tmpl, long long ordinal,
                    const std::string& revision) {
  std::string setName = strAt(metaOf(set), "name");
  std::string ns = strAt(metaOf(set), "namespace");
  json::object pod = podFromTemplate(tmpl, ns, "", newControllerRef(set, "apps/v1", "StatefulSet"));
  std::string name = setName + "-" + std::to_string(ordinal);
  json::object& meta = pod["metadata"].as_object();
  meta.erase("generateName");
  meta["name"] = name;
  json::value& labels = meta["labels"];
  if (!labels.is_object()) labels = json::object();
  labels.as_object()[kPodNameLabel] = name;
  labels.as_object()[kPodIndexLabel] = std::to_string(ordinal);
  labels.as_object()[kRevisionLabel] = revision;
  json::value& specSlot = pod["spec"];
  if (!specSlot.is_object()) specSlot = json::object();
  json::object& spec = specSlot.as_object();
  spec["hostname"] = name;
  std::string service = strAt(specOf(set), "serviceName");
  if (!service.empty()) spec["subdomain"] = service;
  // Each claim template becomes (or replaces) the pod volume of the same name.
  const json::value* templates = specOf(set).if_contains("volumeClaimTemplates");
  if (templates && templates->is_array()) {
    json::value& volumes = spec["volumes"];
    if (!volumes.is_array()) volumes = json::array();
    for (const json::value& t : templates->get_array()) {
      std::string volName = strAt(objAt(t, "metadata"), "name");
      json::object vol{{"name", volName},
                       {"persistentVolumeClaim",
                        {{"claimName", volName + "-" + setName + "-" + std::to_string(ordinal)}}}};
      bool replaced = false;
      for (json::value& v : volumes.as_array()) {
        if (v.is_object() && strAt(v.get_object(), "name") == volName) {
          v = vol;
          replaced = true;
        }
      }
      if (!replaced) volumes.as_array().push_back(std::move(vol));
    }
  }
  return pod;
}

json::object revisionTemplate(const json::value& revision) {
  json::object tmpl = objAt(revision, "data", "spec", "template");
  tmpl.erase("$patch");
  return tmpl;
}

bool isRunningAndReady(const json::value& pod) {
  return podPhase(pod) == "Running" && isPodReady(pod);
}

bool isRunningAndAvailable(const json::value& pod, long long minReadySeconds, SystemTime now) {
  return podPhase(pod) == "Running" && isPodAvailable(pod, minReadySeconds, now);
}

bool isHealthy(const json::value& pod) { return isRunningAndReady(pod) && !isBeingDeleted(pod); }

}  // namespace berth::controllers::statefulset
