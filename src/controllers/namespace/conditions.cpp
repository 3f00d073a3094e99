#include "controllers/namespace/conditions.h"

#include <boost/json.hpp>

#include "core/json_access.h"

namespace berth::controllers::ns {

namespace json = boost::json;

namespace {

struct Condition {
  std::string type, status, reason, message;
};

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// The five conditions in upstream's order, failure or ok variant each.
std::vector<Condition> conditionsFor(const DeletionReport& r) {
  std::vector<Condition> out;
  if (!r.discoveryFailures.empty()) {
    out.push_back({"NamespaceDeletionDiscoveryFailure", "True", "DiscoveryFailed",
                   "Discovery failed for some groups, " +
                       std::to_string(r.discoveryFailures.size()) +
                       " failing: unable to retrieve the complete list of server APIs: " +
                       join(r.discoveryFailures)});
  } else {
    out.push_back({"NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered",
                   "All resources successfully discovered"});
  }
  // Berth parses group versions itself; the failure variant cannot arise.
  out.push_back({"NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions",
                 "All legacy kube types successfully parsed"});
  if (!r.contentErrors.empty()) {
    out.push_back({"NamespaceDeletionContentFailure", "True", "ContentDeletionFailed",
                   "Failed to delete all resource types, " +
                       std::to_string(r.contentErrors.size()) +
                       " remaining: " + join(r.contentErrors)});
  } else {
    out.push_back({"NamespaceDeletionContentFailure", "False", "ContentDeleted",
                   "All content successfully deleted, may be waiting on finalization"});
  }
  std::vector<std::string> resources, finalizers;
  for (const auto& [res, n] : r.remainingByResource)
    if (n > 0) resources.push_back(res + " has " + std::to_string(n) + " resource instances");
  for (const auto& [f, n] : r.remainingByFinalizer)
    if (n > 0) finalizers.push_back(f + " in " + std::to_string(n) + " resource instances");
  if (!resources.empty()) {
    out.push_back({"NamespaceContentRemaining", "True", "SomeResourcesRemain",
                   "Some resources are remaining: " + join(resources)});
  } else {
    out.push_back({"NamespaceContentRemaining", "False", "ContentRemoved",
                   "All content successfully removed"});
  }
  if (!finalizers.empty()) {
    out.push_back({"NamespaceFinalizersRemaining", "True", "SomeFinalizerRemain",
                   "Some finalizers are remaining: " + join(finalizers)});
  } else {
    out.push_back({"NamespaceFinalizersRemaining", "False", "ContentRemoved",
                   "All content successfully removed"});
  }
  return out;
}

}  // namespace

bool updateConditions(json::object& ns, const DeletionReport& report, const std::string& now) {
  auto& statusV = ns["status"];
  if (!statusV.is_object()) statusV = json::object();
  auto& condsV = statusV.as_object()["conditions"];
  if (!condsV.is_array()) condsV = json::array();
  auto& conds = condsV.as_array();
  bool changed = false;
  for (const auto& c : conditionsFor(report)) {
    json::object* old = nullptr;
    for (auto& v : conds)
      if (v.is_object() && core::stringField(v.as_object(), "type") == c.type) old = &v.as_object();
    if (!old) {
      conds.push_back(json::object{{"type", c.type},
                                   {"status", c.status},
                                   {"lastTransitionTime", now},
                                   {"reason", c.reason},
                                   {"message", c.message}});
      changed = true;
      continue;
    }
    if (core::stringField(*old, "status") == c.status &&
        core::stringField(*old, "reason") == c.reason &&
        core::stringField(*old, "message") == c.message)
      continue;
    if (core::stringField(*old, "status") != c.status) (*old)["lastTransitionTime"] = now;
    (*old)["status"] = c.status;
    (*old)["reason"] = c.reason;
    (*old)["message"] = c.message;
    changed = true;
  }
  return changed;
}

}  // namespace berth::controllers::ns
