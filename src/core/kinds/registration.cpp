// Cluster configuration kinds stored as objects: admissionregistration.k8s.io/v1
// ValidatingWebhookConfiguration and MutatingWebhookConfiguration, flowcontrol.apiserver.k8s.io/v1
// FlowSchema and PriorityLevelConfiguration, apiregistration.k8s.io/v1 APIService. Defaults and
// validation essentials of upstream pkg/apis/admissionregistration/{v1/defaults.go,validation},
// pkg/apis/flowcontrol/{v1/defaults.go,validation} and kube-aggregator's
// pkg/apis/apiregistration/validation (1.32). Webhooks are called by
// src/apiserver/admission/webhook.cpp; requests are not queued by priority level.
#include <set>

#include "cel/admission_env.h"
#include "core/kinds/internal.h"
#include "core/kinds/more_kinds.h"
#include "core/kinds/strategy.h"

namespace berth::core::kinds::detail {
namespace {

void requireEnum(const json::object& o, std::string_view k, const std::string& path,
                 const std::vector<std::string>& valid, FieldErrors& errs, bool required) {
  if (!hasStr(o, k) || getStr(o, k).empty()) {
    if (required) addRequired(errs, path);
    return;
  }
  std::string_view v = getStr(o, k);
  if (std::find(valid.begin(), valid.end(), v) == valid.end()) {
    addNotSupported(errs, path, goQuote(v), valid);
  }
}

// ---- webhooks ---------------------------------------------------------------------------------

void webhookDefaults(json::object& obj, bool mutating) {
  json::array* hooks = getArrMut(obj, "webhooks");
  for (size_t i = 0; hooks && i < hooks->size(); ++i) {
    json::object* h = (*hooks)[i].if_object();
    if (h == nullptr) continue;
    setDefault(*h, "failurePolicy", "Fail");
    setDefault(*h, "matchPolicy", "Equivalent");
    setDefault(*h, "namespaceSelector", json::object());
    setDefault(*h, "objectSelector", json::object());
    setDefault(*h, "timeoutSeconds", 10);
    if (mutating) setDefault(*h, "reinvocationPolicy", "Never");
    if (json::array* rules = getArrMut(*h, "rules")) {
      for (auto& r : *rules)
        if (r.is_object()) setDefault(r.get_object(), "scope", "*");
    }
    if (json::object* cc = getObjMut(*h, "clientConfig")) {
      if (json::object* svc = getObjMut(*cc, "service")) setDefault(*svc, "port", 443);
    }
  }
}

void validateRule(const json::object& r, const std::string& p, FieldErrors& errs) {
  for (std::string_view f : {"operations", "apiGroups", "apiVersions", "resources"}) {
    const json::array* a = getArr(r, f);
    if (a == nullptr || a->empty()) addRequired(errs, child(p, f));
  }
  if (const json::array* ops = getArr(r, "operations")) {
    for (size_t j = 0; j < ops->size(); ++j) {
      std::string_view op = (*ops)[j].is_string() ? std::string_view((*ops)[j].get_string()) : "";
      static const std::vector<std::string> kOps = {"*", "CONNECT", "CREATE", "DELETE", "UPDATE"};
      if (std::find(kOps.begin(), kOps.end(), op) == kOps.end()) {
        addNotSupported(errs, index(child(p, "operations"), j), goQuote(op), kOps);
      }
    }
  }
  requireEnum(r, "scope", child(p, "scope"), {"*", "Cluster", "Namespaced"}, errs, false);
}

// matchConditions (upstream's validateMatchConditions): at most 64, each a qualified name unique
// in the webhook and a CEL expression that compiles and evaluates to bool.
void validateMatchConditions(const json::array& conds, const std::string& p, FieldErrors& errs) {
  if (conds.size() > cel::kMaxMatchConditions) {
    addTooMany(errs, p, conds.size(), cel::kMaxMatchConditions);
  }
  std::set<std::string_view> names;
  for (size_t i = 0; i < conds.size(); ++i) {
    const json::object* c = conds[i].if_object();
    if (c == nullptr) continue;
    std::string cp = index(p, i);
    std::string_view expr = getStr(*c, "expression");
    size_t first = expr.find_first_not_of(" \t\n\r\f\v");
    if (first == std::string_view::npos) {
      addRequired(errs, child(cp, "expression"));
    } else {
      size_t last = expr.find_last_not_of(" \t\n\r\f\v");
      auto compiled = cel::compileMatchCondition(expr.substr(first, last - first + 1));
      if (auto* detail = std::get_if<std::string>(&compiled)) {
        addInvalidStr(errs, child(cp, "expression"), expr, *detail);
      }
    }
    std::string_view name = getStr(*c, "name");
    if (name.empty()) {
      addRequired(errs, child(cp, "name"));
    } else {
      for (const auto& m : isQualifiedName(name)) addInvalidStr(errs, child(cp, "name"), name, m);
    }
    if (!name.empty() && !names.insert(name).second) {
      addDuplicate(errs, child(cp, "name"), goQuote(name));
    }
  }
}

void validateWebhook(const json::object& h, const std::string& p, bool mutating,
                     FieldErrors& errs) {
  std::string_view name = getStr(h, "name");
  if (name.empty()) {
    addRequired(errs, child(p, "name"));
  } else {
    auto msgs = isDns1123Subdomain(name);
    for (const auto& m : msgs) addInvalidStr(errs, child(p, "name"), name, m);
    if (msgs.empty() && std::count(name.begin(), name.end(), '.') < 2) {
      addInvalidStr(errs, child(p, "name"), name,
                    "should be a domain with at least three segments separated by dots");
    }
  }
  const json::object* cc = getObj(h, "clientConfig");
  bool url = cc && hasStr(*cc, "url");
  const json::object* svc = cc ? getObj(*cc, "service") : nullptr;
  if (url == (svc != nullptr)) {
    addRequired(errs, child(p, "clientConfig"), "exactly one of url or service is required");
  }
  if (url && getStr(*cc, "url").substr(0, 8) != "https://") {
    addInvalidStr(errs, child(p, "clientConfig.url"), getStr(*cc, "url"),
                  "'https' is the only allowed URL scheme");
  }
  if (svc != nullptr) {
    std::string sp = child(p, "clientConfig.service");
    if (getStr(*svc, "name").empty())
      addRequired(errs, child(sp, "name"), "service name is required");
    if (getStr(*svc, "namespace").empty())
      addRequired(errs, child(sp, "namespace"), "service namespace is required");
    if (auto port = getInt(*svc, "port"); port && (*port < 1 || *port > 65535)) {
      addInvalidInt(errs, child(sp, "port"), *port,
                    "port is not valid: must be between 1 and 65535, inclusive");
    }
  }
  const json::array* versions = getArr(h, "admissionReviewVersions");
  if (versions == nullptr || versions->empty()) {
    addRequired(errs, child(p, "admissionReviewVersions"), "must specify one of v1, v1beta1");
  }
  requireEnum(h, "sideEffects", child(p, "sideEffects"), {"None", "NoneOnDryRun"}, errs, true);
  requireEnum(h, "failurePolicy", child(p, "failurePolicy"), {"Fail", "Ignore"}, errs, false);
  requireEnum(h, "matchPolicy", child(p, "matchPolicy"), {"Equivalent", "Exact"}, errs, false);
  if (mutating) {
    requireEnum(h, "reinvocationPolicy", child(p, "reinvocationPolicy"), {"IfNeeded", "Never"},
                errs, false);
  }
  if (auto t = getInt(h, "timeoutSeconds"); t && (*t < 1 || *t > 30)) {
    addInvalidInt(errs, child(p, "timeoutSeconds"), *t,
                  "the timeout value must be between 1 and 30 seconds");
  }
  for (std::string_view sel : {"namespaceSelector", "objectSelector"}) {
    if (const json::object* s = getObj(h, sel)) validateLabelSelector(*s, child(p, sel), errs);
  }
  if (const json::array* rules = getArr(h, "rules")) {
    for (size_t j = 0; j < rules->size(); ++j) {
      if (const json::object* r = (*rules)[j].if_object())
        validateRule(*r, index(child(p, "rules"), j), errs);
    }
  }
  if (const json::array* conds = getArr(h, "matchConditions")) {
    validateMatchConditions(*conds, child(p, "matchConditions"), errs);
  }
}

void validateWebhooks(const json::object& obj, bool mutating, FieldErrors& errs) {
  const json::array* hooks = getArr(obj, "webhooks");
  std::vector<std::string_view> names;
  for (size_t i = 0; hooks && i < hooks->size(); ++i) {
    const json::object* h = (*hooks)[i].if_object();
    if (h == nullptr) continue;
    std::string p = index("webhooks", i);
    std::string_view name = getStr(*h, "name");
    if (!name.empty() && std::find(names.begin(), names.end(), name) != names.end()) {
      addDuplicate(errs, child(p, "name"), goQuote(name));
    }
    names.push_back(name);
    validateWebhook(*h, p, mutating, errs);
  }
}

// ---- FlowSchema -------------------------------------------------------------------------------

void flowSchemaDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  if (getInt(spec, "matchingPrecedence").value_or(0) == 0) spec["matchingPrecedence"] = 1000;
}

void flowSchemaValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  const json::object* pl = getObj(spec, "priorityLevelConfiguration");
  if (pl == nullptr || getStr(*pl, "name").empty()) {
    addRequired(errs, "spec.priorityLevelConfiguration.name", "must reference a priority level");
  }
  if (auto mp = getInt(spec, "matchingPrecedence"); mp && (*mp < 1 || *mp > 10000)) {
    addInvalidInt(errs, "spec.matchingPrecedence", *mp, "must be between 1 and 10000, inclusive");
  }
  if (const json::object* dm = getObj(spec, "distinguisherMethod")) {
    requireEnum(*dm, "type", "spec.distinguisherMethod.type", {"ByNamespace", "ByUser"}, errs,
                true);
  }
  const json::array* rules = getArr(spec, "rules");
  for (size_t i = 0; rules && i < rules->size(); ++i) {
    const json::object* r = (*rules)[i].if_object();
    if (r == nullptr) continue;
    std::string p = index("spec.rules", i);
    const json::array* subjects = getArr(*r, "subjects");
    if (subjects == nullptr || subjects->empty()) {
      addRequired(errs, child(p, "subjects"), "subjects must contain at least one value");
    }
    for (size_t j = 0; subjects && j < subjects->size(); ++j) {
      if (const json::object* s = (*subjects)[j].if_object()) {
        requireEnum(*s, "kind", child(index(child(p, "subjects"), j), "kind"),
                    {"Group", "ServiceAccount", "User"}, errs, true);
      }
    }
    const json::array* rr = getArr(*r, "resourceRules");
    const json::array* nr = getArr(*r, "nonResourceRules");
    if ((rr == nullptr || rr->empty()) && (nr == nullptr || nr->empty())) {
      addRequired(errs, p,
                  "at least one of resourceRules and nonResourceRules has to be non-empty");
    }
  }
}

