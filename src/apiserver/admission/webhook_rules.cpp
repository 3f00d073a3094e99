#include "apiserver/admission/webhook_rules.h"

#include "core/json_access.h"

namespace berth::apiserver::admission {

namespace json = boost::json;

namespace {

bool listHas(const json::object& o, std::string_view key, std::string_view want) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return false;
  for (const auto& e : v->as_array()) {
    if (e.is_string() && (e.as_string() == "*" || e.as_string() == want)) return true;
  }
  return false;
}

bool resourceMatches(std::string_view entry, const RequestTarget& t) {
  auto slash = entry.find('/');
  if (slash == std::string_view::npos) {
    return t.subresource.empty() && (entry == "*" || entry == t.resource);
  }
  std::string_view res = entry.substr(0, slash), sub = entry.substr(slash + 1);
  return (res == "*" || res == t.resource) && (sub == "*" || sub == t.subresource);
}

// A metav1.LabelSelector field: absent or empty matches everything, malformed nothing.
bool selectorMatches(const json::object& webhook, std::string_view key,
                     const core::Labels& labels) {
  const json::object* sel = core::objectField(webhook, key);
  if (!sel) return true;
  auto parsed = core::LabelSelector::fromJson(*sel);
  return parsed.ok() && parsed->matches(labels);
}

}  // namespace

bool ruleMatches(const json::object& rule, const RequestTarget& t) {
  if (!listHas(rule, "operations", operationName(t.operation))) return false;
  if (!listHas(rule, "apiGroups", t.group) || !listHas(rule, "apiVersions", t.version)) {
    return false;
  }
  auto* resources = rule.if_contains("resources");
  bool any = false;
  if (resources && resources->is_array()) {
    for (const auto& r : resources->as_array())
      any = any || (r.is_string() && resourceMatches(r.as_string(), t));
  }
  if (!any) return false;
  std::string scope = core::stringField(rule, "scope");
  if (scope == "Cluster") return !t.namespaced;
  if (scope == "Namespaced") return t.namespaced;
  return true;  // "*" or unset
}

bool rulesMatch(const json::object& webhook, const RequestTarget& t) {
  auto* rules = webhook.if_contains("rules");
  if (!rules || !rules->is_array()) return false;
  for (const auto& r : rules->as_array()) {
    if (r.is_object() && ruleMatches(r.as_object(), t)) return true;
  }
  return false;
}

bool namespaceSelectorMatches(const json::object& webhook, const RequestTarget& t,
                              const std::optional<core::Labels>& namespaceLabels) {
  bool isNamespace = t.group.empty() && t.resource == "namespaces";
  if (!t.namespaced && !isNamespace) return true;
  return selectorMatches(webhook, "namespaceSelector", namespaceLabels.value_or(core::Labels()));
}

bool objectSelectorMatches(const json::object& webhook, const json::object* object,
                           const json::object* oldObject) {
  const json::object* sel = core::objectField(webhook, "objectSelector");
  if (!sel || sel->empty()) return true;
  for (const json::object* o : {object, oldObject}) {
    if (o && selectorMatches(webhook, "objectSelector", core::labelsOf(*o))) return true;
  }
  return false;
}

}  // namespace berth::apiserver::admission
