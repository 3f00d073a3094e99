#include "apiserver/authz/rbac_rules.h"

#include <boost/json.hpp>

#include <algorithm>

namespace berth::apiserver::authz {
namespace json = boost::json;
namespace {

constexpr std::string_view kAll = "*";

bool has(const std::vector<std::string>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

json::array toArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

bool verbMatches(const PolicyRule& r, std::string_view verb) {
  return has(r.verbs, kAll) || has(r.verbs, verb);
}

bool groupMatches(const PolicyRule& r, std::string_view group) {
  return has(r.apiGroups, kAll) || has(r.apiGroups, group);
}

bool resourceMatches(const PolicyRule& r, std::string_view combined, std::string_view sub) {
  for (const auto& res : r.resources) {
    if (res == kAll || res == combined) return true;
    // "*/scale" matches the scale subresource of any resource.
    if (!sub.empty() && res.size() == sub.size() + 2 && res.compare(0, 2, "*/") == 0 &&
        std::string_view(res).substr(2) == sub)
      return true;
  }
  return false;
}

bool nameMatches(const PolicyRule& r, std::string_view name) {
  return r.resourceNames.empty() || has(r.resourceNames, name);
}

bool urlMatches(const PolicyRule& r, std::string_view path) {
  for (const auto& u : r.nonResourceURLs) {
    if (u == kAll || u == path) return true;
    if (!u.empty() && u.back() == '*' && path.substr(0, u.size() - 1) == u.substr(0, u.size() - 1))
      return true;
  }
  return false;
}

// One owner rule covers one atomic servant rule (a single verb, group, resource, name or URL).
bool ruleCovers(const PolicyRule& owner, const PolicyRule& s) {
  if (!verbMatches(owner, s.verbs[0])) return false;
  if (!s.nonResourceURLs.empty()) {
    const std::string& url = s.nonResourceURLs[0];
    for (const auto& u : owner.nonResourceURLs) {
      if (u == kAll || u == url) return true;
      // A prefix rule covers a narrower prefix or a path under it.
      if (!u.empty() && u.back() == '*' && url.compare(0, u.size() - 1, u, 0, u.size() - 1) == 0)
        return true;
    }
    return false;
  }
  if (!groupMatches(owner, s.apiGroups[0])) return false;
  const std::string& res = s.resources[0];
  bool resourceOk = has(owner.resources, kAll) || has(owner.resources, res);
  if (!resourceOk) {
    size_t slash = res.find('/');
    if (slash != std::string::npos) {
      std::string sub = res.substr(slash + 1);
      resourceOk = has(owner.resources, "*/" + sub) || has(owner.resources, res.substr(0, slash) + "/*");
    }
  }
  if (!resourceOk) return false;
  if (owner.resourceNames.empty()) return true;
  return !s.resourceNames.empty() && has(owner.resourceNames, s.resourceNames[0]);
}

// Upstream BreakdownRule: one rule per verb × group × resource × name (or verb × URL).
std::vector<PolicyRule> breakdown(const PolicyRule& r) {
  std::vector<PolicyRule> out;
  for (const auto& verb : r.verbs) {
    for (const auto& g : r.apiGroups) {
      for (const auto& res : r.resources) {
        if (r.resourceNames.empty()) {
          out.push_back(PolicyRule{{verb}, {g}, {res}, {}, {}});
        } else {
          for (const auto& n : r.resourceNames) out.push_back(PolicyRule{{verb}, {g}, {res}, {n}, {}});
        }
      }
    }
    for (const auto& u : r.nonResourceURLs) out.push_back(PolicyRule{{verb}, {}, {}, {}, {u}});
  }
  return out;
}

void appendList(std::string& out, std::string_view label, const std::vector<std::string>& v) {
  if (v.empty()) return;
  if (out.size() > 1) out += ", ";
  out += label;
  out += ":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += "\"" + v[i] + "\"";
  }
  out += "]";
}

}  // namespace

PolicyRule PolicyRule::fromJson(const json::object& rule) {
  return PolicyRule{strings(rule, "verbs"), strings(rule, "apiGroups"), strings(rule, "resources"),
                    strings(rule, "resourceNames"), strings(rule, "nonResourceURLs")};
}

json::object PolicyRule::toJson() const {
  json::object o;
  o["verbs"] = toArray(verbs);
  if (!apiGroups.empty()) o["apiGroups"] = toArray(apiGroups);
  if (!resources.empty()) o["resources"] = toArray(resources);
  if (!resourceNames.empty()) o["resourceNames"] = toArray(resourceNames);
  if (!nonResourceURLs.empty()) o["nonResourceURLs"] = toArray(nonResourceURLs);
  return o;
}

std::vector<PolicyRule> rulesOf(const json::object& role) {
  std::vector<PolicyRule> out;
  const json::value* rules = role.if_contains("rules");
  if (rules == nullptr || !rules->is_array()) return out;
  for (const auto& r : rules->as_array())
    if (r.is_object()) out.push_back(PolicyRule::fromJson(r.as_object()));
  return out;
}

bool ruleAllows(const PolicyRule& r, const Attributes& a) {
  if (!a.resourceRequest) return verbMatches(r, a.verb) && urlMatches(r, a.path);
  if (!verbMatches(r, a.verb) || !groupMatches(r, a.apiGroup)) return false;
  if (a.subresource.empty()) {
    if (!resourceMatches(r, a.resource, "")) return false;
  } else {
    std::string combined = a.resource + "/" + a.subresource;
    if (!resourceMatches(r, combined, a.subresource)) return false;
  }
  return nameMatches(r, a.name);
}

bool rulesAllow(const std::vector<PolicyRule>& rules, const Attributes& a) {
  for (const auto& r : rules)
    if (ruleAllows(r, a)) return true;
  return false;
}

bool covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered) {
  bool all = true;
  for (const auto& s : servant) {
    for (auto& atom : breakdown(s)) {
      bool ok = std::any_of(owner.begin(), owner.end(),
                            [&](const PolicyRule& o) { return ruleCovers(o, atom); });
      if (ok) continue;
      all = false;
      if (uncovered == nullptr) return false;
      uncovered->push_back(std::move(atom));
    }
  }
  return all;
}

std::string compactString(const PolicyRule& r) {
  std::string out = "{";
  appendList(out, "APIGroups", r.apiGroups);
  appendList(out, "Resources", r.resources);
  appendList(out, "ResourceNames", r.resourceNames);
  appendList(out, "NonResourceURLs", r.nonResourceURLs);
  appendList(out, "Verbs", r.verbs);
  return out + "}";
}

}  // namespace berth::apiserver::authz