// ---- PriorityLevelConfiguration ---------------------------------------------------------------

void priorityLevelDefaults(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  std::string_view type = getStr(spec, "type");
  if (type == "Limited") {
    json::object& limited = ensureObj(spec, "limited");
    setDefault(limited, "nominalConcurrencyShares", 30);
    setDefault(limited, "lendablePercent", 0);
    if (json::object* lr = getObjMut(limited, "limitResponse")) {
      if (json::object* q = getObjMut(*lr, "queuing")) {
        setDefault(*q, "queues", 64);
        setDefault(*q, "handSize", 8);
        setDefault(*q, "queueLengthLimit", 50);
      }
    }
  } else if (type == "Exempt") {
    json::object& exempt = ensureObj(spec, "exempt");
    setDefault(exempt, "nominalConcurrencyShares", 0);
    setDefault(exempt, "lendablePercent", 0);
  }
}

void priorityLevelValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  requireEnum(spec, "type", "spec.type", {"Exempt", "Limited"}, errs, true);
  std::string_view type = getStr(spec, "type");
  const json::object* limited = getObj(spec, "limited");
  if (type == "Limited" && limited == nullptr) {
    addRequired(errs, "spec.limited", "must not be empty when type is Limited");
  }
  if (type == "Exempt" && limited != nullptr) {
    addForbidden(errs, "spec.limited", "must be nil if the type is not Limited");
  }
  if (limited == nullptr) return;
  if (auto lp = getInt(*limited, "lendablePercent"); lp && (*lp < 0 || *lp > 100)) {
    addInvalidInt(errs, "spec.limited.lendablePercent", *lp,
                  "must be between 0 and 100, inclusive");
  }
  const json::object* lr = getObj(*limited, "limitResponse");
  if (lr == nullptr) {
    addRequired(errs, "spec.limited.limitResponse.type");
    return;
  }
  requireEnum(*lr, "type", "spec.limited.limitResponse.type", {"Queue", "Reject"}, errs, true);
  const json::object* q = getObj(*lr, "queuing");
  if (getStr(*lr, "type") == "Queue" && q == nullptr) {
    addRequired(errs, "spec.limited.limitResponse.queuing",
                "must not be empty if the type is Queue");
  }
  if (getStr(*lr, "type") == "Reject" && q != nullptr) {
    addForbidden(errs, "spec.limited.limitResponse.queuing",
                 "must be nil if limited.limitResponse.type is not Limited");
  }
  if (q != nullptr) {
    auto queues = getInt(*q, "queues"), hand = getInt(*q, "handSize");
    if (queues && *queues <= 0)
      addInvalidInt(errs, "spec.limited.limitResponse.queuing.queues", *queues, "must be positive");
    if (hand && *hand <= 0)
      addInvalidInt(errs, "spec.limited.limitResponse.queuing.handSize", *hand, "must be positive");
    if (queues && hand && *hand > *queues) {
      addInvalidInt(errs, "spec.limited.limitResponse.queuing.handSize", *hand,
                    "should not be greater than queues (" + std::to_string(*queues) + ")");
    }
  }
}

