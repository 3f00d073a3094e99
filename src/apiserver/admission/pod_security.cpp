// PodSecurity (upstream's pod-security-admission): each namespace's
// `pod-security.kubernetes.io/<mode>` and `<mode>-version` labels choose a level per mode.
// enforce rejects pods with 403 `violates PodSecurity "<level>:<version>": ...`; warn adds
// `would violate PodSecurity ...` warnings; workload templates (Deployments, Jobs, ...) get
// warnings for their enforce and warn levels. The audit level annotates the request's audit event
// (`pod-security.kubernetes.io/audit-violations`), and every evaluated pod's event names the
// enforce policy (`.../enforce-policy`). Nothing is exempt by default; unlabelled namespaces are
// privileged.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

#include "apiserver/admission/json_util.h"
#include "apiserver/admission/plugins.h"
#include "apiserver/admission/pod_security_policy.h"

namespace berth::apiserver::admission {

namespace json = boost::json;
using podsecurity::evaluatePod;
using podsecurity::Level;
using podsecurity::LevelVersion;

namespace {

constexpr std::string_view kLabelPrefix = "pod-security.kubernetes.io/";
constexpr const char* kModes[] = {"enforce", "audit", "warn"};

struct Policy {
  LevelVersion enforce, audit, warn;
};

// Upstream's PolicyToEvaluate: a malformed level reads as restricted, a malformed version as
// latest (the namespace's validation rejects both on write; older objects may still carry them).
LevelVersion modePolicy(const json::object* labels, std::string_view mode) {
  LevelVersion lv;
  if (!labels) return lv;
  std::string key = std::string(kLabelPrefix) + std::string(mode);
  if (labels->contains(key)) lv.level = podsecurity::parseLevel(stringField(*labels, key)).value_or(Level::kRestricted);
  if (labels->contains(key + "-version"))
    lv.minor = podsecurity::parseVersion(stringField(*labels, key + "-version")).value_or(-1);
  return lv;
}

Policy policyOf(const json::object& ns) {
  const auto* meta = objectField(ns, "metadata");
  const auto* labels = meta ? objectField(*meta, "labels") : nullptr;
  return {modePolicy(labels, "enforce"), modePolicy(labels, "audit"), modePolicy(labels, "warn")};
}

std::vector<core::StatusCause> validateLabels(const json::object& ns) {
  std::vector<core::StatusCause> causes;
  const auto* meta = objectField(ns, "metadata");
  const auto* labels = meta ? objectField(*meta, "labels") : nullptr;
  if (!labels) return causes;
  for (const char* mode : kModes) {
    std::string key = std::string(kLabelPrefix) + mode;
    auto add = [&](const std::string& k, const char* why) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + goQuote(stringField(*labels, k)) + ": " + why,
                        "metadata.labels[" + k + "]"});
    };
    if (labels->contains(key) && !podsecurity::parseLevel(stringField(*labels, key)))
      add(key, "must be one of privileged, baseline, restricted");
    if (labels->contains(key + "-version") &&
        !podsecurity::parseVersion(stringField(*labels, key + "-version")))
      add(key + "-version", "must be \"latest\" or \"v1.x\"");
  }
  return causes;
}

// A pod template's metadata and spec in a workload object, or nulls.
std::pair<const json::object*, const json::object*> templateOf(const Attributes& a,
                                                               const json::object& obj) {
  const json::object* tmpl = nullptr;
  const auto& rt = *a.resource;
  if (rt.group.empty() && rt.plural == "podtemplates") {
    tmpl = objectField(obj, "template");
  } else if (rt.group == "batch" && rt.plural == "cronjobs") {
    const auto* spec = objectField(obj, "spec");
    const auto* jt = spec ? objectField(*spec, "jobTemplate") : nullptr;
    const auto* js = jt ? objectField(*jt, "spec") : nullptr;
    tmpl = js ? objectField(*js, "template") : nullptr;
  } else {
    const auto* spec = objectField(obj, "spec");
    tmpl = spec ? objectField(*spec, "template") : nullptr;
  }
  if (!tmpl) return {nullptr, nullptr};
  static const json::object kEmpty;
  const auto* meta = objectField(*tmpl, "metadata");
  return {meta ? meta : &kEmpty, objectField(*tmpl, "spec")};
}

bool isWorkload(const core::ResourceType& rt) {
  if (rt.group.empty()) return rt.plural == "replicationcontrollers" || rt.plural == "podtemplates";
  if (rt.group == "apps")
    return rt.plural == "deployments" || rt.plural == "replicasets" ||
           rt.plural == "statefulsets" || rt.plural == "daemonsets";
  if (rt.group == "batch") return rt.plural == "jobs" || rt.plural == "cronjobs";
  return false;
}

// The parts of a pod the checks read: an update that changes none of them is not evaluated
// (upstream's isSignificantPodUpdate: labels, status and most annotations do not count).
json::object securityRelevant(const json::object& pod) {
  json::object out;
  if (const auto* spec = objectField(pod, "spec")) out["spec"] = *spec;
  if (const auto* meta = objectField(pod, "metadata")) {
    if (const auto* ann = objectField(*meta, "annotations")) {
      json::object keep;
      for (const auto& [k, v] : *ann) {
        std::string_view key = k;
        if (key.find("apparmor.security.beta.kubernetes.io/") != std::string_view::npos ||
            key.find("seccomp.security.alpha.kubernetes.io/") != std::string_view::npos)
          keep[k] = v;
      }
      out["annotations"] = std::move(keep);
    }
  }
  return out;
}

class PodSecurity : public Plugin {
 public:
  explicit PodSecurity(const ObjectReader& reader) : reader_(reader) {}
  std::string_view name() const override { return "PodSecurity"; }