// ---- APIService -------------------------------------------------------------------------------

void apiServiceValidate(const json::object& obj, FieldErrors& errs) {
  const json::object& spec = specOf(obj);
  std::string_view version = getStr(spec, "version");
  std::string_view group = getStr(spec, "group");
  if (version.empty()) addRequired(errs, "spec.version");
  const json::object* meta = getObj(obj, "metadata");
  std::string name(meta != nullptr ? getStr(*meta, "name") : "");
  if (name != std::string(version) + "." + std::string(group)) {
    addInvalidStr(errs, "metadata.name", name, "must be `spec.version+\".\"+spec.group`");
  }
  auto gpm = getInt(spec, "groupPriorityMinimum").value_or(0);
  if (gpm <= 0 || gpm > 20000) {
    addInvalidInt(errs, "spec.groupPriorityMinimum", gpm, "must be positive and less than 20000");
  }
  auto vp = getInt(spec, "versionPriority").value_or(0);
  if (vp <= 0 || vp > 1000) {
    addInvalidInt(errs, "spec.versionPriority", vp, "must be positive and less than 1000");
  }
  if (getBool(spec, "insecureSkipTLSVerify").value_or(false) && !getStr(spec, "caBundle").empty()) {
    addInvalid(errs, "spec.insecureSkipTLSVerify", "true",
               "may not be true if caBundle is present");
  }
  if (const json::object* svc = getObj(spec, "service")) {
    if (getStr(*svc, "name").empty()) addRequired(errs, "spec.service.name");
    if (getStr(*svc, "namespace").empty()) addRequired(errs, "spec.service.namespace");
  }
}