  core::Status validate(const Attributes& a) override {
    if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return {};
    if (!a.object) return {};
    const auto& rt = *a.resource;
    if (rt.group.empty() && rt.plural == "namespaces" && a.subresource.empty())
      return validateNamespace(a);
    if (rt.group.empty() && rt.plural == "pods" &&
        (a.subresource.empty() || a.subresource == "ephemeralcontainers"))
      return validatePod(a);
    if (isWorkload(rt) && a.subresource.empty()) return validateWorkload(a);
    return {};
  }

 private:
  static void auditViolations(const Attributes& a, const LevelVersion& audit,
                              const json::object& meta, const json::object& spec) {
    if (audit.level == Level::kPrivileged) return;
    auto failed = evaluatePod(audit, meta, spec);
    if (!failed.empty())
      a.annotate(std::string(kLabelPrefix) + "audit-violations",
                 "would violate PodSecurity \"" + audit.str() +
                     "\": " + podsecurity::forbiddenDetail(failed));
  }

  std::optional<Policy> namespacePolicy(const std::string& ns) const {
    static const auto* nsType = core::findResource("", "v1", "namespaces");
    auto obj = reader_.get(*nsType, "", ns);
    if (!obj) return std::nullopt;
    return policyOf(*obj);
  }

  core::Status validatePod(const Attributes& a) {
    if (a.operation == Operation::kUpdate && a.oldObject &&
        securityRelevant(*a.object) == securityRelevant(*a.oldObject))
      return {};
    auto policy = namespacePolicy(a.ns);
    if (!policy) return {};
    static const json::object kEmpty;
    const auto* meta = objectField(*a.object, "metadata");
    const auto* spec = objectField(*a.object, "spec");
    if (!spec) return {};
    if (!meta) meta = &kEmpty;
    a.annotate(std::string(kLabelPrefix) + "enforce-policy", policy->enforce.str());
    auditViolations(a, policy->audit, *meta, *spec);
    auto denied = evaluatePod(policy->enforce, *meta, *spec);
    if (!denied.empty()) {
      return forbidden(a, "violates PodSecurity \"" + policy->enforce.str() +
                              "\": " + podsecurity::forbiddenDetail(denied));
    }
    if (!(policy->warn == policy->enforce)) {
      auto warned = evaluatePod(policy->warn, *meta, *spec);
      if (!warned.empty())
        a.warn("would violate PodSecurity \"" + policy->warn.str() +
               "\": " + podsecurity::forbiddenDetail(warned));
    }
    return {};
  }

  core::Status validateWorkload(const Attributes& a) {
    auto [meta, spec] = templateOf(a, *a.object);
    if (!spec) return {};
    if (a.operation == Operation::kUpdate && a.oldObject) {
      auto [oldMeta, oldSpec] = templateOf(a, *a.oldObject);
      if (oldSpec && *oldSpec == *spec && oldMeta && *oldMeta == *meta) return {};
    }
    auto policy = namespacePolicy(a.ns);
    if (!policy) return {};
    // Workloads are never rejected: their pods are. The enforce and warn levels both warn; the
    // audit level annotates.
    auditViolations(a, policy->audit, *meta, *spec);
    std::vector<LevelVersion> levels{policy->enforce};
    if (!(policy->warn == policy->enforce)) levels.push_back(policy->warn);
    for (const auto& lv : levels) {
      auto failed = evaluatePod(lv, *meta, *spec);
      if (!failed.empty())
        a.warn("would violate PodSecurity \"" + lv.str() +
               "\": " + podsecurity::forbiddenDetail(failed));
    }
    return {};
  }

  core::Status validateNamespace(const Attributes& a) {
    auto causes = validateLabels(*a.object);
    if (!causes.empty()) return core::Status::invalid("", "Namespace", a.name, std::move(causes));
    if (a.operation != Operation::kUpdate || !a.oldObject) return {};
    auto now = policyOf(*a.object).enforce, before = policyOf(*a.oldObject).enforce;
    if (now == before || now.level == Level::kPrivileged) return {};
    warnExistingPods(a, now);
    return {};
  }

  // Upstream lists the namespace's pods that the new enforce level would reject, grouping pods
  // that fail the same checks: `a (and 2 other pods): host namespaces, privileged`.
  void warnExistingPods(const Attributes& a, const LevelVersion& lv) const {
    static const auto* podType = core::findResource("", "v1", "pods");
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // reasons → pods
    for (const auto& podRef : reader_.list(*podType, a.name)) {
      const json::object& pod = *podRef;
      const auto* meta = objectField(pod, "metadata");
      const auto* spec = objectField(pod, "spec");
      if (!meta || !spec) continue;
      auto failed = evaluatePod(lv, *meta, *spec);
      if (failed.empty()) continue;
      std::string reasons = podsecurity::forbiddenReasons(failed);
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == reasons; });
      if (it == groups.end()) it = groups.insert(groups.end(), {reasons, {}});
      it->second.push_back(stringField(*meta, "name"));
    }
    if (groups.empty()) return;
    a.warn("existing pods in namespace \"" + a.name +
           "\" violate the new PodSecurity enforce level \"" + lv.str() + "\"");
    for (const auto& [reasons, pods] : groups) {
      std::string who = pods.front();
      if (pods.size() == 2) who += " (and 1 other pod)";
      if (pods.size() > 2) who += " (and " + std::to_string(pods.size() - 1) + " other pods)";
      a.warn(who + ": " + reasons);
    }
  }

  const ObjectReader& reader_;
};

}  // namespace

std::unique_ptr<Plugin> newPodSecurity(const ObjectReader& reader) {
  return std::make_unique<PodSecurity>(reader);
}

}  // namespace berth::apiserver::admission