void apiServiceDefaults(json::object& obj) {
  if (json::object* svc = getObjMut(ensureObj(obj, "spec"), "service"))
    setDefault(*svc, "port", 443);
}

}  // namespace

const KindOps* registrationOps(std::string_view group, std::string_view kind) {
  static const KindOps validating = makeOps([](KindOps& o) {
    o.defaults = [](json::object& obj) { webhookDefaults(obj, false); };
    o.validate = [](const json::object& obj, FieldErrors& errs) {
      validateWebhooks(obj, false, errs);
    };
  });
  static const KindOps mutating = makeOps([](KindOps& o) {
    o.defaults = [](json::object& obj) { webhookDefaults(obj, true); };
    o.validate = [](const json::object& obj, FieldErrors& errs) {
      validateWebhooks(obj, true, errs);
    };
  });
  static const KindOps flowSchema = makeOps([](KindOps& o) {
    o.defaults = flowSchemaDefaults;
    o.validate = flowSchemaValidate;
  });
  static const KindOps priorityLevel = makeOps([](KindOps& o) {
    o.defaults = priorityLevelDefaults;
    o.validate = priorityLevelValidate;
  });
  static const KindOps apiService = makeOps([](KindOps& o) {
    o.nameFn = validatePathSegmentName;  // "v1." names the core group
    o.defaults = apiServiceDefaults;
    o.validate = apiServiceValidate;
  });
  if (group == "admissionregistration.k8s.io") {
    if (kind == "ValidatingWebhookConfiguration") return &validating;
    if (kind == "MutatingWebhookConfiguration") return &mutating;
  }
  if (group == "flowcontrol.apiserver.k8s.io") {
    if (kind == "FlowSchema") return &flowSchema;
    if (kind == "PriorityLevelConfiguration") return &priorityLevel;
  }
  if (group == "apiregistration.k8s.io" && kind == "APIService") return &apiService;
  return nullptr;
}

}  // namespace berth::core::kinds::detail
